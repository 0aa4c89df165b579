/**
 * Minimal, deterministic reproductions (simulated clock, scripted endpoint, in-memory store with an
 * outage switch) of what fleet-redis-restart.test.ts shows against a real Redis and oidc-provider:
 * a shared store that is unreachable for a while, or comes back without its data, must never cost
 * the newest refresh token (R4: "the newest refresh token is always in memory or in storage, and
 * storage never goes backwards").
 *
 * These reproduced defects in machines/manager/persistence.ts, now fixed: conflicts are settled by the refresh
 * tokens our own rotations spent, and a store that lost the record gets ours back.
 */
import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createTokenManager } from '../../machines/manager/manager.js';
import { StorageFailedError } from '../../machines/lifecycle/errors.js';
import { memoryStorage, type MemoryStorage } from '../../machines/manager/memory-storage.js';
import type { TokenManager } from '../../machines/manager/api-types.js';
import type { TokenStorage } from '../../machines/lifecycle/types.js';
import { advance, scriptedEndpoint, settle, type ScriptedEndpoint } from '../support/fake-endpoint.js';

const login = { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' };

/** A shared store that can be down (every call fails, as redisStorage does) and can lose its data. */
function outageStorage(inner: MemoryStorage): TokenStorage & { down: boolean } {
  const guard = <T>(run: () => Promise<T>): Promise<T> =>
    store.down ? Promise.reject(new StorageFailedError('Redis is not connected (reconnecting)')) : run();
  const store = {
    down: false,
    get: (key: string) => guard(() => inner.get(key)),
    set: (...args: Parameters<MemoryStorage['set']>) => guard(() => inner.set(...args)),
    delete: (key: string) => guard(() => inner.delete(key)),
    lock: (key: string, ttl: number) => guard(() => inner.lock(key, ttl)),
    subscribe: (listener: (key: string) => void) => inner.subscribe(listener),
  };
  return store;
}

function setup() {
  const clock = new SimulatedClock();
  clock.set(1_000_000);
  const shared = memoryStorage({ now: () => clock.now() });
  // One "authorization server" for the whole fleet: `current` is the refresh token it accepts.
  const server: ScriptedEndpoint = scriptedEndpoint();
  const make = (): { manager: TokenManager; storage: ReturnType<typeof outageStorage> } => {
    const storage = outageStorage(shared);
    const manager = createTokenManager({ endpoint: server, storage, clock, random: () => 0, backgroundRefresh: false });
    return { manager, storage };
  };
  return { clock, shared, server, make };
}

describe('fleet: a shared store that was down or lost its data never costs the newest refresh token', () => {
  // persistence.ts commitRecord: the write with expectedVersion 1 meets an empty store →
  // storage_conflict → adoptStored finds nothing → 'superseded': the rotated tokens are dropped
  // although nothing newer exists; memory keeps the spent refresh token.
  it('a refresh after the store lost the record (Redis restarted empty) keeps and writes the rotated tokens', async () => {
    const { shared, server, make } = setup();
    const { manager } = make();
    await manager.setToken('k', login);
    await shared.delete('k'); // the store restarted without its data
    const refreshed = await manager.refresh('k');
    expect(server.current).toBe('rt-1');
    expect(refreshed.refreshToken).toBe('rt-1');
    expect((await shared.get('k'))?.refreshToken).toBe('rt-1');
    await manager.stop();
  });

  // persistence.ts flushPending: the retried write meets an empty store → storage_conflict →
  // adoptStored finds nothing → reported as written ('true'): the pending tokens are never written.
  it('a rotated token whose write failed is written when the store is back, even if it came back empty', async () => {
    const { clock, shared, server, make } = setup();
    const { manager, storage } = make();
    await manager.setToken('k', login);
    server.next({ kind: 'hold' });
    const refreshing = manager.refresh('k');
    await settle();
    storage.down = true; // down while the request is at the server
    server.release();
    expect((await refreshing).refreshToken).toBe('rt-1');
    await shared.delete('k');
    storage.down = false; // back, empty
    await advance(clock, 60_000); // write retries (500 ms, 1 s, 2 s, ...)
    expect((await shared.get('k'))?.refreshToken).toBe('rt-1');
    await manager.stop();
  });

  // refresh-runner.ts failWith: a refresh that could not even take the lock (store down) still
  // commits retryAt metadata, which becomes a pending write with a climbing version. Once the store
  // is back it can land first, and the instance holding the rotated tokens then adopts it
  // (higher version) and drops its newest refresh token from memory: the spent one is in storage.
  it("another instance's failed attempts during the outage never replace the rotated tokens", async () => {
    const { clock, shared, server, make } = setup();
    const a = make();
    const b = make();
    await a.manager.setToken('k', login);
    await b.manager.getToken('k');
    server.next({ kind: 'hold' });
    const refreshing = a.manager.refresh('k');
    await settle();
    a.storage.down = true;
    b.storage.down = true;
    server.release();
    expect((await refreshing).refreshToken).toBe('rt-1'); // A: served from memory, write pending
    await advance(clock, 100);
    // B tries twice during the outage (forced refreshes): no lock, so nothing is sent.
    await b.manager.refresh('k').catch(() => undefined);
    await b.manager.refresh('k').catch(() => undefined);
    expect(server.received).toEqual(['rt-0']);
    await advance(clock, 420); // A's first write retry (at +500 ms) fails: still down
    a.storage.down = false;
    b.storage.down = false;
    await advance(clock, 60_000); // both retry their pending writes
    expect((await shared.get('k'))?.refreshToken).toBe('rt-1');
    expect((await a.manager.getToken('k')).refreshToken).toBe('rt-1');
    await a.manager.stop();
    await b.manager.stop();
  });
});
