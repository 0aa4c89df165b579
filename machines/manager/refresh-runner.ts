/**
 * One refresh of one credential, as the machine's `refreshTokens` actor runs it: cross-process lock
 * and adoption (R7), the endpoint call, validation (R12), rotation and persistence (R4), and the
 * classification of failures (R5, R6). Token values stay in the credential's vault; the machine
 * gets metadata only (R13).
 */
import { classifyFailure, type FailureClass } from '../lifecycle/classify.js';
import { unrefTimer } from '../lifecycle/clock.js';
import { createHeldLocks, STOPPED_LEASE_MS } from './held-locks.js';
import { metaOf, type Credential } from './credential.js';
import { oauthError, RefreshFailedError, RefreshTokenMissingError, StorageFailedError, StoppedError, TokenLifecycleError } from '../lifecycle/errors.js';
import type { RefreshFailure, RefreshInput, RefreshOutput } from '../lifecycle/machine-types.js';
import { adoptStored, commitRecord, flushPending, reconcileStored } from './persistence.js';
import { isExpired, needsRefresh } from '../lifecycle/refresh-policy.js';
import { checkTokenResponse, type ValidTokens } from '../lifecycle/token-response.js';
import { failureOutcome, reportFailure, retryAtFor, withSafeCode } from './refresh-failure.js';
import type { ManagerRuntime } from './runtime.js';
import type { StorageLock, TokenRecord } from '../lifecycle/types.js';

const LOCK_POLL_MS = 50;
const LOCK_POLL_MAX_MS = 250;
/**
 * A refresh marker is fresh (its holder may be mid-request) for this many leases after `since`. The
 * lease is the lock TTL, or the short lease a holder runs on once its manager stopped: we cannot
 * tell which, so the shorter counts. A live holder that is not stopped keeps its lock for a whole
 * TTL, so with a long TTL we only get the lock past the window anyway; with a short one (a starved
 * holder whose lease lapsed mid-request) the window still covers two lapses (docs/fleet.md).
 */
const MARKER_FRESH_LEASES = 2;

/** A tiny semaphore for `maxConcurrentRefreshes`. */
export function createLimiter(max: number): () => Promise<() => void> {
  let running = 0;
  const queue: Array<() => void> = [];
  const release = (): void => {
    running--;
    const next = queue.shift();
    if (next) {
      running++;
      next();
    }
  };
  return () => {
    if (running < max) {
      running++;
      return Promise.resolve(release);
    }
    return new Promise((resolve) => queue.push(() => resolve(release)));
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => unrefTimer(setTimeout(resolve, ms)));
}

/** The token values a credential holds: redacted by value from the failures it keeps (R13). */
function secretsOf(...records: Array<TokenRecord | undefined>): string[] {
  return records.flatMap((r) => (r ? [r.accessToken, r.refreshToken, r.idToken] : [])).filter((v): v is string => !!v);
}

/** A timed-out refresh kept for its answer (R4): the refresh token it spent, and when it was sent. */
interface LateAnswer {
  readonly spent: string;
  readonly sentAt: number;
  readonly answer: Promise<unknown>;
}

/** The record a successful refresh makes of its checked tokens (R4: no refresh token returned keeps ours). */
function recordOf(t: ValidTokens, base: TokenRecord | undefined, refreshToken: string | undefined): TokenRecord {
  return {
    accessToken: t.accessToken,
    tokenType: t.tokenType,
    obtainedAt: t.obtainedAt,
    ...(t.expiresAt === undefined ? {} : { expiresAt: t.expiresAt }),
    ...(t.refreshToken ?? refreshToken ? { refreshToken: (t.refreshToken ?? refreshToken) as string } : {}),
    ...(t.scope ?? base?.scope ? { scope: (t.scope ?? base?.scope) as string } : {}),
    ...(t.idToken ?? base?.idToken ? { idToken: (t.idToken ?? base?.idToken) as string } : {}),
    version: (base?.version ?? 0) + 1,
  };
}

/** The lock taken, or the holder's result adopted; neither with a store that has no locks. */
type LockOutcome = { readonly lock?: StorageLock; readonly adopted?: TokenRecord };
const NO_LOCK: LockOutcome = {};

export function createRefreshRunner(rt: ManagerRuntime) {
  const { settings } = rt;
  const { clock, storage, endpoint } = settings;
  const acquireSlot = createLimiter(settings.maxConcurrentRefreshes);
  const heldLocks = createHeldLocks(settings.lockTtlMs);
  /**
   * Per credential, at most one: the last timed-out attempt's, until the next attempt takes it, or it
   * brings nothing, or the credential is removed. stop() has those left written when they come.
   */
  const lateAnswers = new Map<Credential, LateAnswer>();

  /** R7 across processes: take the credential's lock, or wait for the holder's result and adopt it. */
  async function acquireLock(c: Credential): Promise<LockOutcome> {
    if (!storage.lock) return {};
    const started = Date.now();
    let pause = LOCK_POLL_MS;
    for (;;) {
      // Nothing starts after stop() (R15): no lock is taken by a refresh still waiting for one.
      if (rt.isStopped()) throw new StoppedError();
      const lock = await storage.lock(c.key, settings.lockTtlMs);
      if (lock && rt.isStopped()) {
        // Taken while stop() began: let it go at once rather than keep it (see held-locks.ts).
        await lock.release().catch(() => undefined);
        throw new StoppedError();
      }
      if (lock) return { lock };
      await sleep(pause);
      pause = Math.min(LOCK_POLL_MAX_MS, pause * 2);
      const before = c.record;
      const adopted = await adoptStored(rt, c).catch(() => undefined);
      if (adopted && isNewResult(before, adopted)) return { adopted };
      // The holder's TTL bounds its lock; past twice that something is wrong: back off instead.
      if (Date.now() - started > 2 * settings.lockTtlMs) {
        throw new RefreshFailedError('Another process holds the refresh lock');
      }
    }
  }

  function fail(c: Credential, startedAt: number, failure: FailureClass, attempt: number, cause: unknown, fence?: number): Promise<never> {
    return failWith(c, startedAt, failure, attempt, cause, c.record, fence);
  }

  /** Records a failure in the vault and storage (R14: rejection and retryAt survive a restart). */
  async function failWith(
    c: Credential,
    startedAt: number,
    failure: FailureClass,
    attempt: number,
    cause: unknown,
    base: TokenRecord | undefined,
    fence?: number,
    retryAtMost?: number,
  ): Promise<never> {
    const at = clock.now();
    const retryAt = retryAtFor(settings, failure, attempt, at, retryAtMost);
    // A refresh abandoned meanwhile (a new login, an adopted record): its failure is not theirs.
    if (base && (c.removed || (c.record?.version ?? 0) !== base.version)) throw failureOutcome(c, startedAt, at, failure);
    if (base && failure.code !== 'refresh_token_missing') {
      const baseVersion = base.version;
      const { rejection: _r, retryAt: _t, refreshing: marker, ...rest } = base;
      const next: TokenRecord = {
        ...rest,
        // Our attempt is over; another instance's marker stands until its own result is stored. Ours
        // stands while our timed-out request may still bring the rotated token (R4): others hold back.
        ...(marker && (marker.by !== rt.instanceId || lateAnswers.has(c)) ? { refreshing: marker } : {}),
        ...(retryAt === undefined ? { rejection: failure.code } : { retryAt }),
        version: baseVersion + 1,
      };
      await commitRecord(rt, c, next, baseVersion, { fence });
    }
    // A server may have echoed a token into the error: the failure kept (and later a `cause`) holds none.
    return reportFailure(rt, c, startedAt, at, failure, retryAt, cause, secretsOf(base, c.record));
  }

  function abandoned(c: Credential, startedAt: number): RefreshFailure {
    const at = clock.now();
    return { startedAt, at, kind: 'transient', code: 'stopped', token: metaOf(c.record, at) };
  }

  function succeeded(c: Credential, startedAt: number): RefreshOutput {
    const at = clock.now();
    c.lastFailure = undefined;
    return { startedAt, at, token: metaOf(c.record, at) };
  }

  /** An adopted record is final if usable and not due; a rejection recorded by another process is honoured. */
  async function adoptedOutcome(c: Credential, startedAt: number, record: TokenRecord): Promise<RefreshOutput> {
    if (record.rejection !== undefined) {
      c.lastFailure = oauthError(record.rejection, { key: c.key });
      const at = clock.now();
      const failure: RefreshFailure = { startedAt, at, kind: 'permanent', code: record.rejection, token: metaOf(record, at) };
      throw failure;
    }
    return succeeded(c, startedAt);
  }

  /** A stored record is another process's refresh result (not just its marker or metadata). */
  function isNewResult(before: TokenRecord | undefined, adopted: TokenRecord): boolean {
    return adopted.rejection !== undefined || adopted.accessToken !== before?.accessToken;
  }

  /**
   * Whether we hold back: another holder's marker stands on our refresh token. `serving` while our
   * token is valid (we serve it and look again later); `waiting` until the moment a marker stops
   * being fresh, whatever our token: its holder may still have that very refresh token at the
   * server (under load a live holder's lease lapses mid-request), and sending it again is reuse.
   */
  function heldBack(
    c: Credential,
    stored: TokenRecord | undefined,
    waitedFor: string | undefined,
  ): { serving: TokenRecord } | { waitUntil: number; marker: string } | undefined {
    const mine = c.record;
    const marker = stored?.refreshing;
    if (!marker || marker.by === rt.instanceId || !mine || stored.refreshToken !== mine.refreshToken) return undefined;
    const now = clock.now();
    if (mine.accessToken.length > 0 && !isExpired(mine, now)) return { serving: mine };
    // Fresh: younger than two leases (a live holder extends its lock while its request is out, and
    // lockTtl is kept above the endpoint timeout; a stopped one runs on STOPPED_LEASE_MS). Older: its holder is dead or stuck, and
    // with our token expired, trying beats certain failure.
    // Waited out once already (a simulated clock may not have moved): not again.
    const id = `${marker.by}@${marker.since}`;
    const waitUntil = marker.since + MARKER_FRESH_LEASES * Math.min(settings.lockTtlMs, STOPPED_LEASE_MS);
    return mine.refreshToken !== undefined && now < waitUntil && id !== waitedFor ? { waitUntil, marker: id } : undefined;
  }

  /**
   * Our token has expired and another holder's fresh marker stands: wait for its result and adopt
   * it, as a lock waiter would. Resolves to the adopted record, or to nothing once
   * the marker is no longer fresh (or the store cannot be read: the caller re-checks under the lock).
   */
  async function awaitHolder(c: Credential, waitUntil: number): Promise<TokenRecord | undefined> {
    let pause = LOCK_POLL_MS;
    // Polled on real timers (as lock waits are), bounded in real time too: the clock may be simulated.
    const deadline = Date.now() + (waitUntil - clock.now());
    while (clock.now() < waitUntil && Date.now() < deadline) {
      if (rt.isStopped()) return undefined;
      await sleep(Math.min(pause, Math.max(1, deadline - Date.now())));
      pause = Math.min(LOCK_POLL_MAX_MS, pause * 2);
      const before = c.record;
      const adopted = await adoptStored(rt, c).catch(() => undefined);
      if (adopted && isNewResult(before, adopted)) return adopted;
      // The holder's failure cleared its marker: nothing is in flight any more.
      if (adopted && adopted.refreshing === undefined) return undefined;
    }
    return undefined;
  }

  /**
   * Stores a marker that we are refreshing (see TokenRecord.refreshing) before the request goes out.
   * Resolves to the stored record when someone else's newer one was found instead (adopt it); a
   * credential removed meanwhile has no record (remove() clears it), so that resolves to nothing.
   */
  async function markRefreshing(c: Credential, fence: number): Promise<TokenRecord | undefined> {
    const base = c.record;
    if (!base) return undefined;
    const marked: TokenRecord = { ...base, refreshing: { by: rt.instanceId, since: clock.now() }, version: base.version + 1 };
    const result = await commitRecord(rt, c, marked, base.version, { fence });
    return result === 'superseded' ? c.record : undefined;
  }

  function isSettled(record: TokenRecord, now: number): boolean {
    const usable = record.accessToken.length > 0 && !isExpired(record, now);
    const pendingRetry = now < (record.retryAt ?? Number.NEGATIVE_INFINITY);
    return usable && (pendingRetry || !needsRefresh({ ...record, hasAccessToken: true }, now, settings.thresholdMs));
  }

  async function run(c: Credential, input: RefreshInput): Promise<RefreshOutput> {
    const startedAt = clock.now();
    // What this refresh was asked for. The change feed can adopt another process's result while we
    // are already refreshing (announceRecord leaves a refreshing credential alone): judge against this.
    const asked = c.record;
    const releaseSlot = await acquireSlot();
    let lock: StorageLock | undefined;
    let stopKeeping: (() => void) | undefined;
    try {
      // The marker we already waited out (see below): it is not waited for twice.
      let waitedFor: string | undefined;
      for (;;) {
        let outcome: LockOutcome = NO_LOCK;
        try {
          // A store without locks (the default private one) has nothing to wait for: no await.
          if (storage.lock) outcome = await acquireLock(c);
        } catch (error) {
          // Abandoned by stop() before it began: nothing is stored or announced (the actor is gone).
          if (error instanceof StoppedError) throw abandoned(c, startedAt);
          const failure = error instanceof TokenLifecycleError ? error : new StorageFailedError('Could not take the refresh lock', { cause: error });
          return await fail(c, startedAt, { kind: 'transient', code: failure.code }, input.attempt, failure);
        }
        if (outcome.adopted) return await adoptedOutcome(c, startedAt, outcome.adopted);
        lock = outcome.lock;
        if (!lock) break;
        // Keep the lock while the refresh is in flight (a slow server must not let a second refresh in).
        stopKeeping = heldLocks.keep(lock);
        // Another process may have refreshed before we got the lock: re-read, and adopt its token.
        let stored: TokenRecord | undefined;
        try {
          stored = await storage.get(c.key);
        } catch (error) {
          const failure = new StorageFailedError('Could not re-read storage before refreshing', { cause: error });
          return await fail(c, startedAt, { kind: 'transient', code: failure.code }, input.attempt, failure);
        }
        // Adopted just now, or meanwhile by the change feed (storage then holds nothing newer for us).
        const current = reconcileStored(rt, c, stored) ?? c.record;
        if (current && isNewResult(asked, current) && (current.rejection !== undefined || isSettled(current, clock.now()))) {
          return await adoptedOutcome(c, startedAt, current);
        }
        // Our own unwritten result goes in first, under the lock.
        await flushPending(rt, c, lock.fence);
        const held = heldBack(c, stored, waitedFor);
        if (held && 'serving' in held) {
          // Another holder began a refresh of this very token and its result is not stored: it may
          // hold the rotated token, unwritten. Sending ours would be reuse (the grant revoked). Wait.
          const error = new RefreshFailedError('Another instance is refreshing this credential; its result is not stored yet', { key: c.key });
          // Look again with backoff, and at the latest when our token expires (then we wait in-run, below).
          return await failWith(c, startedAt, { kind: 'transient', code: 'refresh_in_progress' }, input.attempt, error, undefined, undefined, held.serving.expiresAt);
        }
        if (held) {
          // Nothing to serve, and the holder may be mid-request with this very refresh token: its
          // result is what we want. We wait for it without our lock (others wait alike and would give
          // up on a lock held that long), adopt it when stored, and past the marker's freshness take
          // the lock again and send (the holder is gone).
          waitedFor = held.marker;
          stopKeeping();
          stopKeeping = undefined;
          await lock.release().catch(() => undefined);
          lock = undefined;
          const adopted = await awaitHolder(c, held.waitUntil);
          if (adopted) return await adoptedOutcome(c, startedAt, adopted);
          // Nothing starts after stop() (R15): a refresh that was waiting sends nothing.
          if (rt.isStopped()) throw abandoned(c, startedAt);
          continue;
        }
        const marked = await markRefreshing(c, lock.fence);
        if (marked !== undefined) return await adoptedOutcome(c, startedAt, marked);
        break;
      }
      return await callEndpoint(c, input, startedAt, lock?.fence);
    } finally {
      stopKeeping?.();
      if (lock) await lock.release().catch(() => undefined);
      releaseSlot();
    }
  }

  /**
   * For stop(): refreshes in flight go on (R15) and keep their locks, but on a short lease, so that
   * a process that exits after stop() blocks the next one for seconds, not the lock TTL (issue 22).
   * A late answer still to come is written when it comes, as a refresh in flight is (R15): no later
   * attempt of ours will adopt it, the next process will.
   */
  function stop(): void {
    heldLocks.shorten();
    for (const [c, kept] of lateAnswers) writeWhenItComes(c, kept);
    lateAnswers.clear();
  }

  async function callEndpoint(c: Credential, input: RefreshInput, startedAt: number, fence: number | undefined): Promise<RefreshOutput> {
    const base = c.record;
    const baseVersion = base?.version ?? 0;
    const refreshToken = base?.refreshToken;
    if (!refreshToken && !endpoint.canRenewWithoutRefreshToken) {
      // R8: nothing is sent without a refresh token.
      return fail(c, startedAt, { kind: 'permanent', code: 'refresh_token_missing' }, input.attempt, new RefreshTokenMissingError({ key: c.key }), fence);
    }
    let sentAt = clock.now();
    let raw: unknown;
    let late: Promise<unknown> | undefined;
    try {
      // R4: an earlier attempt with this very refresh token timed out, and its answer may yet come
      // with the rotated one: that answer is this attempt's, and the token is not sent again.
      const kept = takeLateAnswer(c, refreshToken);
      const keptAnswer = kept && (await kept.answer.catch(() => undefined));
      if (kept && keptAnswer !== undefined) {
        raw = keptAnswer;
        sentAt = kept.sentAt;
      } else {
        // Never aborted (R15): an abandoned request could lose a rotated refresh token.
        raw = await endpoint.refresh(refreshToken, { lateAnswer: (answer) => (late = answer) });
      }
    } catch (error) {
      if (late && refreshToken) keepLateAnswer(c, { spent: refreshToken, sentAt, answer: late });
      // Against the record this request was sent for: if a new login replaced it meanwhile, the
      // failure is not the new tokens' (failWith drops it).
      return failWith(c, startedAt, withSafeCode(classifyFailure(error), secretsOf(base)), input.attempt, error, base, fence);
    }
    const checked = checkTokenResponse(raw, sentAt, { dpop: endpoint.dpop !== undefined });
    if (!checked.ok) {
      // R12: the old access token is kept, but a rotated refresh token is never dropped (R4).
      const salvaged = base && checked.refreshToken ? { ...base, refreshToken: checked.refreshToken } : base;
      return failWith(c, startedAt, { kind: 'transient', code: checked.error.code }, input.attempt, checked.error, salvaged, fence);
    }
    const t = checked.tokens;
    const next = recordOf(t, base, refreshToken);
    const result = await commitRecord(rt, c, next, baseVersion, { fence, spentRefreshToken: refreshToken });
    if (result !== 'superseded') {
      if (isExpired(next, clock.now())) {
        // R1: a token that arrives expired is a failure with backoff, not a loop. It was stored (its
        // rotated refresh token must not be lost, R4), but it is no `refreshed`: only the failure is told.
        const error = new RefreshFailedError('The token endpoint returned an already expired token', { key: c.key });
        return fail(c, startedAt, { kind: 'transient', code: 'invalid_token_response' }, input.attempt, error, fence);
      }
      rt.emit({
        type: 'refreshed',
        key: c.key,
        at: clock.now(),
        rotated: t.refreshToken !== undefined && t.refreshToken !== refreshToken,
        ...(next.expiresAt === undefined ? {} : { expiresAt: next.expiresAt }),
      });
    }
    return succeeded(c, startedAt);
  }

  function keepLateAnswer(c: Credential, kept: LateAnswer): void {
    // Timed out after stop() began (a refresh in flight, R15): written when it comes.
    if (rt.isStopped()) return writeWhenItComes(c, kept);
    lateAnswers.set(c, kept);
    // Nothing came (or it cannot be used any more): nothing to keep.
    const settled = (raw?: unknown): void => {
      if (lateAnswers.get(c) === kept && (raw === undefined || c.removed)) lateAnswers.delete(c);
    };
    kept.answer.then(settled, () => settled());
  }

  /**
   * After stop(): the late answer, if it comes with tokens for the refresh token it spent, is written
   * (the rotated refresh token salvaged even from an answer R12 refuses), version-checked, no event.
   */
  function writeWhenItComes(c: Credential, kept: LateAnswer): void {
    const write = async (raw: unknown): Promise<void> => {
      const base = c.record;
      if (raw === undefined || c.removed || !base || base.refreshToken !== kept.spent) return;
      const checked = checkTokenResponse(raw, kept.sentAt, { dpop: endpoint.dpop !== undefined });
      const { refreshing: _ours, ...unmarked } = base;
      const next = checked.ok
        ? recordOf(checked.tokens, base, kept.spent)
        : checked.refreshToken && { ...unmarked, refreshToken: checked.refreshToken, version: base.version + 1 };
      if (next) await commitRecord(rt, c, next, base.version, { spentRefreshToken: kept.spent });
    };
    kept.answer.then(write).catch(() => undefined);
  }

  function takeLateAnswer(c: Credential, refreshToken: string | undefined): LateAnswer | undefined {
    const kept = lateAnswers.get(c);
    lateAnswers.delete(c);
    return kept && kept.spent === refreshToken ? kept : undefined;
  }

  return { run, stop };
}
