/**
 * stop() and start() (issue 8, R15): the bounded wait for refreshes in flight, the error naming
 * unwritten credentials, every call after stop(), and start() loading what storage lists.
 */
import { SimulatedClock } from 'xstate';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NotFoundError, StorageFailedError } from '../../../machines/lifecycle/errors.js';
import { createTokenManager } from '../../../machines/manager/manager.js';
import type { TokenEvent, TokenManagerOptions } from '../../../machines/manager/api-types.js';
import { memoryStorage } from '../../../machines/manager/memory-storage.js';
import type { TokenRecord, TokenStorage } from '../../../machines/lifecycle/types.js';
import { advance, scriptedEndpoint, settle } from '../../support/fake-endpoint.js';
import { simulatedManager, T0 } from '../../support/simulated-manager.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const login = { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' };

const setup = (extra: Partial<TokenManagerOptions> = {}) => simulatedManager(extra);

/** Memory storage whose writes fail while `failing` is set. */
function flaky(clock: SimulatedClock) {
  const inner = memoryStorage({ now: () => clock.now() });
  const control = { failing: false, attempts: 0 };
  const storage: TokenStorage = {
    get: (key) => inner.get(key),
    set: async (key, record, options) => {
      control.attempts++;
      if (control.failing) throw new StorageFailedError('disk full');
      return inner.set(key, record, options);
    },
    delete: (key) => inner.delete(key),
  };
  return { storage, control, inner };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('stop() and refreshes in flight', () => {
  it('waits at most stopTimeout (real time) for a refresh that never ends', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { endpoint, manager } = setup({ stopTimeout: '3s' });
    await manager.setToken('k', login);
    endpoint.next({ kind: 'hold' });
    void manager.refresh('k').catch(() => undefined);
    await settle();
    let stopped = false;
    const stopping = manager.stop().then(() => (stopped = true));
    await settle();
    vi.advanceTimersByTime(2_999);
    await settle();
    expect(stopped).toBe(false);
    vi.advanceTimersByTime(1);
    await stopping;
    expect(stopped).toBe(true);
  });

  it('the bound is cleared when the refreshes end first', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { endpoint, manager } = setup({ stopTimeout: '1h' });
    await manager.setToken('k', login);
    endpoint.next({ kind: 'hold' });
    void manager.refresh('k').catch(() => undefined);
    await settle();
    const stopping = manager.stop();
    await settle();
    expect(vi.getTimerCount()).toBe(1);
    endpoint.release();
    await stopping;
    expect(vi.getTimerCount()).toBe(0);
  });

  it('with nothing in flight, stop() arms no timer at all', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { manager } = setup();
    await manager.setToken('k', login);
    await manager.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('stop() waits for the newest refresh', () => {
  it('an abandoned refresh settling first does not end the wait for the one that replaced it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const clock = new SimulatedClock();
    clock.set(T0);
    const calls: Array<{ token: string | undefined; release: () => void }> = [];
    let issued = 0;
    const endpoint = {
      refresh: async (token: string | undefined) => {
        await new Promise<void>((resolve) => calls.push({ token, release: resolve }));
        issued++;
        return { access_token: `at-${issued}`, token_type: 'Bearer', expires_in: 3600, refresh_token: `rt-${issued}` };
      },
    };
    // No lock: the two refreshes reach the endpoint side by side.
    const inner = memoryStorage({ now: () => clock.now() });
    const storage: TokenStorage = { get: inner.get, set: inner.set, delete: inner.delete };
    const manager = createTokenManager({ endpoint, storage, clock, stopTimeout: '1h' });
    await manager.setToken('k', login);
    void manager.refresh('k').catch(() => undefined);
    await settle();
    // A new login abandons that refresh; a second one starts from the login.
    await manager.setToken('k', { ...login, refresh_token: 'rt-login' });
    void manager.refresh('k').catch(() => undefined);
    await settle();
    expect(calls.map((c) => c.token)).toEqual(['rt-0', 'rt-login']);
    calls[0]?.release();
    await settle();
    let stopped = false;
    const stopping = manager.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    calls[1]?.release();
    await stopping;
    // Its rotated token was written before stop() resolved (R15).
    expect((await storage.get('k'))?.refreshToken).toBe('rt-2');
  });
});

describe('stop() and unwritten tokens', () => {
  async function failedWrite(keys: string[]) {
    const clock = new SimulatedClock();
    clock.set(T0);
    const { storage, control } = flaky(clock);
    const manager = createTokenManager({ endpoint: scriptedEndpoint(), storage, clock, backgroundRefresh: false });
    for (const key of keys) await manager.setToken(key, login);
    await manager.setToken('fine', { ...login, expires_in: 7200 });
    control.failing = true;
    await advance(clock, HOUR - MIN);
    for (const key of keys) await manager.getToken(key);
    return { manager, control, clock };
  }

  it('one credential: storage_failed, not retryable, naming its key; no write is retried afterwards', async () => {
    const { manager, control, clock } = await failedWrite(['k']);
    const error = await manager.stop().then(
      () => undefined,
      (e: unknown) => e,
    );
    const attempts = control.attempts;
    control.failing = false;
    await advance(clock, 10 * MIN);
    expect(control.attempts).toBe(attempts);
    expect(error).toBeInstanceOf(StorageFailedError);
    expect(error).toMatchObject({ code: 'storage_failed', retryable: false, key: 'k' });
    expect((error as Error).message).toBe('Refreshed tokens of 1 credential(s) could not be written to storage before stop()');
  });

  it('several: the count, no key', async () => {
    const { manager } = await failedWrite(['a', 'b']);
    const error = await manager.stop().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as Error).message).toBe('Refreshed tokens of 2 credential(s) could not be written to storage before stop()');
    expect((error as StorageFailedError).key).toBeUndefined();
  });

  it('a write that succeeds at stop() is not an error', async () => {
    const { manager, control } = await failedWrite(['k']);
    control.failing = false;
    await expect(manager.stop()).resolves.toBeUndefined();
  });
});

describe('after stop()', () => {
  it('every call but stop(), status() and peekToken() is refused with stopped; a second stop() resolves', async () => {
    const { manager } = setup();
    await manager.setToken('k', login);
    await manager.stop();
    const stopped = { code: 'stopped' };
    await expect(manager.getToken('k')).rejects.toMatchObject(stopped);
    await expect(manager.getToken('other')).rejects.toMatchObject(stopped);
    await expect(manager.setToken('k', login)).rejects.toMatchObject(stopped);
    await expect(manager.refresh('k')).rejects.toMatchObject(stopped);
    await expect(manager.renewAfterUnauthorized('k', 'at-0')).rejects.toMatchObject(stopped);
    await expect(manager.remove('k')).rejects.toMatchObject(stopped);
    await expect(manager.start()).rejects.toMatchObject(stopped);
    expect(() => manager.actor('k')).toThrow(expect.objectContaining(stopped));
    expect(() => manager.actor('new')).toThrow(expect.objectContaining(stopped));
    expect(manager.peekToken('k')).toBeUndefined();
    expect(manager.status('k').key).toBe('k');
    await expect(manager.stop()).resolves.toBeUndefined();
  });

  it('a load that finishes after stop() is refused with stopped', async () => {
    const clock = new SimulatedClock();
    const inner = memoryStorage();
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const storage: TokenStorage = { get: async (key) => (await gate, inner.get(key)), set: inner.set, delete: inner.delete };
    await inner.set('k', { accessToken: 'at-s', tokenType: 'Bearer', obtainedAt: 0, refreshToken: 'r', version: 1 });
    const manager = createTokenManager({ endpoint: scriptedEndpoint(), storage, clock });
    const pending = manager.getToken('k');
    await settle();
    await manager.stop();
    open();
    await expect(pending).rejects.toMatchObject({ code: 'stopped' });
    expect(manager.peekToken('k')).toBeUndefined();
  });

  it('a login whose write finishes after stop() is refused with stopped and not served', async () => {
    const clock = new SimulatedClock();
    const inner = memoryStorage();
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const storage: TokenStorage = { get: inner.get, set: async (...args) => (await gate, inner.set(...args)), delete: inner.delete };
    const manager = createTokenManager({ endpoint: scriptedEndpoint(), storage, clock });
    const pending = manager.setToken('k', login);
    await settle();
    await manager.stop();
    open();
    await expect(pending).rejects.toMatchObject({ code: 'stopped' });
    expect(manager.peekToken('k')).toBeUndefined();
  });

  it('no background refresh, nor storage change, reaches a stopped manager', async () => {
    const { clock, endpoint, storage, manager } = setup();
    await manager.setToken('k', login);
    await manager.stop();
    const other = createTokenManager({ endpoint: scriptedEndpoint(), storage, clock });
    await other.setToken('k', { ...login, access_token: 'at-other' });
    await other.stop();
    await advance(clock, 2 * HOUR);
    expect(endpoint.received).toEqual([]);
    expect(manager.peekToken('k')).toBeUndefined();
  });
});

describe('start()', () => {
  it('loads every stored key so that each refreshes in the background', async () => {
    const { clock, endpoint, storage } = setup();
    for (const key of ['a', 'b', 'c']) {
      await storage.set(key, { accessToken: `at-${key}`, tokenType: 'Bearer', obtainedAt: T0, expiresAt: T0 + HOUR, refreshToken: `rt-${key}`, version: 1 });
    }
    const manager = createTokenManager({ endpoint, storage, clock, random: () => 0 });
    await manager.start();
    expect(['a', 'b', 'c'].map((key) => manager.peekToken(key)?.accessToken)).toEqual(['at-a', 'at-b', 'at-c']);
    await advance(clock, HOUR - 5 * MIN);
    expect([...endpoint.received].sort()).toEqual(['rt-a', 'rt-b', 'rt-c']);
    await manager.stop();
  });

  it('more keys than one batch are all loaded', async () => {
    const clock = new SimulatedClock();
    const inner = memoryStorage();
    const count = 1024 + 3;
    for (let i = 0; i < count; i++) {
      await inner.set(`k${i}`, { accessToken: `at-${i}`, tokenType: 'Bearer', obtainedAt: 0, refreshToken: 'r', version: 1 });
    }
    const manager = createTokenManager({ endpoint: scriptedEndpoint(), storage: inner, clock });
    await manager.start();
    expect(manager.peekToken('k0')?.accessToken).toBe('at-0');
    expect(manager.peekToken(`k${count - 1}`)?.accessToken).toBe(`at-${count - 1}`);
    await manager.stop();
  });

  it('a key listed but gone when read is skipped; an unreadable key fails start()', async () => {
    const inner = memoryStorage();
    const record: TokenRecord = { accessToken: 'at-a', tokenType: 'Bearer', obtainedAt: 0, refreshToken: 'r', version: 1 };
    await inner.set('a', record);
    const unreadable = new StorageFailedError('corrupt');
    let broken = false;
    const storage: TokenStorage = {
      get: async (key) => (key === 'bad' && broken ? Promise.reject(unreadable) : inner.get(key)),
      set: inner.set,
      delete: inner.delete,
      keys: async () => ['a', 'gone', ...(broken ? ['bad'] : [])],
    };
    const manager = createTokenManager({ endpoint: scriptedEndpoint(), storage, clock: new SimulatedClock() });
    await expect(manager.start()).resolves.toBeUndefined();
    expect(manager.peekToken('a')?.accessToken).toBe('at-a');
    broken = true;
    await expect(manager.start()).rejects.toBe(unreadable);
    await manager.stop();
  });

  it('a storage without keys() starts with nothing and loads lazily', async () => {
    const inner = memoryStorage();
    await inner.set('a', { accessToken: 'at-a', tokenType: 'Bearer', obtainedAt: 0, refreshToken: 'r', version: 1 });
    const storage: TokenStorage = { get: inner.get, set: inner.set, delete: inner.delete };
    const manager = createTokenManager({ endpoint: scriptedEndpoint(), storage, clock: new SimulatedClock() });
    await manager.start();
    expect(manager.peekToken('a')).toBeUndefined();
    expect((await manager.getToken('a')).accessToken).toBe('at-a');
    await expect(manager.getToken('b')).rejects.toBeInstanceOf(NotFoundError);
    await manager.stop();
  });
});

describe('stop() never hangs its host (issue 21)', () => {
  const hanging = (clock: SimulatedClock) => {
    const inner = memoryStorage({ now: () => clock.now() });
    const control = { mode: 'ok' as 'ok' | 'fail' | 'hang', writes: 0 };
    const storage: TokenStorage = {
      get: (key) => inner.get(key),
      delete: (key) => inner.delete(key),
      set: (key, record, options) => {
        if (control.mode === 'ok') return inner.set(key, record, options);
        control.writes++;
        return control.mode === 'fail' ? Promise.reject(new Error('disk full')) : new Promise<void>(() => undefined);
      },
    };
    return { storage, control, inner };
  };

  it('a refreshed token whose write hangs: storage_failed after stopTimeout (real time), told once by an event', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const clock = new SimulatedClock();
    clock.set(T0);
    const { storage, control } = hanging(clock);
    const manager = createTokenManager({ endpoint: scriptedEndpoint(), storage, clock, stopTimeout: '2s' });
    const failures: TokenEvent[] = [];
    manager.subscribe((event) => event.type === 'storage_failed' && failures.push(event));
    await manager.setToken('k', login);
    control.mode = 'hang';
    void manager.refresh('k').catch(() => undefined);
    await settle();
    let outcome: unknown;
    const stopping = manager.stop().then(
      () => (outcome = 'resolved'),
      (error: unknown) => (outcome = error),
    );
    await settle();
    vi.advanceTimersByTime(1_999);
    await settle();
    expect(outcome).toBeUndefined();
    vi.advanceTimersByTime(1);
    await stopping;
    expect(outcome).toMatchObject({ code: 'storage_failed', key: 'k', retryable: false });
    expect(failures).toEqual([{ type: 'storage_failed', key: 'k', at: clock.now(), code: 'storage_failed', retrying: false }]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a write retry in flight when stop() begins is waited for, not doubled', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const clock = new SimulatedClock();
    clock.set(T0);
    const { storage, control } = hanging(clock);
    const manager = createTokenManager({ endpoint: scriptedEndpoint(), storage, clock, stopTimeout: '1s' });
    await manager.setToken('k', login);
    control.mode = 'fail';
    await manager.refresh('k');
    control.mode = 'hang';
    await advance(clock, 500); // the retry starts and hangs
    expect(control.writes).toBe(2);
    const stopping = manager.stop().catch((error: unknown) => error);
    await settle();
    vi.advanceTimersByTime(1_000);
    expect(await stopping).toMatchObject({ code: 'storage_failed' });
    expect(control.writes).toBe(2);
  });

  it('R15: a refresh that ends after the bound is never aborted, and its tokens are still written', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { endpoint, storage, manager } = setup({ stopTimeout: '1s' });
    const calls: unknown[][] = [];
    const refresh = endpoint.refresh.bind(endpoint);
    endpoint.refresh = (...args) => (calls.push(args), refresh(...args));
    await manager.setToken('k', login);
    endpoint.next({ kind: 'hold' });
    void manager.refresh('k').catch(() => undefined);
    await settle();
    const stopping = manager.stop();
    await settle();
    vi.advanceTimersByTime(1_000);
    await expect(stopping).resolves.toBeUndefined();
    // No signal handed to the endpoint: nothing can abort it (a timed-out one is kept for its late answer, R4).
    expect(calls).toEqual([['rt-0', { lateAnswer: expect.any(Function) }]]);
    endpoint.release();
    await settle();
    expect(await storage.get('k')).toMatchObject({ accessToken: 'at-1', refreshToken: 'rt-1' });
  });

  it('every caller still waiting gets stopped: on a load, a refresh, the minimum interval', async () => {
    const clock = new SimulatedClock();
    clock.set(T0);
    const inner = memoryStorage({ now: () => clock.now() });
    const storage: TokenStorage = {
      get: (key) => (key === 'slow' ? new Promise(() => undefined) : inner.get(key)),
      set: (key, record, options) => inner.set(key, record, options),
      delete: (key) => inner.delete(key),
    };
    const endpoint = scriptedEndpoint();
    const manager = createTokenManager({ endpoint, storage, clock, random: () => 0, minRefreshInterval: '1h' });
    await manager.setToken('k', login);
    await manager.setToken('w', { ...login, refresh_token: 'rt-w' });
    await manager.refresh('w'); // its minimum interval starts now
    endpoint.next({ kind: 'hold' });
    void manager.refresh('k').catch(() => undefined);
    await settle();
    const loading = manager.getToken('slow');
    const joining = manager.getToken('k');
    const sleeping = manager.renewAfterUnauthorized('w', 'at-1');
    await settle();
    const sameTurn = manager.refresh('k');
    void manager.stop();
    for (const caller of [loading, joining, sleeping, sameTurn]) await expect(caller).rejects.toMatchObject({ code: 'stopped' });
    endpoint.release();
  });
});
