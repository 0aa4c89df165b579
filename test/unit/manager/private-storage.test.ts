/**
 * The manager's default store (issue 17): made inside the manager, so nobody else can reach it. It
 * has no lock and no change feed, and a refresh over it writes its result once: no lock, no re-read
 * under it, no `refreshing` marker. Otherwise it is memoryStorage: copies, version checks.
 */
import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { StorageConflictError } from '../../../machines/lifecycle/errors.js';
import { createTokenManager } from '../../../machines/manager/manager.js';
import { privateMemoryStorage } from '../../../machines/manager/memory-storage.js';
import { normalizeOptions } from '../../../machines/manager/options.js';
import type { StorageSetOptions, TokenRecord, TokenStorage } from '../../../machines/lifecycle/types.js';
import { scriptedEndpoint, settle } from '../../support/fake-endpoint.js';

const login = { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' };
const record = (version: number): TokenRecord => ({ accessToken: `at-${version}`, tokenType: 'Bearer', obtainedAt: 0, version });

describe('the default store', () => {
  it('is a private memory store: no lock, no change feed', () => {
    const { storage } = normalizeOptions({ endpoint: scriptedEndpoint() });
    expect(storage.lock).toBeUndefined();
    expect(storage.subscribe).toBeUndefined();
    expect(typeof storage.keys).toBe('function');
  });

  it('each manager gets a store of its own', () => {
    const a = normalizeOptions({ endpoint: scriptedEndpoint() }).storage;
    const b = normalizeOptions({ endpoint: scriptedEndpoint() }).storage;
    expect(a).not.toBe(b);
  });

  it('keeps memoryStorage semantics: copies in and out, version checks, keys, delete', async () => {
    const storage = privateMemoryStorage();
    const written = record(1);
    await storage.set('k', written, { expectedVersion: 0 });
    const read = (await storage.get('k')) as TokenRecord;
    expect(read).toStrictEqual(written);
    expect(read).not.toBe(written);
    await expect(storage.set('k', record(2), { expectedVersion: 0 })).rejects.toBeInstanceOf(StorageConflictError);
    await storage.set('k', record(2), { expectedVersion: 1 });
    expect(await storage.keys()).toEqual(['k']);
    await storage.delete('k');
    expect(await storage.get('k')).toBeUndefined();
  });
});

describe('a refresh over a store without locks', () => {
  it('writes its result once, reads nothing and stores no refreshing marker', async () => {
    const clock = new SimulatedClock();
    clock.set(10_000_000);
    const inner = privateMemoryStorage();
    const ops: string[] = [];
    const storage: TokenStorage = {
      get: (key) => (ops.push('get'), inner.get(key)),
      set: (key, r: TokenRecord, options?: StorageSetOptions) => (ops.push(`set v${r.version}${r.refreshing ? ' marker' : ''}`), inner.set(key, r, options)),
      delete: (key) => inner.delete(key),
    };
    const endpoint = scriptedEndpoint();
    const manager = createTokenManager({ endpoint, storage, clock, random: () => 0 });
    await manager.setToken('k', login);
    ops.length = 0;
    endpoint.next({ kind: 'hold' });
    const refreshed = manager.refresh('k');
    await settle();
    // In flight: storage still holds the login, unmarked.
    expect(endpoint.held).toBe(1);
    expect(await inner.get('k')).not.toHaveProperty('refreshing');
    endpoint.release();
    expect((await refreshed).accessToken).toBe('at-1');
    expect(ops).toEqual(['set v2']);
    expect(await inner.get('k')).toMatchObject({ accessToken: 'at-1', refreshToken: 'rt-1', version: 2 });
    await manager.stop();
  });
});
