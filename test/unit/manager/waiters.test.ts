/**
 * Callers of getToken, refresh and renewAfterUnauthorized (issue 8): joining the refresh in flight,
 * abort signals, the process held while someone waits, and the errors each caller gets.
 */
import { SimulatedClock } from 'xstate';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidGrantError, OAuthServerError, RefreshFailedError } from '../../../machines/lifecycle/errors.js';
import { createTokenManager } from '../../../machines/manager/manager.js';
import type { TokenManagerOptions } from '../../../machines/manager/api-types.js';
import { memoryStorage } from '../../../machines/manager/memory-storage.js';
import type { TokenRecord, TokenStorage } from '../../../machines/lifecycle/types.js';
import { advance, scriptedEndpoint, settle } from '../../support/fake-endpoint.js';
import { simulatedManager, T0 } from '../../support/simulated-manager.js';

const SEC = 1_000;
const MIN = 60_000;
const HOUR = 60 * MIN;
const login = { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' };

const setup = simulatedManager;

/** A promise's outcome so far, without waiting for it. */
function track<T>(promise: Promise<T>) {
  const state: { done: boolean; value?: T; error?: unknown } = { done: false };
  promise.then(
    (value) => Object.assign(state, { done: true, value }),
    (error: unknown) => Object.assign(state, { done: true, error }),
  );
  return state;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('getToken waits for the refresh in flight', () => {
  it('a signal aborted before the call rejects with its reason, before any storage read', async () => {
    const { manager } = setup();
    const reason = new Error('gave up early');
    await expect(manager.getToken('never-set', { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  });

  it('a signal aborted while the key loads rejects with its reason', async () => {
    const inner = memoryStorage();
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const storage: TokenStorage = { ...inner, get: async (key) => (await gate, inner.get(key)), set: inner.set, delete: inner.delete };
    const clock = new SimulatedClock();
    clock.set(T0);
    await inner.set('k', { accessToken: 'at-s', tokenType: 'Bearer', obtainedAt: T0, expiresAt: T0 + HOUR, refreshToken: 'rt-0', version: 1 });
    const manager = createTokenManager({ endpoint: scriptedEndpoint(), storage, clock });
    const controller = new AbortController();
    const pending = manager.getToken('k', { signal: controller.signal });
    await settle();
    controller.abort(new Error('gave up while loading'));
    open();
    await expect(pending).rejects.toThrow('gave up while loading');
    // The load itself went on: the next caller is served from memory.
    expect((await manager.getToken('k')).accessToken).toBe('at-s');
    await manager.stop();
  });

  it('while anyone waits, one ref-ed interval holds the process; it is cleared when the last one is served', async () => {
    const { clock, endpoint, manager } = setup({ backgroundRefresh: false });
    await manager.setToken('k', login);
    await advance(clock, HOUR - MIN);
    const started = vi.spyOn(globalThis, 'setInterval');
    const cleared = vi.spyOn(globalThis, 'clearInterval');
    // The manager's hold is a one-minute interval (a refresh's lock keep-alive is another interval).
    const holds = () => started.mock.calls.flatMap((call, i) => (call[1] === 60_000 ? [started.mock.results[i]?.value] : []));
    const releases = () => cleared.mock.calls.map((call) => call[0]).filter((handle) => holds().includes(handle));
    endpoint.next({ kind: 'hold' });
    const controller = new AbortController();
    const first = manager.getToken('k');
    const aborted = manager.getToken('k', { signal: controller.signal });
    await settle();
    const third = manager.getToken('k');
    await settle();
    expect(holds()).toHaveLength(1);
    controller.abort(new Error('one left'));
    await expect(aborted).rejects.toThrow('one left');
    expect(releases()).toHaveLength(0);
    endpoint.release();
    expect((await first).accessToken).toBe('at-1');
    expect((await third).accessToken).toBe('at-1');
    expect(holds()).toHaveLength(1);
    expect(releases()).toEqual(holds());
    // A later wait holds the process again.
    endpoint.next({ kind: 'hold' });
    const refreshing = manager.refresh('k');
    await settle();
    expect(holds()).toHaveLength(2);
    endpoint.release();
    await refreshing;
    expect(releases()).toEqual(holds());
    await manager.stop();
  });

  it('a caller that was waiting when the key was removed gets not_found', async () => {
    const { clock, endpoint, manager } = setup({ backgroundRefresh: false });
    await manager.setToken('k', login);
    await advance(clock, HOUR - MIN);
    endpoint.next({ kind: 'hold' });
    const pending = manager.getToken('k');
    await settle();
    await manager.remove('k', { revoke: false });
    await expect(pending).rejects.toMatchObject({ code: 'not_found' });
    endpoint.release();
    await manager.stop();
  });

  it('an expired token that cannot be refreshed now: refresh_failed with the retry delay, the failure code and its cause', async () => {
    const { clock, endpoint, manager } = setup({ backgroundRefresh: false, retry: { minDelay: '4s', maxDelay: '4s', jitter: 0 } });
    await manager.setToken('k', login);
    await advance(clock, HOUR);
    const cause = new TypeError('fetch failed');
    endpoint.next({ kind: 'throw', error: cause });
    const error = await manager.getToken('k').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RefreshFailedError);
    expect(error).toMatchObject({ code: 'refresh_failed', key: 'k', retryable: true, retryAfter: 4 * SEC, cause, description: 'refresh_failed' });
    expect((error as RefreshFailedError).message).toBe('No valid token: the last refresh failed and is being retried');
    // Half-way through the backoff, the wait shrinks; no new request before the retry moment.
    await advance(clock, 2 * SEC);
    await expect(manager.getToken('k')).rejects.toMatchObject({ retryAfter: 2 * SEC });
    expect(endpoint.received).toEqual(['rt-0']);
    await manager.stop();
  });

  it('a retry allowed at once: refresh_failed without a retryAfter, described by the server code', async () => {
    const { clock, endpoint, manager } = setup({ backgroundRefresh: false, minRefreshInterval: 0, retry: { minDelay: 0, maxDelay: 0, jitter: 0 } });
    await manager.setToken('k', login);
    await advance(clock, HOUR);
    endpoint.next({ kind: 'throw', error: new OAuthServerError('temporarily_unavailable', { status: 503 }) });
    const error = await manager.getToken('k').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'refresh_failed', description: 'temporarily_unavailable' });
    expect(error).not.toHaveProperty('retryAfter');
    await manager.stop();
  });

  it('backgroundRefresh false: a passed retry moment is re-evaluated by the next caller, once', async () => {
    const { clock, endpoint, manager } = setup({ backgroundRefresh: false, retry: { minDelay: '4s', maxDelay: '4s', jitter: 0 } });
    await manager.setToken('k', login);
    await advance(clock, HOUR);
    endpoint.next({ kind: 'throw', error: new RefreshFailedError('down', { status: 503 }) });
    endpoint.next({ kind: 'throw', error: new RefreshFailedError('down', { status: 503 }) });
    await expect(manager.getToken('k')).rejects.toMatchObject({ code: 'refresh_failed' });
    await advance(clock, 4 * SEC);
    // The retry moment passed with no timer to act on it: this caller starts the retry, which fails again.
    const error = await manager.getToken('k').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'refresh_failed', retryAfter: 4 * SEC });
    expect(endpoint.received).toEqual(['rt-0', 'rt-0']);
    await advance(clock, 4 * SEC);
    expect((await manager.getToken('k')).accessToken).toBe('at-1');
    expect(endpoint.received).toEqual(['rt-0', 'rt-0', 'rt-0']);
    await manager.stop();
  });

  it('backgroundRefresh false: a degraded token still valid is re-evaluated after its retry moment, no refresh before it is due', async () => {
    const { clock, endpoint, manager } = setup({ backgroundRefresh: false, retry: { minDelay: '4s', maxDelay: '4s', jitter: 0 } });
    await manager.setToken('k', login);
    endpoint.next({ kind: 'throw', error: new RefreshFailedError('down', { status: 503 }) });
    await expect(manager.refresh('k')).rejects.toMatchObject({ code: 'refresh_failed' });
    expect(manager.status('k')).toMatchObject({ state: 'degraded', detail: 'retrying' });
    await advance(clock, 4 * SEC - 1);
    expect((await manager.getToken('k')).accessToken).toBe('at-0');
    expect(manager.status('k')).toMatchObject({ state: 'degraded', detail: 'retrying', retryAt: T0 + 4 * SEC });
    await advance(clock, 1);
    // No timer acts on the passed retry moment: the next caller has the machine look again (valid, not due).
    expect((await manager.getToken('k')).accessToken).toBe('at-0');
    expect(manager.status('k')).toMatchObject({ state: 'valid', needsRefresh: false });
    expect(manager.status('k').retryAt).toBeUndefined();
    expect(endpoint.received).toEqual(['rt-0']);
    await manager.stop();
  });
});

describe('refresh()', () => {
  it('joins the refresh in flight: one request, the same new token', async () => {
    const { clock, endpoint, manager } = setup({ backgroundRefresh: false });
    await manager.setToken('k', login);
    await advance(clock, HOUR - MIN);
    endpoint.next({ kind: 'hold' });
    const viaGet = manager.getToken('k');
    await settle();
    const forced = manager.refresh('k');
    await settle();
    endpoint.release();
    expect((await forced).accessToken).toBe('at-1');
    expect((await viaGet).accessToken).toBe('at-1');
    expect(endpoint.received).toEqual(['rt-0']);
    await manager.stop();
  });

  it('no refresh token and an endpoint that needs one: refresh_token_missing, nothing sent', async () => {
    const { endpoint, manager } = setup();
    await manager.setToken('k', { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600 });
    await expect(manager.refresh('k')).rejects.toMatchObject({ code: 'refresh_token_missing', key: 'k' });
    expect(endpoint.received).toEqual([]);
    await manager.stop();
  });

  it('an endpoint that renews without a refresh token is refreshed anyway (R8)', async () => {
    const { endpoint, manager } = setup({}, { canRenewWithoutRefreshToken: true });
    await manager.setToken('k', { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600 });
    expect((await manager.refresh('k')).accessToken).toBe('at-1');
    expect(endpoint.received).toEqual([undefined]);
    await manager.stop();
  });

  it('an untyped failure rejects with refresh_failed carrying it as the cause', async () => {
    const { endpoint, manager } = setup();
    await manager.setToken('k', login);
    const cause = new TypeError('fetch failed');
    endpoint.next({ kind: 'throw', error: cause });
    const error = await manager.refresh('k').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RefreshFailedError);
    expect(error).toMatchObject({ code: 'refresh_failed', key: 'k', cause, message: 'Token refresh failed' });
    await manager.stop();
  });

  it('a typed failure rejects with that very error', async () => {
    const { endpoint, manager } = setup();
    await manager.setToken('k', login);
    const rejection = new InvalidGrantError({ status: 400 });
    endpoint.next({ kind: 'throw', error: rejection });
    await expect(manager.refresh('k')).rejects.toBe(rejection);
    await manager.stop();
  });

  it('a signal ends this caller only; the refresh goes on for the others', async () => {
    const { endpoint, manager } = setup();
    await manager.setToken('k', login);
    endpoint.next({ kind: 'hold' });
    const controller = new AbortController();
    const aborted = manager.refresh('k', { signal: controller.signal });
    const other = manager.refresh('k');
    await settle();
    controller.abort(new Error('no more waiting'));
    await expect(aborted).rejects.toThrow('no more waiting');
    endpoint.release();
    expect((await other).accessToken).toBe('at-1');
    expect(endpoint.received).toEqual(['rt-0']);
    await manager.stop();
  });

  it('stop() right after the call, before it runs: nothing is sent, the caller gets stopped', async () => {
    const { clock, endpoint, manager } = setup();
    await manager.setToken('k', login);
    const forced = manager.refresh('k');
    const stopping = manager.stop();
    await expect(forced).rejects.toMatchObject({ code: 'stopped' });
    await stopping;
    await advance(clock, 2 * HOUR);
    expect(endpoint.received).toEqual([]);
  });

  it('a login during a refresh answers the callers waiting for it with the new tokens', async () => {
    const { clock, endpoint, manager } = setup({ backgroundRefresh: false });
    await manager.setToken('k', login);
    await advance(clock, HOUR - MIN);
    endpoint.next({ kind: 'hold' });
    const waiting = track(manager.getToken('k'));
    await settle();
    expect(manager.status('k').state).toBe('refreshing');
    await manager.setToken('k', { ...login, access_token: 'at-login' });
    await settle();
    expect(waiting.value?.accessToken).toBe('at-login');
    endpoint.release();
    await settle();
    expect(manager.peekToken('k')?.accessToken).toBe('at-login');
    await manager.stop();
  });

  it('a login while refresh() waits, after an earlier failure: refresh() resolves to the login', async () => {
    const { endpoint, manager } = setup();
    await manager.setToken('k', login);
    endpoint.next({ kind: 'throw', error: new RefreshFailedError('down', { status: 503 }) });
    await expect(manager.refresh('k')).rejects.toMatchObject({ code: 'refresh_failed' });
    endpoint.next({ kind: 'hold' });
    const forced = manager.refresh('k');
    await settle();
    await manager.setToken('k', { ...login, access_token: 'at-login' });
    expect((await forced).accessToken).toBe('at-login');
    endpoint.release();
    await manager.stop();
  });

  it('stop() during the refresh: the caller gets stopped', async () => {
    const { endpoint, manager } = setup();
    await manager.setToken('k', login);
    endpoint.next({ kind: 'hold' });
    const pending = manager.refresh('k');
    await settle();
    const stopping = manager.stop();
    await expect(pending).rejects.toMatchObject({ code: 'stopped' });
    endpoint.release();
    await stopping;
  });
});

describe('renewAfterUnauthorized (R10)', () => {
  it('a 401 for an older token is answered with the current one, no request', async () => {
    const { endpoint, manager } = setup();
    await manager.setToken('k', login);
    expect((await manager.renewAfterUnauthorized('k', 'an-older-token'))?.accessToken).toBe('at-0');
    expect(endpoint.received).toEqual([]);
    await manager.stop();
  });

  it('a 401 for the current token refreshes and answers with the new one', async () => {
    const { endpoint, manager } = setup();
    await manager.setToken('k', login);
    expect((await manager.renewAfterUnauthorized('k', 'at-0'))?.accessToken).toBe('at-1');
    expect(endpoint.received).toEqual(['rt-0']);
    await manager.stop();
  });

  it('during a refresh it waits and answers with the new token, no second request', async () => {
    const { endpoint, manager } = setup();
    await manager.setToken('k', login);
    endpoint.next({ kind: 'hold' });
    const forced = manager.refresh('k');
    await settle();
    const renewing = manager.renewAfterUnauthorized('k', 'at-0');
    await settle();
    endpoint.release();
    expect((await renewing)?.accessToken).toBe('at-1');
    await forced;
    expect(endpoint.received).toEqual(['rt-0']);
    await manager.stop();
  });

  it('during a refresh that fails it answers undefined', async () => {
    const { endpoint, manager } = setup();
    await manager.setToken('k', login);
    endpoint.next({ kind: 'hold' });
    endpoint.next({ kind: 'throw', error: new RefreshFailedError('down', { status: 503 }) });
    const forced = manager.refresh('k');
    await settle();
    const renewing = manager.renewAfterUnauthorized('k', 'at-0');
    await settle();
    endpoint.release();
    expect(await renewing).toBeUndefined();
    await expect(forced).rejects.toMatchObject({ code: 'refresh_failed' });
    await manager.stop();
  });

  it('undefined when no refresh is possible: no refresh token, re-authentication, a pending Retry-After', async () => {
    const noRefresh = setup();
    await noRefresh.manager.setToken('k', { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600 });
    expect(await noRefresh.manager.renewAfterUnauthorized('k', 'at-0')).toBeUndefined();
    expect(noRefresh.endpoint.received).toEqual([]);

    const rejected = setup({ backgroundRefresh: false });
    await rejected.manager.setToken('k', { ...login, expires_in: 60 });
    await advance(rejected.clock, 60 * SEC);
    rejected.endpoint.next({ kind: 'throw', error: new InvalidGrantError({ status: 400 }) });
    await expect(rejected.manager.getToken('k')).rejects.toMatchObject({ code: 'reauth_required' });
    expect(await rejected.manager.renewAfterUnauthorized('k', 'at-0')).toBeUndefined();
    expect(rejected.endpoint.received).toEqual(['rt-0']);

    const busy = setup();
    await busy.manager.setToken('k', login);
    busy.endpoint.next({ kind: 'throw', error: new RefreshFailedError('busy', { status: 429, retryAfter: 60_000 }) });
    await expect(busy.manager.refresh('k')).rejects.toMatchObject({ code: 'refresh_failed' });
    await advance(busy.clock, 59 * SEC);
    expect(await busy.manager.renewAfterUnauthorized('k', 'at-0')).toBeUndefined();
    expect(busy.endpoint.received).toEqual(['rt-0']);
    for (const s of [noRefresh, rejected, busy]) await s.manager.stop();
  });

  it('the refresh it starts fails: undefined, the rejected token is never handed back', async () => {
    const { endpoint, manager } = setup();
    await manager.setToken('k', login);
    endpoint.next({ kind: 'throw', error: new RefreshFailedError('down', { status: 503 }) });
    expect(await manager.renewAfterUnauthorized('k', 'at-0')).toBeUndefined();
    expect(endpoint.received).toEqual(['rt-0']);
    await manager.stop();
  });

  it('within the minimum interval it waits for it, then refreshes', async () => {
    const { clock, endpoint, manager } = setup({ minRefreshInterval: '10s' });
    await manager.setToken('k', login);
    await manager.refresh('k');
    await advance(clock, 3 * SEC);
    const renewing = track(manager.renewAfterUnauthorized('k', 'at-1'));
    await advance(clock, 7 * SEC - 1);
    expect(renewing.done).toBe(false);
    expect(endpoint.received).toEqual(['rt-0']);
    await advance(clock, 1);
    expect(renewing.done).toBe(true);
    expect(renewing.value?.accessToken).toBe('at-2');
    expect(endpoint.received).toEqual(['rt-0', 'rt-1']);
    await manager.stop();
  });

  it('a credential never refreshed here is refreshed at once, also on a clock that starts at 0', async () => {
    const clock = new SimulatedClock();
    const endpoint = scriptedEndpoint();
    const manager = createTokenManager({ endpoint, clock, minRefreshInterval: '10s' });
    await manager.setToken('k', login);
    const renewing = track(manager.renewAfterUnauthorized('k', 'at-0'));
    await settle();
    expect(renewing.value?.accessToken).toBe('at-1');
    await manager.stop();
  });

  it('exactly at the end of the minimum interval it refreshes without waiting', async () => {
    const { clock, endpoint, manager } = setup({ minRefreshInterval: '10s' });
    await manager.setToken('k', login);
    await manager.refresh('k');
    await advance(clock, 10 * SEC);
    const renewing = track(manager.renewAfterUnauthorized('k', 'at-1'));
    await settle();
    expect(renewing.value?.accessToken).toBe('at-2');
    expect(endpoint.received).toEqual(['rt-0', 'rt-1']);
    await manager.stop();
  });

  it('a token refreshed by someone else during that wait is used, no second refresh', async () => {
    const { clock, endpoint, manager } = setup({ minRefreshInterval: '10s' });
    await manager.setToken('k', login);
    await manager.refresh('k');
    const renewing = track(manager.renewAfterUnauthorized('k', 'at-1'));
    await advance(clock, 5 * SEC);
    await manager.setToken('k', { ...login, access_token: 'at-login' });
    await advance(clock, 5 * SEC);
    expect(renewing.value?.accessToken).toBe('at-login');
    expect(endpoint.received).toEqual(['rt-0']);
    await manager.stop();
  });

  it('a refresh started by someone else during that wait is joined', async () => {
    const { clock, endpoint, manager } = setup({ minRefreshInterval: '10s' });
    await manager.setToken('k', login);
    await manager.refresh('k');
    const renewing = track(manager.renewAfterUnauthorized('k', 'at-1'));
    await advance(clock, 5 * SEC);
    endpoint.next({ kind: 'hold' });
    const forced = manager.refresh('k');
    await advance(clock, 5 * SEC);
    expect(renewing.done).toBe(false);
    endpoint.release();
    await forced;
    await settle();
    expect(renewing.value?.accessToken).toBe('at-2');
    expect(endpoint.received).toEqual(['rt-0', 'rt-1']);
    await manager.stop();
  });

  it('a signal ends the wait for the minimum interval, and its timer', async () => {
    const { clock, endpoint, manager } = setup({ minRefreshInterval: '10s' });
    await manager.setToken('k', login);
    await manager.refresh('k');
    const controller = new AbortController();
    const renewing = manager.renewAfterUnauthorized('k', 'at-1', { signal: controller.signal });
    await settle();
    const cleared = vi.spyOn(clock, 'clearTimeout');
    controller.abort(new Error('request cancelled'));
    await expect(renewing).rejects.toThrow('request cancelled');
    expect(cleared).toHaveBeenCalled();
    await advance(clock, 20 * SEC);
    expect(endpoint.received).toEqual(['rt-0']);
    await manager.stop();
  });

  it('stop() during that wait: the caller gets stopped', async () => {
    const { clock, endpoint, manager } = setup({ minRefreshInterval: '10s' });
    await manager.setToken('k', login);
    await manager.refresh('k');
    const renewing = manager.renewAfterUnauthorized('k', 'at-1');
    await settle();
    await manager.stop();
    clock.increment(10 * SEC);
    await expect(renewing).rejects.toMatchObject({ code: 'stopped' });
    expect(endpoint.received).toEqual(['rt-0']);
  });

  it('a stored record from another process is adopted when the key is first used', async () => {
    const { storage, endpoint, manager } = setup();
    const record: TokenRecord = { accessToken: 'at-s', tokenType: 'Bearer', obtainedAt: T0, expiresAt: T0 + HOUR, refreshToken: 'rt-s', version: 3 };
    await storage.set('k', record);
    expect((await manager.renewAfterUnauthorized('k', 'older'))?.accessToken).toBe('at-s');
    expect(endpoint.received).toEqual([]);
    await manager.stop();
  });
});

describe('a signal already aborted', () => {
  it('refresh() rejects with its reason and sends nothing', async () => {
    const { manager, endpoint } = setup();
    await manager.setToken('k', login);
    const reason = new Error('gave up before asking');
    await expect(manager.refresh('k', { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    await settle();
    expect(endpoint.received).toEqual([]);
    expect(manager.status('k').state).toBe('valid');
  });

  it('renewAfterUnauthorized() rejects with its reason and sends nothing', async () => {
    const { manager, endpoint } = setup();
    await manager.setToken('k', login);
    const reason = new Error('request cancelled');
    await expect(manager.renewAfterUnauthorized('k', 'at-0', { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    await settle();
    expect(endpoint.received).toEqual([]);
  });

  it('a signal aborted while the key loads: refresh() rejects with its reason and sends nothing', async () => {
    const inner = memoryStorage();
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const storage: TokenStorage = { ...inner, get: async (key) => (await gate, inner.get(key)), set: inner.set, delete: inner.delete };
    await inner.set('k', { accessToken: 'at-s', tokenType: 'Bearer', obtainedAt: T0, expiresAt: T0 + HOUR, refreshToken: 'rt-0', version: 1 });
    const clock = new SimulatedClock();
    clock.set(T0);
    const endpoint = scriptedEndpoint();
    const manager = createTokenManager({ endpoint, storage, clock });
    const controller = new AbortController();
    const pending = manager.refresh('k', { signal: controller.signal });
    const reason = new Error('too slow to load');
    controller.abort(reason);
    open();
    await expect(pending).rejects.toBe(reason);
    await settle();
    expect(endpoint.received).toEqual([]);
  });
});

describe('many callers sharing one signal (issue 21 case 6)', () => {
  it('add one abort listener in all, removed once the last of them is served', async () => {
    const { endpoint, manager } = setup();
    await manager.setToken('k', login);
    endpoint.next({ kind: 'hold' });
    void manager.refresh('k');
    await settle();
    const controller = new AbortController();
    const add = vi.spyOn(controller.signal, 'addEventListener');
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    const callers = Array.from({ length: 25 }, () => manager.getToken('k', { signal: controller.signal }));
    const forced = manager.refresh('k', { signal: controller.signal });
    await settle();
    expect(add).toHaveBeenCalledTimes(1);
    endpoint.release();
    for (const token of await Promise.all([...callers, forced])) expect(token.accessToken).toBe('at-1');
    expect(remove).toHaveBeenCalledTimes(1);
    expect(remove.mock.calls[0]?.[1]).toBe(add.mock.calls[0]?.[1]);
    await manager.stop();
  });

  it('an abort ends every wait on it with its reason; a later wait on another signal is unaffected', async () => {
    const { endpoint, manager } = setup();
    await manager.setToken('k', login);
    endpoint.next({ kind: 'hold' });
    void manager.refresh('k');
    await settle();
    const shared = new AbortController();
    const reason = new Error('request cancelled');
    const callers = Array.from({ length: 15 }, () => manager.getToken('k', { signal: shared.signal }));
    const other = manager.getToken('k', { signal: new AbortController().signal });
    await settle();
    shared.abort(reason);
    for (const caller of callers) await expect(caller).rejects.toBe(reason);
    endpoint.release();
    expect((await other).accessToken).toBe('at-1');
    await manager.stop();
  });
});
