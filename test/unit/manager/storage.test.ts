/**
 * The manager and its storage (issue 8): setToken's validation, versions and error wrapping, loads
 * shared by concurrent callers, and adoption of records other processes write (the change feed).
 */
import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError, StorageConflictError, StorageFailedError } from '../../../machines/lifecycle/errors.js';
import { createTokenManager } from '../../../machines/manager/manager.js';
import type { TokenManagerOptions } from '../../../machines/manager/api-types.js';
import { memoryStorage } from '../../../machines/manager/memory-storage.js';
import type { StorageChangeListener, TokenRecord, TokenStorage } from '../../../machines/lifecycle/types.js';
import { advance, scriptedEndpoint, settle } from '../../support/fake-endpoint.js';
import { simulatedManager, T0 } from '../../support/simulated-manager.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const login = { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' };

function setup(extra: Partial<TokenManagerOptions> = {}) {
  const set = simulatedManager(extra);
  const { storage, clock } = set;
  const other = () => createTokenManager({ endpoint: scriptedEndpoint(), storage, clock, random: () => 0 });
  return { ...set, other };
}

/** Wraps a storage to count reads and change-feed subscriptions. */
function counted(inner: ReturnType<typeof memoryStorage>) {
  const counts = { gets: 0, subscribed: 0, unsubscribed: 0 };
  const storage: TokenStorage = {
    get: async (key) => {
      counts.gets++;
      return inner.get(key);
    },
    set: (key, record, options) => inner.set(key, record, options),
    delete: (key) => inner.delete(key),
    keys: () => inner.keys(),
    subscribe: (listener: StorageChangeListener) => {
      counts.subscribed++;
      const off = inner.subscribe(listener);
      return () => {
        counts.unsubscribed++;
        off();
      };
    },
  };
  return { storage, counts };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('setToken', () => {
  it.each<[string, unknown]>([
    ['an empty key', ''],
    ['a key that is not a string', 42],
  ])('refuses %s', async (_, key) => {
    const { storage, manager } = setup();
    const error = await failure(manager.setToken(key as string, login));
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect((error as Error).message).toBe('setToken needs a non-empty string key');
    expect(await storage.keys()).toEqual([]);
    await manager.stop();
  });

  it('refuses a malformed response before touching storage', async () => {
    const { storage, manager } = setup();
    await expect(manager.setToken('k', { access_token: 'at-0', token_type: 'Bearer', expires_in: -5 })).rejects.toMatchObject({ code: 'invalid_token_response' });
    expect(await storage.get('k')).toBeUndefined();
    await manager.stop();
  });

  it('stores the tokens with the next version, and resolves to what it serves', async () => {
    const { storage, manager } = setup();
    const first = await manager.setToken('k', login);
    expect(first).toEqual({ accessToken: 'at-0', tokenType: 'Bearer', expiresAt: T0 + HOUR, refreshToken: 'rt-0' });
    expect(await storage.get('k')).toEqual({ accessToken: 'at-0', tokenType: 'Bearer', expiresAt: T0 + HOUR, obtainedAt: T0, refreshToken: 'rt-0', version: 1 });
    await manager.setToken('k', { ...login, access_token: 'at-1' });
    expect(await storage.get('k')).toMatchObject({ accessToken: 'at-1', version: 2 });
    expect(manager.peekToken('k')?.accessToken).toBe('at-1');
    await manager.stop();
  });

  it('builds on a newer stored version written by another process', async () => {
    const { storage, manager, other } = setup();
    const them = other();
    await them.setToken('k', login);
    await them.setToken('k', login);
    await them.stop();
    await manager.setToken('k', { ...login, access_token: 'mine' });
    expect(await storage.get('k')).toMatchObject({ accessToken: 'mine', version: 3 });
    await manager.stop();
  });

  it('a write between its read and its write: storage_conflict, and nothing changes here', async () => {
    const inner = memoryStorage();
    const storage: TokenStorage = {
      get: async (key) => {
        const stored = await inner.get(key);
        // Another writer slips in right after this read.
        await inner.set(key, { accessToken: 'theirs', tokenType: 'Bearer', obtainedAt: 0, version: (stored?.version ?? 0) + 1 });
        return stored;
      },
      set: (key, record, options) => inner.set(key, record, options),
      delete: (key) => inner.delete(key),
    };
    const manager = createTokenManager({ endpoint: scriptedEndpoint(), storage, clock: new SimulatedClock() });
    const error = await failure(manager.setToken('k', login));
    expect(error).toBeInstanceOf(StorageConflictError);
    expect(manager.peekToken('k')).toBeUndefined();
    expect((await inner.get('k'))?.accessToken).toBe('theirs');
    await manager.stop();
  });

  it('an untyped write failure: storage_failed with the cause, no token in the message', async () => {
    const cause = new Error('EACCES');
    const inner = memoryStorage();
    const storage: TokenStorage = { get: inner.get, set: async () => Promise.reject(cause), delete: inner.delete };
    const manager = createTokenManager({ endpoint: scriptedEndpoint(), storage, clock: new SimulatedClock() });
    const error = await failure(manager.setToken('k', login));
    expect(error).toBeInstanceOf(StorageFailedError);
    expect(error).toMatchObject({ key: 'k', cause, message: 'Could not store the tokens' });
    expect(manager.peekToken('k')).toBeUndefined();
    await manager.stop();
  });

  it("the storage's own typed error is passed on", async () => {
    const own = new StorageFailedError('quota');
    const inner = memoryStorage();
    const storage: TokenStorage = { get: inner.get, set: async () => Promise.reject(own), delete: inner.delete };
    const manager = createTokenManager({ endpoint: scriptedEndpoint(), storage, clock: new SimulatedClock() });
    await expect(manager.setToken('k', login)).rejects.toBe(own);
    await manager.stop();
  });

  it('a login during a failing write retry replaces the pending tokens and ends the retries', async () => {
    const clock = new SimulatedClock();
    clock.set(T0);
    const inner = memoryStorage();
    const control = { failing: false, writes: 0 };
    const storage: TokenStorage = {
      get: inner.get,
      set: async (key, record, options) => {
        control.writes++;
        if (control.failing) throw new StorageFailedError('disk full');
        return inner.set(key, record, options);
      },
      delete: inner.delete,
    };
    const endpoint = scriptedEndpoint();
    const manager = createTokenManager({ endpoint, storage, clock, backgroundRefresh: false });
    await manager.setToken('k', login);
    control.failing = true;
    await advance(clock, HOUR - MIN);
    expect((await manager.getToken('k')).accessToken).toBe('at-1');
    control.failing = false;
    await manager.setToken('k', { ...login, access_token: 'at-login' });
    // The pending write's retry timer is gone: only the wake-up of the (dormant) credential is left.
    expect((clock as unknown as { timeouts: Map<unknown, unknown> }).timeouts.size).toBe(1);
    const writes = control.writes;
    await advance(clock, 10 * MIN);
    expect(control.writes).toBe(writes);
    expect(await inner.get('k')).toMatchObject({ accessToken: 'at-login' });
    await expect(manager.stop()).resolves.toBeUndefined();
  });
});

describe('loading a key', () => {
  it('concurrent first callers share one read', async () => {
    const inner = memoryStorage();
    await inner.set('k', { accessToken: 'at-s', tokenType: 'Bearer', obtainedAt: 0, refreshToken: 'r', version: 1 });
    const { storage, counts } = counted(inner);
    const manager = createTokenManager({ endpoint: scriptedEndpoint(), storage, clock: new SimulatedClock() });
    const tokens = await Promise.all([manager.getToken('k'), manager.getToken('k'), manager.status('k') && manager.getToken('k')]);
    expect(tokens.map((t) => t.accessToken)).toEqual(['at-s', 'at-s', 'at-s']);
    expect(counts.gets).toBe(1);
    await manager.getToken('k');
    // A loaded key is not read again, also on paths that do not take the hot path.
    expect((await manager.renewAfterUnauthorized('k', 'older'))?.accessToken).toBe('at-s');
    expect(counts.gets).toBe(1);
    await manager.stop();
  });

  it('a key not found is looked up again next time (another process may have stored it)', async () => {
    const { manager, other } = setup();
    await expect(manager.getToken('k')).rejects.toMatchObject({ code: 'not_found' });
    const them = other();
    await them.setToken('k', login);
    await them.stop();
    expect((await manager.getToken('k')).accessToken).toBe('at-0');
    await manager.stop();
  });

  it('a login while the first read is under way wins over what that read returns', async () => {
    const inner = memoryStorage();
    await inner.set('k', { accessToken: 'at-old', tokenType: 'Bearer', obtainedAt: 0, refreshToken: 'r', version: 1 });
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let reads = 0;
    const storage: TokenStorage = {
      // Only the first read is slow.
      get: async (key) => {
        const stored = await inner.get(key);
        if (reads++ === 0) await gate;
        return stored;
      },
      set: (key, record, options) => inner.set(key, record, options),
      delete: (key) => inner.delete(key),
    };
    const manager = createTokenManager({ endpoint: scriptedEndpoint(), storage, clock: new SimulatedClock() });
    const loading = manager.getToken('k');
    await settle();
    await manager.setToken('k', { ...login, access_token: 'at-new' });
    open();
    expect((await loading).accessToken).toBe('at-new');
    expect(manager.peekToken('k')?.accessToken).toBe('at-new');
    await manager.stop();
  });
});

describe('the change feed: records other processes store', () => {
  const modes: Array<[string, Partial<TokenManagerOptions>]> = [
    ['dormant', {}],
    ['live', { inspect: () => undefined }],
  ];

  it.each(modes)('a %s credential adopts a newer stored record at once', async (_, extra) => {
    const { clock, storage, manager, other } = setup(extra);
    await manager.setToken('k', login);
    const them = other();
    await them.setToken('k', { ...login, access_token: 'at-other', expires_in: 7200 });
    await them.stop();
    await settle();
    expect(manager.peekToken('k')?.accessToken).toBe('at-other');
    expect(manager.status('k')).toMatchObject({ state: 'valid', expiresAt: T0 + 2 * HOUR });
    expect(await storage.get('k')).toMatchObject({ accessToken: 'at-other' });
    await advance(clock, 0);
    await manager.stop();
  });

  it('one subscription per manager, whatever the number of keys, released by stop()', async () => {
    const inner = memoryStorage();
    const { storage, counts } = counted(inner);
    const manager = createTokenManager({ endpoint: scriptedEndpoint(), storage, clock: new SimulatedClock() });
    expect(counts.subscribed).toBe(0);
    await manager.start();
    await manager.setToken('a', login);
    await manager.setToken('b', login);
    expect(counts.subscribed).toBe(1);
    await manager.stop();
    expect(counts.unsubscribed).toBe(1);
  });

  it('a key first used through setToken or a load also subscribes', async () => {
    const inner = memoryStorage();
    await inner.set('s', { accessToken: 'at-s', tokenType: 'Bearer', obtainedAt: 0, refreshToken: 'r', version: 1 });
    const viaLoad = counted(inner);
    const loaded = createTokenManager({ endpoint: scriptedEndpoint(), storage: viaLoad.storage, clock: new SimulatedClock() });
    await loaded.getToken('s');
    expect(viaLoad.counts.subscribed).toBe(1);
    const viaSet = counted(inner);
    const set = createTokenManager({ endpoint: scriptedEndpoint(), storage: viaSet.storage, clock: new SimulatedClock() });
    await set.setToken('t', login);
    expect(viaSet.counts.subscribed).toBe(1);
    // The feed works from there: a write by one is adopted by the other.
    await set.setToken('s', { ...login, access_token: 'at-from-set' });
    await settle();
    expect(loaded.peekToken('s')?.accessToken).toBe('at-from-set');
    await loaded.stop();
    await set.stop();
  });

  it('a change to a key never loaded here, or removed here, is not loaded', async () => {
    const { manager, other } = setup();
    await manager.setToken('mine', login);
    await manager.remove('mine', { revoke: false });
    const them = other();
    await them.setToken('theirs', login);
    await them.setToken('mine', login);
    await them.stop();
    await settle();
    expect(manager.status('theirs').state).toBe('idle');
    expect(manager.status('mine').state).toBe('idle');
    await manager.stop();
  });

  it('a credential refreshing when the change arrives is left to its refresh', async () => {
    const { endpoint, storage, manager } = setup();
    await manager.setToken('k', login);
    endpoint.next({ kind: 'hold' });
    const refreshing = manager.refresh('k');
    await settle();
    const stored = (await storage.get('k')) as TokenRecord;
    await storage.set('k', { ...stored, accessToken: 'at-other', refreshToken: 'rt-other', version: stored.version + 1 }, { expectedVersion: stored.version });
    await settle();
    expect(manager.status('k').state).toBe('refreshing');
    endpoint.release();
    // The refresh re-reads storage under its lock: the other process's newer record wins.
    expect((await refreshing).accessToken).toBe('at-other');
    await manager.stop();
  });

  it('a change whose read finishes after stop() wakes nothing', async () => {
    const clock = new SimulatedClock();
    clock.set(T0);
    const inner = memoryStorage();
    const endpoint = scriptedEndpoint();
    let gate: Promise<void> | undefined;
    let open: () => void = () => undefined;
    const storage: TokenStorage = {
      get: async (key) => {
        if (gate) await gate;
        return inner.get(key);
      },
      set: (key, record, options) => inner.set(key, record, options),
      delete: (key) => inner.delete(key),
      subscribe: (listener) => inner.subscribe(listener),
    };
    const manager = createTokenManager({ endpoint, storage, clock });
    await manager.setToken('k', login);
    gate = new Promise<void>((resolve) => (open = resolve));
    await inner.set('k', { accessToken: 'at-other', tokenType: 'Bearer', obtainedAt: T0, expiresAt: T0 + HOUR, refreshToken: 'rt-other', version: 2 });
    await manager.stop();
    open();
    await advance(clock, 2 * HOUR);
    expect(endpoint.received).toEqual([]);
    expect(manager.peekToken('k')).toBeUndefined();
    expect((clock as unknown as { timeouts: Map<unknown, unknown> }).timeouts.size).toBe(0);
  });

  it('an unreadable store during a change is ignored; the credential keeps serving', async () => {
    const clock = new SimulatedClock();
    clock.set(T0);
    const inner = memoryStorage();
    let unreadable = false;
    const storage: TokenStorage = {
      get: async (key) => (unreadable ? Promise.reject(new StorageFailedError('down')) : inner.get(key)),
      set: (key, record, options) => inner.set(key, record, options),
      delete: (key) => inner.delete(key),
      subscribe: (listener) => inner.subscribe(listener),
    };
    const manager = createTokenManager({ endpoint: scriptedEndpoint(), storage, clock });
    await manager.setToken('k', login);
    unreadable = true;
    await inner.set('k', { accessToken: 'at-other', tokenType: 'Bearer', obtainedAt: T0, refreshToken: 'r', version: 2 });
    await settle();
    expect(manager.peekToken('k')?.accessToken).toBe('at-0');
    await manager.stop();
  });
});
