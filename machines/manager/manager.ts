/**
 * `createTokenManager()`: the facade users call (DESIGN §4). It owns one lifecycle actor per
 * credential, keeps token values in a vault outside the machines (R13), and orchestrates storage and
 * the token endpoint through their interfaces. Hot path: a valid token is served from memory with no
 * actor message, timer, storage read or extra promise.
 */
import { randomUUID } from 'node:crypto';
import { createActor, fromPromise } from 'xstate';
import { createCredential, metaOf, setRecord, stateOfValue, type Credential } from './credential.js';
import {
  InvalidConfigError,
  NotFoundError,
  ReauthRequiredError,
  RefreshFailedError,
  RefreshTokenMissingError,
  RevocationFailedError,
  StorageFailedError,
  StoppedError,
  TokenLifecycleError,
} from '../lifecycle/errors.js';
import { tokenDelays, tokenMachine } from '../lifecycle/machine.js';
import * as rules from '../lifecycle/machine-rules.js';
import type { RefreshInput, RefreshOutput, TokenMachineContext, TokenMachineInput } from '../lifecycle/machine-types.js';
import { WakeWheel } from './wake-wheel.js';
import { normalizeOptions } from './options.js';
import type {
  GetTokenOptions,
  RemoveOptions,
  TokenEvent,
  TokenEventListener,
  TokenManager,
  TokenManagerOptions,
  TokenState,
  TokenStateDetail,
  TokenStatus,
} from './api-types.js';
import { adoptStored, cancelWriteRetry, flushPending, unwrittenError } from './persistence.js';
import { isExpired } from '../lifecycle/refresh-policy.js';
import { createRefreshRunner } from './refresh-runner.js';
import type { ManagerRuntime } from './runtime.js';
import { checkTokenInput } from '../lifecycle/token-response.js';
import type { TokenResponse, TokenSet } from '../lifecycle/types.js';

const DEFAULT_KEY = 'default';
const START_BATCH = 1024;

/** Read through a call: sending an event changes the state, which narrowing cannot see. */
function isRefreshing(c: Credential): boolean {
  return c.state === 'refreshing';
}

export function createTokenManager(options: TokenManagerOptions): TokenManager {
  const settings = normalizeOptions(options);
  const { clock, storage, endpoint } = settings;
  const now = (): number => clock.now();
  const credentials = new Map<string, Credential>();
  const loading = new Map<string, Promise<Credential>>();
  const listeners = new Set<TokenEventListener>();
  let stopped = false;
  let unsubscribeStorage: (() => void) | undefined;

  function emit(event: TokenEvent): void {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own; the lifecycle goes on.
      }
    }
  }

  const rt: ManagerRuntime = {
    settings,
    instanceId: randomUUID(),
    emit,
    recordAdopted: announceRecord,
    isStopped: () => stopped,
  };
  const runner = createRefreshRunner(rt);

  const machine = tokenMachine.provide({
    actors: {
      refreshTokens: fromPromise<RefreshOutput, RefreshInput>(({ input }) => {
        const credential = credentials.get(input.key);
        if (!credential) return Promise.reject(new NotFoundError(input.key));
        const run = runner.run(credential, input);
        credential.inflight = run;
        const clear = (): void => {
          if (credential.inflight === run) credential.inflight = undefined;
        };
        run.then(clear, clear);
        return run;
      }),
    },
    delays: tokenDelays(now),
  });

  const machineInput = (key: string): TokenMachineInput => ({
    key,
    thresholdMs: settings.thresholdMs,
    jitterFraction: settings.jitterFraction,
    minIntervalMs: settings.minIntervalMs,
    backgroundRefresh: settings.backgroundRefresh,
    canRenewWithoutRefreshToken: endpoint.canRenewWithoutRefreshToken === true,
    retry: settings.retry,
  });

  function assertRunning(): void {
    if (stopped) throw new StoppedError();
  }

  function ensureActor(c: Credential) {
    if (c.actor) return c.actor;
    const actor = createActor(machine, {
      input: machineInput(c.key),
      clock,
      ...(settings.inspect ? { inspect: settings.inspect } : {}),
    });
    c.actor = actor;
    actor.start();
    // Subscribed after start: the initial `idle` snapshot of a woken credential is not a state change.
    actor.subscribe({
      next: (snapshot) => onSnapshot(c, snapshot.value, snapshot.context),
      error: () => releaseWaiters(c),
    });
    return actor;
  }

  // Dormancy: a credential that is valid and far from refresh needs no live actor (~4.7 KB and a
  // timer each); one wake wheel wakes it at its refresh moment, and it behaves exactly as a live one.
  // With an inspector attached, actors stay live so the inspector sees every credential.
  const wheel = new WakeWheel<Credential>(clock, (c) => void liveActor(c));
  const hibernation = settings.inspect === undefined;

  function refreshMomentOf(c: Credential): number | undefined {
    return c.record && rules.refreshMoment({ key: c.key, thresholdMs: settings.thresholdMs, jitterFraction: settings.jitterFraction, token: undefined }, c.record);
  }

  function mayHibernate(c: Credential, at: number): boolean {
    const record = c.record;
    // A removed credential has no record; an expired one is past its refresh moment.
    if (!hibernation || c.pinned || stopped || !record || !c.view) return false;
    if (record.rejection !== undefined || (record.retryAt !== undefined && at < record.retryAt)) return false;
    const moment = refreshMomentOf(c);
    return moment === undefined || at < moment;
  }

  function hibernate(c: Credential): void {
    c.actor?.stop();
    c.actor = undefined;
    c.dormant = true;
    const previous = { state: c.state, detail: c.detail };
    c.state = 'valid';
    c.detail = undefined;
    const moment = refreshMomentOf(c) ?? Number.POSITIVE_INFINITY;
    c.freshUntil = Math.min(moment, c.record?.expiresAt ?? Number.POSITIVE_INFINITY);
    wheel.schedule(c, moment);
    // Listeners may read status() or peekToken() in the event: the credential is settled first.
    if (previous.state !== 'valid') emitStateChange(c, 'valid', undefined, previous, now());
  }

  /** The credential's actor, waking it if dormant. */
  function liveActor(c: Credential) {
    if (c.actor) return c.actor;
    const waking = c.dormant;
    c.dormant = false;
    wheel.cancel(c);
    const actor = ensureActor(c);
    if (waking && !stopped) {
      const at = now();
      actor.send({ type: 'LOADED', now: at, token: metaOf(c.record, at), history: c.history });
    }
    return actor;
  }

  /** A record was set, loaded or adopted: let the credential's lifecycle take it from here. */
  function admit(c: Credential): void {
    const at = now();
    if (!c.actor && mayHibernate(c, at)) {
      hibernate(c);
      return;
    }
    c.dormant = false;
    wheel.cancel(c);
    ensureActor(c).send({ type: 'LOADED', now: at, token: metaOf(c.record, at), history: c.history });
  }

  function onSnapshot(c: Credential, value: unknown, context: TokenMachineContext): void {
    const { state, detail } = stateOfValue(value);
    const previous = { state: c.state, detail: c.detail };
    c.state = state;
    c.detail = detail;
    c.freshUntil =
      state === 'valid' && c.view && !stopped
        ? Math.min(rules.refreshMoment(context) ?? Number.POSITIVE_INFINITY, c.record?.expiresAt ?? Number.POSITIVE_INFINITY)
        : Number.NEGATIVE_INFINITY;
    if (previous.state === 'refreshing' && state !== 'refreshing') c.refreshSeq++;
    if (previous.state !== state || previous.detail !== detail) {
      const at = now();
      emitStateChange(c, state, detail, previous, at);
      if (state === 'reauthRequired' && !c.reauthAnnounced) {
        c.reauthAnnounced = true;
        const reason = context.reason ?? 'refresh_token_missing';
        emit({ type: 'reauth_required', key: c.key, at, reason });
        try {
          settings.onReauthRequired?.(c.key, reason);
        } catch {
          // The callback's failure must not break the lifecycle.
        }
      }
    }
    c.history = { lastRefreshStartedAt: context.lastRefreshStartedAt, lastRefreshAt: context.lastRefreshAt };
    if (state !== 'refreshing') releaseWaiters(c);
    if (state === 'valid') {
      const actor = c.actor;
      // Not from inside the actor's own notification: stop it once this macrostep is done (if it may sleep).
      queueMicrotask(() => {
        if (c.actor === actor && c.state === 'valid' && mayHibernate(c, now())) hibernate(c);
      });
    }
  }

  function emitStateChange(
    c: Credential,
    state: TokenState,
    detail: TokenStateDetail | undefined,
    previous: { state: TokenState; detail: TokenStateDetail | undefined },
    at: number,
  ): void {
    emit({
      type: 'state',
      key: c.key,
      at,
      state,
      ...(detail ? { detail } : {}),
      previous: { state: previous.state, ...(previous.detail ? { detail: previous.detail } : {}) },
    });
  }

  // Background timers are unref'ed (R11), but a caller awaiting a result must not see its process exit
  // under it (a refresh waiting for another process's lock polls on unref'ed timers): while anyone
  // waits, one ref'ed timer holds the event loop.
  let waiting = 0;
  let keepAlive: ReturnType<typeof setInterval> | undefined;
  function holdProcess(): () => void {
    if (waiting++ === 0) keepAlive = setInterval(() => undefined, 60_000);
    // Called once per hold: each waiter settles by exactly one path (its listener and entry are removed).
    return () => {
      if (--waiting === 0) clearInterval(keepAlive);
    };
  }

  function releaseWaiters(c: Credential): void {
    if (!c.settleWaiters?.size) return;
    const waiters = [...c.settleWaiters];
    c.settleWaiters.clear();
    for (const wake of waiters) wake();
  }

  /** Waits until the credential is not refreshing; an abort ends this caller's wait only. */
  function waitSettled(c: Credential, signal: AbortSignal | undefined): Promise<void> {
    const release = holdProcess();
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        c.settleWaiters?.delete(done);
        release();
        reject(signal?.reason);
      };
      const done = (): void => {
        signal?.removeEventListener('abort', onAbort);
        release();
        resolve();
      };
      (c.settleWaiters ??= new Set()).add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    const release = holdProcess();
    return new Promise((resolve, reject) => {
      const handle = clock.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        release();
        resolve();
      }, ms);
      const onAbort = (): void => {
        clock.clearTimeout(handle);
        release();
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  function announceRecord(c: Credential): void {
    // A loaded credential always has a live actor or is dormant. A removed one stays idle: a write
    // retry in flight when remove() ran ends 'superseded', which must not bring it back.
    if (c.removed || c.state === 'refreshing' || stopped) return;
    c.reauthAnnounced = false;
    admit(c);
  }

  function ensureStorageSubscription(): void {
    // Every caller has just checked that the manager runs.
    if (unsubscribeStorage || !storage.subscribe) return;
    unsubscribeStorage = storage.subscribe((key) => {
      const c = credentials.get(key);
      // A refreshing credential re-reads storage under its lock; its result decides.
      if (!c || !c.loaded || stopped || c.state === 'refreshing') return;
      void adoptStored(rt, c).then(
        (adopted) => {
          if (adopted) announceRecord(c);
        },
        () => undefined, // unreadable now: the next refresh re-reads under the lock
      );
    });
  }

  function load(key: string): Promise<Credential> {
    const existing = credentials.get(key);
    if (existing?.loaded) return Promise.resolve(existing);
    let pending = loading.get(key);
    if (!pending) {
      pending = loadFromStorage(key).finally(() => loading.delete(key));
      loading.set(key, pending);
    }
    return pending;
  }

  async function loadFromStorage(key: string): Promise<Credential> {
    const stored = await storage.get(key);
    assertRunning();
    const existing = credentials.get(key);
    if (existing?.loaded) return existing;
    if (!stored && endpoint.canRenewWithoutRefreshToken !== true) throw new NotFoundError(key);
    const c = existing ?? createCredential(key);
    credentials.set(key, c);
    ensureStorageSubscription();
    c.loaded = true;
    c.removed = false;
    setRecord(c, stored);
    c.storedVersion = stored?.version ?? 0;
    admit(c);
    return c;
  }

  function contextOf(c: Credential): TokenMachineContext | undefined {
    if (c.actor) return c.actor.getSnapshot().context;
    if (!c.dormant) return undefined;
    // What the machine's context would be: a dormant credential behaves as a live one.
    return { ...machineInput(c.key), token: metaOf(c.record, now()), attempt: 0, ...c.history };
  }

  function isServable(c: Credential, at: number): boolean {
    return c.view !== undefined && c.record !== undefined && !isExpired(c.record, at);
  }

  /** Whether a slow-path call should ask the machine to act: a refresh is due, or the clock moved past the state. */
  function shouldAskMachine(c: Credential, at: number): boolean {
    // Never called while refreshing; `idle` and `reauthRequired` ignore a REFRESH.
    const context = contextOf(c);
    if (!context) return false;
    return (
      rules.isRefreshDue(context, at) ||
      !rules.isUsable(context, at) ||
      (c.state === 'valid' && rules.isRefreshNeeded(context, at)) ||
      // A retry moment passed with no timer to act on it (backgroundRefresh: false): re-evaluate.
      (c.state === 'degraded' && context.token?.retryAt !== undefined && !rules.isRetryPending(context, at))
    );
  }

  function resultFor(c: Credential, at: number): TokenSet {
    if (c.state === 'reauthRequired') {
      throw new ReauthRequiredError(contextOf(c)?.reason ?? 'refresh_token_missing', { key: c.key });
    }
    if (c.state === 'idle') throw new NotFoundError(c.key);
    if (isServable(c, at)) return c.view as TokenSet;
    const context = contextOf(c);
    const retryAt = context?.token?.retryAt;
    throw new RefreshFailedError('No valid token: the last refresh failed and is being retried', {
      key: c.key,
      ...(context?.lastError ? { description: context.lastError.code } : {}),
      ...(retryAt !== undefined && retryAt > at ? { retryAfter: retryAt - at } : {}),
      ...(c.lastFailure === undefined ? {} : { cause: c.lastFailure }),
    });
  }

  async function slowGetToken(key: string, signal: AbortSignal | undefined): Promise<TokenSet> {
    assertRunning();
    signal?.throwIfAborted();
    const c = await load(key);
    let asked = false;
    for (;;) {
      assertRunning();
      signal?.throwIfAborted();
      if (c.state === 'refreshing') {
        await waitSettled(c, signal);
        asked = true;
        continue;
      }
      const at = now();
      if (!asked && shouldAskMachine(c, at)) {
        asked = true;
        liveActor(c).send({ type: 'REFRESH', now: at, force: false });
        continue;
      }
      return resultFor(c, at);
    }
  }

  async function getToken(key: string = DEFAULT_KEY, options?: GetTokenOptions): Promise<TokenSet> {
    const c = credentials.get(key);
    if (c !== undefined && now() < c.freshUntil) return c.view as TokenSet;
    return slowGetToken(key, options?.signal);
  }

  function peekToken(key: string = DEFAULT_KEY): TokenSet | undefined {
    const c = credentials.get(key);
    return c !== undefined && now() < c.freshUntil ? c.view : undefined;
  }

  async function setToken(key: string, tokens: TokenResponse | TokenSet): Promise<TokenSet> {
    assertRunning();
    if (typeof key !== 'string' || key.length === 0) throw new InvalidConfigError('setToken needs a non-empty string key');
    const checked = checkTokenInput(tokens, now());
    if (!checked.ok) throw checked.error;
    const c = credentials.get(key) ?? createCredential(key);
    const stored = await storage.get(key);
    const baseVersion = Math.max(stored?.version ?? 0, c.record?.version ?? 0);
    const { obtainedAt, ...values } = checked.tokens;
    const record = { ...values, obtainedAt, version: baseVersion + 1 };
    try {
      await storage.set(key, record, { expectedVersion: stored?.version ?? 0 });
    } catch (error) {
      throw error instanceof TokenLifecycleError ? error : new StorageFailedError('Could not store the tokens', { cause: error, key });
    }
    assertRunning();
    credentials.set(key, c);
    ensureStorageSubscription();
    cancelWriteRetry(rt, c);
    c.loaded = true;
    c.removed = false;
    c.reauthAnnounced = false;
    c.lastFailure = undefined;
    setRecord(c, record);
    c.storedVersion = record.version;
    admit(c);
    return c.view as TokenSet;
  }

  function failureOf(c: Credential): TokenLifecycleError {
    const failure = c.lastFailure;
    if (failure instanceof TokenLifecycleError) return failure;
    return new RefreshFailedError('Token refresh failed', { key: c.key, ...(failure === undefined ? {} : { cause: failure }) });
  }

  function assertMayRefresh(c: Credential): void {
    if (c.state === 'reauthRequired' || (c.state === 'degraded' && c.detail === 'rejected')) {
      throw new ReauthRequiredError(contextOf(c)?.reason ?? 'refresh_token_missing', { key: c.key });
    }
    const context = contextOf(c);
    if (!context || !rules.canRefresh(context)) throw new RefreshTokenMissingError({ key: c.key });
  }

  async function refresh(key: string = DEFAULT_KEY, options?: GetTokenOptions): Promise<TokenSet> {
    assertRunning();
    // An abort listener never fires for a signal already aborted: look first, and after the load.
    options?.signal?.throwIfAborted();
    const c = await load(key);
    options?.signal?.throwIfAborted();
    assertMayRefresh(c);
    const seq = c.refreshSeq;
    if (!isRefreshing(c)) liveActor(c).send({ type: 'REFRESH', now: now(), force: true });
    if (isRefreshing(c)) await waitSettled(c, options?.signal);
    assertRunning();
    if (c.refreshSeq > seq && c.lastFailure === undefined && c.view) return c.view;
    throw failureOf(c);
  }

  async function renewAfterUnauthorized(
    key: string,
    rejectedAccessToken: string,
    options?: GetTokenOptions,
  ): Promise<TokenSet | undefined> {
    assertRunning();
    const signal = options?.signal;
    signal?.throwIfAborted();
    const c = await load(key);
    signal?.throwIfAborted();
    const usableOther = (): TokenSet | undefined =>
      isServable(c, now()) && c.view?.accessToken !== rejectedAccessToken ? c.view : undefined;
    // R10: a 401 for an older token is retried with the current one, with no refresh.
    const current = usableOther();
    if (current) return current;
    if (c.state === 'refreshing') {
      await waitSettled(c, signal);
      return usableOther();
    }
    const context = contextOf(c);
    if (!context || !rules.canRefresh(context) || c.state === 'reauthRequired') return undefined;
    // A pending Retry-After or backoff: the 401 goes back to the caller.
    if (rules.isRetryPending(context, now())) return undefined;
    const allowedAt = (context.lastRefreshStartedAt ?? Number.NEGATIVE_INFINITY) + settings.minIntervalMs;
    if (allowedAt > now()) {
      // The minimum interval: wait for it (briefly), then look again.
      await sleep(allowedAt - now(), signal);
      assertRunning();
      const meanwhile = usableOther();
      if (meanwhile) return meanwhile;
    }
    // A refresh started meanwhile ignores this REFRESH: the wait below joins it.
    const seq = c.refreshSeq;
    liveActor(c).send({ type: 'REFRESH', now: now(), force: true });
    if (isRefreshing(c)) await waitSettled(c, signal);
    return c.refreshSeq > seq && c.lastFailure === undefined ? usableOther() : undefined;
  }

  async function remove(key: string = DEFAULT_KEY, options: RemoveOptions = {}): Promise<void> {
    assertRunning();
    let c: Credential | undefined;
    try {
      c = await load(key);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
    const record = c?.record;
    if ((options.revoke ?? true) && record) {
      const token = record.refreshToken ?? record.accessToken;
      if (token) {
        if (!endpoint.revoke) {
          throw new RevocationFailedError('The endpoint cannot revoke tokens; pass { revoke: false } to delete without revoking', { key });
        }
        try {
          await endpoint.revoke(token, { hint: record.refreshToken ? 'refresh_token' : 'access_token' });
        } catch (error) {
          throw error instanceof RevocationFailedError ? error : new RevocationFailedError('Token revocation failed', { cause: error, key });
        }
      }
    }
    try {
      await storage.delete(key);
    } catch (error) {
      throw error instanceof TokenLifecycleError ? error : new StorageFailedError('Could not delete the tokens', { cause: error, key });
    }
    if (c) {
      c.removed = true;
      c.loaded = false;
      cancelWriteRetry(rt, c);
      setRecord(c, undefined);
      c.storedVersion = 0;
      if (c.dormant) {
        c.dormant = false;
        wheel.cancel(c);
        c.state = 'idle';
        c.freshUntil = Number.NEGATIVE_INFINITY;
      }
      // Waiters (of a live, refreshing actor) are released by its move to `idle`.
      c.actor?.send({ type: 'UNLOAD' });
    }
  }

  function status(key: string = DEFAULT_KEY): TokenStatus {
    const c = credentials.get(key);
    const context = c && contextOf(c);
    const token = context?.token;
    if (!c || !context || !token || c.state === 'idle') return { key, state: 'idle', needsRefresh: false, hasRefreshToken: false };
    const at = now();
    const refreshAtMs = rules.refreshMoment(context);
    const inDegraded = c.state === 'degraded';
    return {
      key,
      state: c.state,
      ...(c.detail ? { detail: c.detail } : {}),
      ...(token.expiresAt === undefined ? {} : { expiresAt: token.expiresAt, timeUntilExpiry: token.expiresAt - at }),
      ...(refreshAtMs === undefined ? {} : { refreshAt: refreshAtMs, timeUntilRefresh: Math.max(0, refreshAtMs - at) }),
      ...(context.lastRefreshAt === undefined ? {} : { lastRefreshAt: context.lastRefreshAt }),
      needsRefresh: rules.isRefreshNeeded(context, at),
      hasRefreshToken: token.hasRefreshToken,
      ...(inDegraded && token.retryAt !== undefined ? { retryAt: token.retryAt } : {}),
      ...(context.lastError ? { lastError: context.lastError } : {}),
      ...(context.reason !== undefined && (c.state === 'reauthRequired' || c.detail === 'rejected') ? { reason: context.reason } : {}),
    };
  }

  function subscribe(listener: TokenEventListener): () => void {
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }

  function actor(key: string = DEFAULT_KEY) {
    assertRunning();
    let c = credentials.get(key);
    if (!c) {
      c = createCredential(key);
      credentials.set(key, c);
      c.pinned = true;
      void load(key).catch(() => undefined);
      return ensureActor(c);
    }
    c.pinned = true;
    return liveActor(c);
  }

  async function start(): Promise<void> {
    assertRunning();
    ensureStorageSubscription();
    const keys = (await storage.keys?.()) ?? [];
    const loadKey = (key: string) => load(key).catch((error: unknown) => (error instanceof NotFoundError ? undefined : Promise.reject(error)));
    // In batches: 100,000 load chains alive at once spend most of their time in the garbage collector.
    for (let i = 0; i < keys.length; i += START_BATCH) await Promise.all(keys.slice(i, i + START_BATCH).map(loadKey));
  }

  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    wheel.stop();
    unsubscribeStorage?.();
    // Nothing starts after stop(): every actor (and its timers) stops now. An in-flight refresh is
    // not aborted (R15): its promise goes on without the actor and persists its result itself.
    for (const c of credentials.values()) {
      c.freshUntil = Number.NEGATIVE_INFINITY;
      cancelWriteRetry(rt, c);
      c.actor?.stop();
      releaseWaiters(c);
    }
    const inflight = [...credentials.values()].flatMap((c) => (c.inflight ? [c.inflight] : []));
    if (inflight.length > 0) {
      // Bounded wait, in real time: it bounds a real wait for real I/O.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, settings.stopTimeoutMs);
        timer.unref();
      });
      await Promise.race([Promise.allSettled(inflight), bound]);
      clearTimeout(timer);
    }
    const unwritten: string[] = [];
    for (const c of credentials.values()) {
      if (!(await flushPending(rt, c))) unwritten.push(c.key);
    }
    if (unwritten.length > 0) throw unwrittenError(unwritten);
  }

  return {
    start,
    setToken,
    getToken,
    peekToken,
    status,
    refresh,
    renewAfterUnauthorized,
    remove,
    subscribe,
    actor,
    stop,
  };
}
