/**
 * The test model of `tokenMachine` (recipes/xstate.md, "Model-based tests"). `createTestModel`
 * refuses `after` and `invoke`, so the model is derived from the real config: each `after` becomes an
 * `on` transition keyed by the internal event the real actor raises (`xstate.after.<delay>.<id>`), and
 * the invoke's onDone/onError become `xstate.done.actor.refresh` / `xstate.error.actor.refresh`.
 * The real guards and actions are kept (`tokenMachine.implementations`, or a mutant's).
 *
 * Time: every model state is normalised so that "now" is 0 (a `normalizeTime` action shifts the
 * times in context by the event's time after the transition). Events carry times relative to the
 * moment the current state was entered, so a path is a sequence of delays the driver can replay on a
 * SimulatedClock. The guards compare differences of times, so the shift changes no decision.
 * State keys abstract the remaining times to their order (see `abstractContext`), which keeps the
 * graph small (about 65 states).
 */
import { assign, createMachine, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import { tokenDelays, tokenMachine } from '../../machines/lifecycle/machine.js';
import * as rules from '../../machines/lifecycle/machine-rules.js';
import type { TokenMachineContext, TokenMachineInput, TokenMeta } from '../../machines/lifecycle/machine-types.js';
import { AFTER_PREFIX, delayOf, type AfterEvent } from './events.js';

export const KEY = 'k';
export const SECOND = 1_000;
export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const THRESHOLD_MS = 5 * MINUTE;
export const MIN_INTERVAL_MS = 2_000;
/** The driver's manager uses a constant backoff of 1 s, so `retryAt - at = max(retryAfter, minInterval)`. */
export const RETRY_POLICY = { minDelayMs: SECOND, maxDelayMs: SECOND, factor: 1, jitter: 0 } as const;
/** Lifetime of every token the scripted endpoint issues (its default `expires_in`). */
export const ISSUED_LIFETIME_MS = HOUR;
/** How far a transient failure's `retryAt` lies after the failure (or after the old token's expiry). */
export const RETRY_AFTER_MS = 30 * SECOND;

export function modelInput(backgroundRefresh: boolean): TokenMachineInput {
  return {
    key: KEY,
    thresholdMs: THRESHOLD_MS,
    jitterFraction: 0,
    minIntervalMs: MIN_INTERVAL_MS,
    backgroundRefresh,
    canRenewWithoutRefreshToken: false,
    retry: RETRY_POLICY,
  };
}

// ---------------------------------------------------------------------------------------------
// Deriving the model machine from the real config

type TransitionObject = { target?: string; guard?: unknown; actions?: unknown; [k: string]: unknown };
type StateConfig = {
  on?: Record<string, unknown>;
  after?: Record<string, unknown>;
  invoke?: unknown;
  always?: unknown;
  states?: Record<string, StateConfig>;
  [k: string]: unknown;
};

function asArray<T>(value: T | readonly T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? [...(value as readonly T[])] : [value as T];
}

/** Appends `normalizeTime` to a transition unless it enters `evaluating` (whose `always` does it). */
function withNormalize(transition: unknown): TransitionObject[] {
  return asArray<TransitionObject | string>(transition as TransitionObject | string).map((t) => {
    const object: TransitionObject = typeof t === 'string' ? { target: t } : { ...t };
    const targets = asArray(object.target as string | string[] | undefined);
    if (targets.some((target) => target.endsWith('evaluating'))) return object;
    return { ...object, actions: [...asArray(object.actions), 'normalizeTime'] };
  });
}

/** The recipe's `toModelConfig`, plus time normalisation on every transition. */
export function toModelConfig(cfg: StateConfig, id: string, path: string[] = []): StateConfig {
  const { after, invoke, states, always, on: ownOn, ...rest } = cfg;
  const on: Record<string, unknown> = {};
  for (const [event, t] of Object.entries(ownOn ?? {})) on[event] = withNormalize(t);
  const nodeId = [id, ...path].join('.');
  for (const [delay, t] of Object.entries(after ?? {})) on[`${AFTER_PREFIX}${delay}.${nodeId}`] = withNormalize(t);
  for (const inv of asArray(invoke as { id?: string; onDone?: unknown; onError?: unknown } | undefined)) {
    if (inv.onDone) on[`xstate.done.actor.${inv.id}`] = withNormalize(inv.onDone);
    if (inv.onError) on[`xstate.error.actor.${inv.id}`] = withNormalize(inv.onError);
  }
  const out: StateConfig = { ...rest, on };
  if (always !== undefined) {
    out.always = asArray<TransitionObject>(always as TransitionObject).map((t) => ({ ...t, actions: [...asArray(t.actions), 'normalizeTime'] }));
  }
  if (states) {
    out.states = Object.fromEntries(Object.entries(states).map(([k, v]) => [k, toModelConfig(v, id, [...path, k])]));
  }
  return out;
}

function shift(value: number | undefined, by: number): number | undefined {
  return value === undefined ? undefined : value - by;
}

/** Moves the context's time origin to the event's time: afterwards "now" is 0 again. */
const normalizeTime = assign(({ context, event }: { context: TokenMachineContext; event: { type: string } }) => {
  const by = delayOf(event);
  const token = context.token;
  const shifted: TokenMeta | undefined = token && {
    ...token,
    obtainedAt: token.obtainedAt - by,
    ...(token.expiresAt === undefined ? {} : { expiresAt: token.expiresAt - by }),
    ...(token.retryAt === undefined ? {} : { retryAt: token.retryAt - by }),
  };
  return {
    token: shifted,
    lastRefreshStartedAt: shift(context.lastRefreshStartedAt, by),
    lastRefreshAt: shift(context.lastRefreshAt, by),
  };
});

/** The model machine: the real config and implementations (or a mutant's), without after/invoke. */
export function createModelMachine(source: AnyStateMachine = tokenMachine): AnyStateMachine {
  const derived = toModelConfig(source.config as unknown as StateConfig, 'token');
  const config = { ...derived, on: { ...derived.on, WAIT: { actions: 'normalizeTime' } } };
  const impl = source.implementations as unknown as { actions: Record<string, unknown>; guards: Record<string, unknown> };
  const implementations = { ...impl, actions: { ...impl.actions, normalizeTime } };
  return createMachine(config as never, implementations as never);
}

// ---------------------------------------------------------------------------------------------
// Which after-timers each (leaf) state arms, read from the real config

export interface TimerSpec {
  readonly delay: string;
  readonly type: AfterEvent['type'];
}

function collectTimers(cfg: StateConfig, path: string[], out: Map<string, TimerSpec[]>): void {
  const nodeId = ['token', ...path].join('.');
  const timers = Object.keys(cfg.after ?? {}).map((delay) => ({ delay, type: `${AFTER_PREFIX}${delay}.${nodeId}` as const }));
  if (path.length > 0) out.set(path.join('.'), timers);
  for (const [k, v] of Object.entries(cfg.states ?? {})) collectTimers(v, [...path, k], out);
}

export const TIMERS: ReadonlyMap<string, TimerSpec[]> = (() => {
  const out = new Map<string, TimerSpec[]>();
  collectTimers(tokenMachine.config as unknown as StateConfig, [], out);
  return out;
})();

/** Delay functions evaluated at the normalised "now" (0). */
const DELAYS = tokenDelays(() => 0) as Record<string, (args: { context: TokenMachineContext }) => number>;

/** `'valid'`, `'degraded.retrying'`, ... */
export function leafOf(value: unknown): string {
  if (typeof value === 'string') return value;
  const [state, sub] = Object.entries(value as Record<string, unknown>)[0] ?? ['?', undefined];
  return sub === undefined ? state : `${state}.${leafOf(sub)}`;
}

export interface ArmedTimer {
  readonly event: AfterEvent;
  readonly ms: number;
}

/** The after-timers of the state whose guard lets them through, with the delay the real actor uses. */
export function enabledTimers(snapshot: AnyMachineSnapshot): ArmedTimer[] {
  const context = snapshot.context as TokenMachineContext;
  const out: ArmedTimer[] = [];
  for (const spec of TIMERS.get(leafOf(snapshot.value)) ?? []) {
    const delayFn = DELAYS[spec.delay];
    if (!delayFn) throw new Error(`unknown delay ${spec.delay}`);
    const ms = delayFn({ context });
    if (!Number.isFinite(ms)) continue;
    const event: AfterEvent = { type: spec.type, now: ms, delay: spec.delay, label: `after:${spec.delay}` };
    if (snapshot.can(event as never)) out.push({ event, ms });
  }
  return out;
}

/**
 * The earliest enabled timer: no other event can happen at or after it (the real timer fires first).
 * A tie (only `degraded.retrying`: retry due at the expiry instant) goes to the timer defined first;
 * either order ends in `refreshing` once the zero-delay follow-up has fired, which is all the driver
 * observes.
 */
export function nextTimer(snapshot: AnyMachineSnapshot): ArmedTimer | undefined {
  let first: ArmedTimer | undefined;
  for (const timer of enabledTimers(snapshot)) if (!first || timer.ms < first.ms) first = timer;
  return first;
}

/** A state the real actor leaves at once (a zero-delay timer): not observable through the manager. */
export function isTransient(snapshot: AnyMachineSnapshot): boolean {
  return nextTimer(snapshot)?.ms === 0;
}

// ---------------------------------------------------------------------------------------------
// State keys

/**
 * A bounded abstraction of the normalised context (a region, as for timed automata): the flags, and
 * the order of the moments still ahead (expiry, refresh moment, retry moment, end of the minimum
 * interval). Which events a state offers depends only on that order. The distances do not enter the
 * key (an exact key did not stay finite: 20 000 states and counting), so a state's representative
 * may differ from the concrete state a path reaches: the driver replays every path on a concrete
 * model beside the manager, follows the events by label, and checks each step lands in the state the
 * path predicted (it always does today).
 */
export function abstractContext(context: TokenMachineContext): unknown {
  const token = context.token;
  const allowedAt = context.lastRefreshStartedAt === undefined ? undefined : context.lastRefreshStartedAt + context.minIntervalMs;
  const ahead = Object.entries({ exp: token?.expiresAt, refreshAt: rules.refreshMoment(context), retryAt: token?.retryAt, allowedAt })
    .filter((e): e is [string, number] => e[1] !== undefined && e[1] > 0 && Number.isFinite(e[1]))
    .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]));
  const order = ahead.map(([name, at], i) => (i === 0 ? name : `${at === ahead[i - 1]?.[1] ? '=' : '<'}${name}`)).join('');
  return {
    token: token && {
      at: token.hasAccessToken,
      rt: token.hasRefreshToken,
      rejection: token.rejection ?? null,
      expiry: token.expiresAt === undefined ? 'never' : token.expiresAt > 0 ? 'ahead' : 'past',
    },
    order,
    reason: context.reason ?? null,
  };
}

export function serializeModelState(snapshot: AnyMachineSnapshot): string {
  return JSON.stringify([snapshot.value, abstractContext(snapshot.context as TokenMachineContext)]);
}
