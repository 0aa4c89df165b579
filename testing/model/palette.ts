/**
 * Which events the model offers in a state, with payloads that let every guard branch: LOADED with
 * several token metas, CHECK and REFRESH (forced or not) at each moment a guard compares against and
 * the millisecond before it, UNLOAD, WAIT, the next timer, and the refresh's answers.
 */
import type { AnyMachineSnapshot } from 'xstate';
import * as rules from '../../machines/lifecycle/machine-rules.js';
import type { TokenMachineContext, TokenMeta } from '../../machines/lifecycle/machine-types.js';
import { DONE, ERROR, type DoneEvent, type ErrorEvent, type ModelEvent } from './events.js';
import { HOUR, ISSUED_LIFETIME_MS, leafOf, MINUTE, nextTimer, RETRY_AFTER_MS, SECOND } from './machine.js';

/** LOADED token metas, relative to the load (now = 0). */
export const METAS: Readonly<Record<string, Omit<TokenMeta, 'version'>>> = {
  fresh: { hasAccessToken: true, hasRefreshToken: true, obtainedAt: 0, expiresAt: HOUR },
  freshNoRefreshToken: { hasAccessToken: true, hasRefreshToken: false, obtainedAt: 0, expiresAt: HOUR },
  noExpiry: { hasAccessToken: true, hasRefreshToken: true, obtainedAt: 0 },
  inWindow: { hasAccessToken: true, hasRefreshToken: true, obtainedAt: -58 * MINUTE, expiresAt: 2 * MINUTE },
  expired: { hasAccessToken: true, hasRefreshToken: true, obtainedAt: -61 * MINUTE, expiresAt: -MINUTE },
  expiredNoRefreshToken: { hasAccessToken: true, hasRefreshToken: false, obtainedAt: -61 * MINUTE, expiresAt: -MINUTE },
  rejectedValid: { hasAccessToken: true, hasRefreshToken: true, obtainedAt: -30 * MINUTE, expiresAt: 30 * MINUTE, rejection: 'invalid_grant' },
  rejectedExpired: { hasAccessToken: true, hasRefreshToken: true, obtainedAt: -61 * MINUTE, expiresAt: -MINUTE, rejection: 'invalid_grant' },
  retryPending: { hasAccessToken: true, hasRefreshToken: true, obtainedAt: -58 * MINUTE, expiresAt: 2 * MINUTE, retryAt: 30 * SECOND },
  retryPendingExpired: { hasAccessToken: true, hasRefreshToken: true, obtainedAt: -61 * MINUTE, expiresAt: -MINUTE, retryAt: 30 * SECOND },
};

/** What an abandoned request answers: tokens, a rejection of the old refresh token, or an outage. */
export const STALE_ANSWERS = ['ok', 'invalid_grant', 'refresh_failed'] as const;
export type StaleAnswer = (typeof STALE_ANSWERS)[number];

/** `setToken` stamps `obtainedAt` with its own time and cannot carry a rejection or a retryAt. */
export function settable(meta: TokenMeta): boolean {
  return meta.obtainedAt === 0 && meta.rejection === undefined && meta.retryAt === undefined && meta.hasAccessToken;
}

function moments(context: TokenMachineContext): Array<[string, number]> {
  const token = context.token;
  const allowedAt = context.lastRefreshStartedAt === undefined ? undefined : context.lastRefreshStartedAt + context.minIntervalMs;
  return Object.entries({ exp: token?.expiresAt, refreshAt: rules.refreshMoment(context), retryAt: token?.retryAt, allowedAt }).filter(
    (e): e is [string, number] => e[1] !== undefined && Number.isFinite(e[1]),
  );
}

/**
 * Times (relative to now = 0) at which the model lets a caller act, by label: now, and each moment a
 * guard compares against (expiry, refresh moment, retry moment, end of the minimum interval) and the
 * millisecond before it (inclusive boundaries); all strictly before the next enabled timer, which
 * would fire first.
 */
export function callerTimes(snapshot: AnyMachineSnapshot): Array<[string, number]> {
  const limit = nextTimer(snapshot)?.ms ?? Number.POSITIVE_INFINITY;
  const times: Array<[string, number]> = [['now', 0]];
  for (const [name, m] of moments(snapshot.context as TokenMachineContext)) {
    times.push([`${name}-1`, m - 1], [name, m]);
  }
  return times.filter(([, t]) => t > 0 && t < limit || t === 0);
}

/** Where time may be let pass: the caller times ahead, or an hour past every moment when no timer is armed. */
function waitTimes(snapshot: AnyMachineSnapshot): Array<[string, number]> {
  const times = callerTimes(snapshot).filter(([, t]) => t > 0);
  if (!nextTimer(snapshot)) {
    const last = Math.max(0, ...moments(snapshot.context as TokenMachineContext).map(([, m]) => m));
    times.push(['later', last + HOUR]);
  }
  return times;
}

function refreshOutcomes(context: TokenMachineContext): Array<DoneEvent | ErrorEvent> {
  const token = context.token;
  if (!token) return [];
  const version = token.version + 1;
  const { rejection: _r, retryAt: _t, ...base } = token;
  // The scripted endpoint answers a fresh, rotated token; `obtainedAt` is when the request was sent (R12).
  const fresh: TokenMeta = { hasAccessToken: true, hasRefreshToken: true, obtainedAt: 0, expiresAt: ISSUED_LIFETIME_MS, version };
  const out: Array<DoneEvent | ErrorEvent> = [{ type: DONE, label: 'done', output: { startedAt: 0, at: 0, token: fresh } }];
  const failureTimes: Array<[string, number]> = [['now', 0]];
  if (token.expiresAt !== undefined && token.expiresAt > 0) failureTimes.push(['exp', token.expiresAt]);
  for (const [when, at] of failureTimes) {
    out.push({
      type: ERROR,
      label: `error:permanent@${when}`,
      error: { startedAt: 0, at, kind: 'permanent', code: 'invalid_grant', token: { ...base, rejection: 'invalid_grant', version } },
    });
    // Retry before or after the old token's expiry ("Retry-After" sets it, backoff is constant).
    const retryTimes: Array<[string, number]> = [['+30s', at + RETRY_AFTER_MS]];
    if (token.expiresAt !== undefined && token.expiresAt > at) retryTimes.push(['exp+30s', token.expiresAt + RETRY_AFTER_MS]);
    for (const [retry, retryAt] of retryTimes) {
      out.push({
        type: ERROR,
        label: `error:transient@${when}:retry@${retry}`,
        error: { startedAt: 0, at, kind: 'transient', code: 'refresh_failed', retryAt, token: { ...base, retryAt, version } },
      });
    }
  }
  return out;
}

/** Every event the model may take in a state, with payloads that let every guard branch. */
export function modelEvents(snapshot: AnyMachineSnapshot): ModelEvent[] {
  const context = snapshot.context as TokenMachineContext;
  const leaf = leafOf(snapshot.value);
  const timer = nextTimer(snapshot);
  if (timer?.ms === 0) return [timer.event];
  const out: ModelEvent[] = [];
  const version = (context.token?.version ?? 0) + 1;
  // Leaving `refreshing` abandons the request in flight; whatever it answers later must not matter,
  // so each way out comes once per answer (the machine no longer listens: same model transition).
  const abandoned = leaf === 'refreshing' ? STALE_ANSWERS.map((answer) => `|stale:${answer}`) : [''];
  for (const [meta, values] of Object.entries(METAS)) {
    const token: TokenMeta = { ...values, version };
    // While refreshing, storage changes are ignored (the refresh decides): only setToken loads then.
    if (leaf === 'refreshing' && !settable(token)) continue;
    for (const stale of abandoned) out.push({ type: 'LOADED', label: `LOADED:${meta}${stale}`, now: 0, token, meta });
  }
  for (const stale of abandoned) out.push({ type: 'UNLOAD', label: `UNLOAD${stale}`, now: 0 });
  for (const [when, now] of callerTimes(snapshot)) {
    out.push({ type: 'CHECK', label: `CHECK@${when}`, now });
    out.push({ type: 'REFRESH', label: `REFRESH(force)@${when}`, now, force: true });
    out.push({ type: 'REFRESH', label: `REFRESH@${when}`, now, force: false });
  }
  // Not while refreshing: the request's answer is stamped relative to its start (see refreshOutcomes).
  if (leaf !== 'refreshing') for (const [when, now] of waitTimes(snapshot)) out.push({ type: 'WAIT', label: `WAIT@${when}`, now });
  if (timer) out.push(timer.event);
  if (leaf === 'refreshing') out.push(...refreshOutcomes(context));
  return out;
}
