/** Unit tests of the manager's rules (DESIGN R1–R15) with a simulated clock and a scripted endpoint. */
import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createTokenManager } from '../../../machines/manager/manager.js';
import { memoryStorage } from '../../../machines/manager/memory-storage.js';
import { InvalidGrantError, RefreshFailedError, StorageFailedError } from '../../../machines/lifecycle/errors.js';
import type { TokenManagerOptions, TokenEvent } from '../../../machines/manager/api-types.js';
import type { TokenRecord, TokenStorage } from '../../../machines/lifecycle/types.js';
import { advance, scriptedEndpoint, settle } from '../../support/fake-endpoint.js';

const SEC = 1_000;
const MIN = 60_000;
const HOUR = 3_600_000;
const T0 = 1_000_000;

function setup(overrides: Partial<TokenManagerOptions> = {}, endpointOptions: Parameters<typeof scriptedEndpoint>[0] = {}) {
  const clock = new SimulatedClock();
  clock.set(T0);
  const endpoint = scriptedEndpoint(endpointOptions);
  const storage = memoryStorage({ now: () => clock.now() });
  const events: TokenEvent[] = [];
  const manager = createTokenManager({ endpoint, storage, clock, random: () => 0, ...overrides });
  manager.subscribe((e) => events.push(e));
  return { clock, endpoint, storage, manager, events };
}

const login = { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' };

/** A storage whose writes can be made to fail (ENOSPC-like), delegating to memory otherwise. */
function flakyStorage(inner: TokenStorage) {
  const state = { failWrites: false, writes: [] as TokenRecord[] };
  const storage: TokenStorage = {
    get: (key) => inner.get(key),
    async set(key, record, options) {
      if (state.failWrites) throw new StorageFailedError('disk full');
      state.writes.push(record);
      return inner.set(key, record, options);
    },
    delete: (key) => inner.delete(key),
  };
  return { storage, state };
}

describe('R1 minimum interval and expiry', () => {
  it('never starts two refreshes closer than minRefreshInterval, unless forced', async () => {
    const { clock, endpoint, manager } = setup({ backgroundRefresh: false, minRefreshInterval: '10s' }, { expiresIn: 4 });
    // A 4 s token refreshes at 2 s (half-lifetime cap); each new one is due again 2 s later.
    await manager.setToken('k', { ...login, expires_in: 4 });
    await advance(clock, 2 * SEC);
    await manager.getToken('k');
    expect(endpoint.received).toHaveLength(1);
    await advance(clock, 2 * SEC);
    expect((await manager.getToken('k')).accessToken).toBe('at-1');
    expect(endpoint.received).toHaveLength(1);
    await manager.refresh('k');
    expect(endpoint.received).toHaveLength(2);
  });

  it('the interval never delays the refresh of an expired token', async () => {
    const { clock, endpoint, manager } = setup({ backgroundRefresh: false, minRefreshInterval: '1h' }, { expiresIn: 4 });
    await manager.setToken('k', { ...login, expires_in: 4 });
    await advance(clock, 2 * SEC);
    await manager.getToken('k');
    await advance(clock, 4 * SEC);
    expect((await manager.getToken('k')).accessToken).toBe('at-2');
    expect(endpoint.received).toHaveLength(2);
  });

  it('a token that arrives already expired goes to degraded.expired with backoff, not a loop', async () => {
    const { clock, endpoint, manager } = setup({}, { expiresIn: 0 });
    await manager.setToken('k', { ...login, expires_in: 60 });
    await advance(clock, 30 * SEC);
    expect(manager.status('k')).toMatchObject({ state: 'degraded', detail: 'expired' });
    expect(endpoint.received).toHaveLength(1);
    await advance(clock, 500);
    expect(endpoint.received).toHaveLength(1);
    // The rotated refresh token of the expired response was kept.
    endpoint.expiresIn = 3600;
    await advance(clock, 2 * SEC);
    expect(endpoint.received).toEqual(['rt-0', 'rt-1']);
    expect(manager.status('k').state).toBe('valid');
  });

  it('each attempt that gets an already expired token tells refresh_failed only, never refreshed first', async () => {
    const { clock, endpoint, manager } = setup({}, { expiresIn: 0 });
    const told: string[] = [];
    manager.subscribe((event) => {
      if (event.type === 'refreshed' || event.type === 'refresh_failed') told.push(event.type);
    });
    await manager.setToken('k', { ...login, expires_in: 60 });
    await advance(clock, 30 * SEC);
    await advance(clock, 10 * SEC);
    expect(endpoint.received.length).toBeGreaterThanOrEqual(2);
    expect(told).toEqual(endpoint.received.map(() => 'refresh_failed'));
    endpoint.expiresIn = 3600;
    await advance(clock, 10 * SEC);
    expect(told.at(-1)).toBe('refreshed');
  });

  it('rejects invalid configuration with invalid_config', () => {
    const endpoint = scriptedEndpoint();
    for (const refreshThreshold of [-1, Number.NaN, 'soon', '-5m']) {
      expect(() => createTokenManager({ endpoint, refreshThreshold })).toThrow(expect.objectContaining({ code: 'invalid_config' }));
    }
    expect(() => createTokenManager({ endpoint, refreshJitter: 2 })).toThrow(expect.objectContaining({ code: 'invalid_config' }));
    expect(() => createTokenManager({ endpoint: {} as never })).toThrow(expect.objectContaining({ code: 'invalid_config' }));
  });
});

describe('R3 background refresh off', () => {
  it('no timer starts a request; the next getToken at or after the moment refreshes', async () => {
    const { clock, endpoint, manager } = setup({ backgroundRefresh: false });
    await manager.setToken('k', login);
    await advance(clock, 2 * HOUR);
    expect(endpoint.received).toHaveLength(0);
    expect((await manager.getToken('k')).accessToken).toBe('at-1');
    expect(endpoint.received).toHaveLength(1);
  });
});

describe('R4 rotation, nothing lost', () => {
  it('keeps the old refresh token when none is returned', async () => {
    const { clock, endpoint, manager } = setup({ backgroundRefresh: false });
    endpoint.rotate = false;
    await manager.setToken('k', login);
    await advance(clock, HOUR - MIN);
    const token = await manager.getToken('k');
    expect(token.accessToken).toBe('at-1');
    expect(token.refreshToken).toBe('rt-0');
  });

  it('writes new tokens before handing them out', async () => {
    const { clock, manager, storage } = setup({ backgroundRefresh: false });
    await manager.setToken('k', login);
    await advance(clock, HOUR - MIN);
    const token = await manager.getToken('k');
    expect((await storage.get('k'))?.accessToken).toBe(token.accessToken);
    expect((await storage.get('k'))?.refreshToken).toBe('rt-1');
  });

  it('a failed write keeps the rotated tokens in memory, reports storage_failed and retries until written', async () => {
    const clock = new SimulatedClock();
    clock.set(T0);
    const endpoint = scriptedEndpoint();
    const inner = memoryStorage();
    const { storage, state } = flakyStorage(inner);
    const events: TokenEvent[] = [];
    const manager = createTokenManager({ endpoint, storage, clock, backgroundRefresh: false });
    manager.subscribe((e) => events.push(e));
    await manager.setToken('k', login);
    state.failWrites = true;
    await advance(clock, HOUR - MIN);
    const token = await manager.getToken('k');
    expect(token.refreshToken).toBe('rt-1');
    expect((await inner.get('k'))?.refreshToken).toBe('rt-0');
    expect(events.some((e) => e.type === 'storage_failed')).toBe(true);
    // Still failing: the next refresh builds on the rotated token held in memory.
    await advance(clock, HOUR);
    expect((await manager.getToken('k')).refreshToken).toBe('rt-2');
    expect(endpoint.received).toEqual(['rt-0', 'rt-1']);
    state.failWrites = false;
    await advance(clock, 40 * SEC);
    expect((await inner.get('k'))?.refreshToken).toBe('rt-2');
    await manager.stop();
  });

  it('stop() rejects with storage_failed when a rotated token could not be written', async () => {
    const clock = new SimulatedClock();
    clock.set(T0);
    const { storage, state } = flakyStorage(memoryStorage());
    const manager = createTokenManager({ endpoint: scriptedEndpoint(), storage, clock, backgroundRefresh: false });
    await manager.setToken('k', login);
    state.failWrites = true;
    await advance(clock, HOUR - MIN);
    await manager.getToken('k');
    await expect(manager.stop()).rejects.toMatchObject({ code: 'storage_failed' });
  });

  it('storage never goes backwards: a stale write is refused and the newer record adopted', async () => {
    const { clock, endpoint, manager, storage } = setup({ backgroundRefresh: false });
    await manager.setToken('k', login);
    await advance(clock, HOUR - MIN);
    endpoint.next({ kind: 'hold' });
    const pending = manager.getToken('k');
    await settle();
    // Another process refreshed meanwhile and stored version 2 with its rotated token.
    const stored = (await storage.get('k')) as TokenRecord;
    await storage.set('k', { ...stored, accessToken: 'other-at', refreshToken: 'other-rt', version: stored.version + 1 }, { expectedVersion: stored.version });
    endpoint.release();
    const token = await pending;
    expect(token.refreshToken).toBe('other-rt');
    expect((await storage.get('k'))?.refreshToken).toBe('other-rt');
  });

  it('a malformed response keeps the old access token but a well-formed rotated refresh token replaces the old (R12)', async () => {
    const { clock, endpoint, manager, storage } = setup({ backgroundRefresh: false });
    await manager.setToken('k', login);
    await advance(clock, HOUR - MIN);
    endpoint.next({ kind: 'ok', body: { access_token: '' } });
    const token = await manager.getToken('k');
    expect(token.accessToken).toBe('at-0');
    expect(token.refreshToken).toBe('rt-1');
    expect((await storage.get('k'))?.refreshToken).toBe('rt-1');
    expect(manager.status('k')).toMatchObject({ state: 'degraded', detail: 'retrying', lastError: { code: 'invalid_token_response' } });
  });
});

describe('R5 backoff', () => {
  it('honours Retry-After and grows exponentially, never faster than the minimum interval', async () => {
    const { clock, endpoint, manager } = setup({ retry: { minDelay: '1s', maxDelay: '1m', factor: 2, jitter: 0 } });
    await manager.setToken('k', login);
    endpoint.next({ kind: 'throw', error: new RefreshFailedError('busy', { status: 429, retryAfter: 30_000 }) });
    endpoint.next({ kind: 'throw', error: new RefreshFailedError('down', { status: 503 }) });
    endpoint.next({ kind: 'throw', error: new RefreshFailedError('down', { status: 503 }) });
    await advance(clock, HOUR - 5 * MIN);
    expect(endpoint.received).toHaveLength(1);
    expect(manager.status('k').retryAt).toBe(clock.now() + 30_000);
    await advance(clock, 29_999);
    expect(endpoint.received).toHaveLength(1);
    await advance(clock, 1);
    expect(endpoint.received).toHaveLength(2);
    // attempt 1: 2 s exponential
    await advance(clock, 1_999);
    expect(endpoint.received).toHaveLength(2);
    await advance(clock, 1);
    expect(endpoint.received).toHaveLength(3);
    // attempt 2: 4 s, then success
    await advance(clock, 4_000);
    expect(endpoint.received).toHaveLength(4);
    expect(manager.status('k').state).toBe('valid');
  });

  it('emits a refresh_failed event without secrets and a warning state change', async () => {
    const { clock, endpoint, manager, events } = setup();
    await manager.setToken('k', login);
    endpoint.next({ kind: 'throw', error: new RefreshFailedError('down', { status: 503 }) });
    await advance(clock, HOUR - 5 * MIN);
    const failed = events.find((e) => e.type === 'refresh_failed');
    expect(failed).toMatchObject({ key: 'k', code: 'refresh_failed', retryable: true });
    expect(events.some((e) => e.type === 'state' && e.state === 'degraded' && e.detail === 'retrying')).toBe(true);
    expect(JSON.stringify(events)).not.toMatch(/at-\d|rt-\d/);
  });
});

describe('R6 re-authentication and R8 no refresh token', () => {
  it('no refresh token: nothing is sent, reauthRequired at expiry with reason refresh_token_missing', async () => {
    const reasons: string[] = [];
    const { clock, endpoint, manager } = setup({ onReauthRequired: (_k, reason) => reasons.push(reason) });
    await manager.setToken('k', { access_token: 'at-0', token_type: 'Bearer', expires_in: 600 });
    expect((await manager.getToken('k')).accessToken).toBe('at-0');
    await advance(clock, 600 * SEC);
    expect(endpoint.received).toHaveLength(0);
    expect(manager.status('k').state).toBe('reauthRequired');
    await expect(manager.getToken('k')).rejects.toMatchObject({ code: 'reauth_required', reason: 'refresh_token_missing' });
    await expect(manager.refresh('k')).rejects.toMatchObject({ code: 'reauth_required' });
    expect(reasons).toEqual(['refresh_token_missing']);
  });

  it('an expired token rejected by the server requires re-auth with the server code as reason', async () => {
    const { clock, endpoint, manager, events } = setup({ backgroundRefresh: false });
    await manager.setToken('k', login);
    await advance(clock, 2 * HOUR);
    endpoint.next({ kind: 'throw', error: new InvalidGrantError({ status: 400 }) });
    await expect(manager.getToken('k')).rejects.toMatchObject({ code: 'reauth_required', reason: 'invalid_grant' });
    expect(events.filter((e) => e.type === 'refresh_failed')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'reauth_required')).toHaveLength(1);
    // No more requests, whatever callers do.
    await expect(manager.getToken('k')).rejects.toMatchObject({ code: 'reauth_required' });
    expect(endpoint.received).toHaveLength(1);
    // A new login ends the episode.
    await manager.setToken('k', login);
    expect(manager.status('k').state).toBe('valid');
  });

  it('a forced refresh in degraded.rejected sends nothing and rejects with reauth_required', async () => {
    const { clock, endpoint, manager } = setup();
    await manager.setToken('k', login);
    endpoint.next({ kind: 'throw', error: new InvalidGrantError({ status: 400 }) });
    await advance(clock, HOUR - 5 * MIN);
    expect(manager.status('k')).toMatchObject({ state: 'degraded', detail: 'rejected' });
    await expect(manager.refresh('k')).rejects.toMatchObject({ code: 'reauth_required', reason: 'invalid_grant' });
    expect(endpoint.received).toHaveLength(1);
  });
});

describe('forced refresh and the API surface', () => {
  it('refresh() resolves to the new token set and rejects with the endpoint error', async () => {
    const { endpoint, manager } = setup();
    await manager.setToken('k', login);
    expect((await manager.refresh('k')).accessToken).toBe('at-1');
    endpoint.next({ kind: 'throw', error: new RefreshFailedError('down', { status: 503 }) });
    await expect(manager.refresh('k')).rejects.toMatchObject({ code: 'refresh_failed' });
    // Forced refresh ignores the backoff.
    expect((await manager.refresh('k')).accessToken).toBe('at-2');
  });

  it('getToken of a key never set rejects with not_found', async () => {
    const { manager } = setup();
    await expect(manager.getToken('nope')).rejects.toMatchObject({ code: 'not_found' });
    expect(manager.status('nope').state).toBe('idle');
  });

  it('client_credentials renews with no refresh token, also for a key never set (R8)', async () => {
    const { clock, endpoint, manager } = setup({}, { canRenewWithoutRefreshToken: true, expiresIn: 600 });
    const first = await manager.getToken();
    expect(first.accessToken).toBe('at-1');
    expect(endpoint.received).toEqual([undefined]);
    await advance(clock, 300 * SEC);
    expect(endpoint.received).toHaveLength(2);
    expect((await manager.getToken()).accessToken).toBe('at-2');
  });

  it('setToken rejects a malformed token response and keeps what was there', async () => {
    const { manager } = setup();
    await manager.setToken('k', login);
    await expect(manager.setToken('k', { access_token: '', token_type: 'Bearer' })).rejects.toMatchObject({ code: 'invalid_token_response' });
    expect((await manager.getToken('k')).accessToken).toBe('at-0');
  });

  it('accepts a TokenSet as well as a response, and status() describes it without secrets', async () => {
    const { manager } = setup();
    await manager.setToken('k', { accessToken: 'at-x', tokenType: 'Bearer', expiresAt: T0 + HOUR, refreshToken: 'rt-x' });
    const status = manager.status('k');
    expect(status).toMatchObject({
      state: 'valid',
      expiresAt: T0 + HOUR,
      refreshAt: T0 + HOUR - 5 * MIN,
      timeUntilExpiry: HOUR,
      timeUntilRefresh: HOUR - 5 * MIN,
      needsRefresh: false,
      hasRefreshToken: true,
    });
    expect(JSON.stringify(status)).not.toContain('at-x');
    expect(manager.peekToken('k')?.accessToken).toBe('at-x');
  });

  it('remove() revokes the refresh token then deletes; a failed revocation keeps the key', async () => {
    const { endpoint, manager, storage } = setup();
    await manager.setToken('k', login);
    const failing = { ...endpoint, revoke: async () => Promise.reject(new Error('offline')) };
    const other = createTokenManager({ endpoint: failing, storage });
    await expect(other.remove('k')).rejects.toMatchObject({ code: 'revocation_failed' });
    expect(await storage.get('k')).toBeDefined();
    await other.stop();
    await manager.remove('k');
    expect(endpoint.revoked).toEqual(['rt-0']);
    expect(await storage.get('k')).toBeUndefined();
    await expect(manager.getToken('k')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('an aborted getToken ends that caller only; the shared refresh goes on', async () => {
    const { clock, endpoint, manager } = setup({ backgroundRefresh: false });
    await manager.setToken('k', login);
    await advance(clock, HOUR - MIN);
    endpoint.next({ kind: 'hold' });
    const controller = new AbortController();
    const aborted = manager.getToken('k', { signal: controller.signal });
    const other = manager.getToken('k');
    await settle();
    controller.abort(new Error('caller gave up'));
    await expect(aborted).rejects.toThrow('caller gave up');
    endpoint.release();
    expect((await other).accessToken).toBe('at-1');
  });
});

describe('R14 restart and R15 stop', () => {
  it('a new manager over the same storage resumes without a request when far from expiry', async () => {
    const { clock, endpoint, manager, storage } = setup();
    await manager.setToken('k', login);
    await manager.stop();
    const again = createTokenManager({ endpoint, storage, clock });
    await again.start();
    expect(again.status('k').state).toBe('valid');
    expect((await again.getToken('k')).accessToken).toBe('at-0');
    expect(endpoint.received).toHaveLength(0);
    await again.stop();
  });

  it('a stored rejection is never re-sent after a restart, and a stored retryAt is honoured', async () => {
    const { clock, endpoint, manager, storage } = setup({ backgroundRefresh: false });
    await manager.setToken('a', login);
    await manager.setToken('b', { ...login, refresh_token: 'rt-b' });
    await advance(clock, HOUR - MIN);
    endpoint.next({ kind: 'throw', error: new InvalidGrantError({ status: 400 }) });
    await manager.getToken('a');
    endpoint.next({ kind: 'throw', error: new RefreshFailedError('busy', { status: 429, retryAfter: 120_000 }) });
    await manager.getToken('b');
    await manager.stop();
    expect(endpoint.received).toHaveLength(2);
    const again = createTokenManager({ endpoint, storage, clock, backgroundRefresh: false });
    expect(await again.getToken('a')).toMatchObject({ accessToken: 'at-0' });
    expect(again.status('a')).toMatchObject({ state: 'degraded', detail: 'rejected' });
    expect(await again.getToken('b')).toMatchObject({ accessToken: 'at-0' });
    expect(again.status('b')).toMatchObject({ state: 'degraded', detail: 'retrying' });
    expect(endpoint.received).toHaveLength(2);
    await advance(clock, 120 * SEC);
    expect((await again.getToken('b')).accessToken).toBe('at-1');
    await again.stop();
  });

  it('stop() lets an in-flight refresh finish and persist, and nothing refreshes afterwards', async () => {
    const { clock, endpoint, manager, storage } = setup({ backgroundRefresh: false });
    await manager.setToken('k', login);
    await advance(clock, HOUR - MIN);
    endpoint.next({ kind: 'hold' });
    const pending = manager.getToken('k');
    await settle();
    const stopping = manager.stop();
    endpoint.release();
    await stopping;
    expect((await storage.get('k'))?.refreshToken).toBe('rt-1');
    await expect(pending).rejects.toMatchObject({ code: 'stopped' });
    await expect(manager.getToken('k')).rejects.toMatchObject({ code: 'stopped' });
    await advance(clock, 2 * HOUR);
    expect(endpoint.received).toHaveLength(1);
  });
});

describe('R15 nothing starts after stop()', () => {
  it('while stop() waits for one refresh, no other credential starts one (live actors too)', async () => {
    const { clock, endpoint, manager } = setup({ inspect: () => undefined, stopTimeout: '5s' });
    await manager.setToken('a', login);
    await manager.setToken('b', { ...login, expires_in: 3600 + 60 });
    endpoint.next({ kind: 'hold' });
    await advance(clock, HOUR - 5 * MIN);
    expect(endpoint.received).toEqual(['rt-0']);
    const stopping = manager.stop();
    await advance(clock, 2 * MIN);
    expect(endpoint.received).toEqual(['rt-0']);
    endpoint.release();
    await stopping;
    expect(() => manager.actor('a')).toThrow(expect.objectContaining({ code: 'stopped' }));
  });
});
