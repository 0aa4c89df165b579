/**
 * A stale writer is refused by the fencing check (issue 6), against the real Redis on 127.0.0.1:6379:
 * a paused lock holder (GC pause, suspended VM) loses its lock to the TTL, another instance takes the
 * lock and writes a newer token; when the paused one wakes up and writes, Redis refuses the write and
 * the newer token stays. Once at the storage level, once through two managers.
 *
 * The managers use a scripted in-process endpoint: a real server with rotation and reuse detection
 * would revoke the grant when both use the same refresh token (fleet-processes.test.ts shows that
 * hazard). Fencing protects storage; what the server does with a token already sent is its own call.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { redisStorage, type RedisStorage } from '../../adapters/storage/redis/index.js';
import { createTokenManager } from '../../machines/manager/manager.js';
import type { TokenEvent, TokenManager } from '../../machines/manager/api-types.js';
import type { StorageLock, TokenEndpoint, TokenRecord, TokenStorage } from '../../machines/lifecycle/types.js';
import { deleteUnder } from '../support/redis-keys.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const runPrefix = `tl-fleet-fence:${randomUUID()}:`;
const admin = new Redis(REDIS_URL);
const opened: RedisStorage[] = [];
const managers: TokenManager[] = [];
let counter = 0;

function open(prefix: string): RedisStorage {
  const storage = redisStorage({ url: REDIS_URL, prefix });
  opened.push(storage);
  return storage;
}

function record(version: number, name: string): TokenRecord {
  const now = Date.now();
  return { accessToken: `at-${name}`, tokenType: 'Bearer', refreshToken: `rt-${name}`, obtainedAt: now, expiresAt: now + 3_600_000, version };
}

/** Resolves once the lock key has expired in Redis (its TTL runs on Redis's clock). */
async function lockExpired(prefix: string, key: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while ((await admin.exists(`${prefix}lock:${key}`)) === 1) {
    if (Date.now() > deadline) throw new Error('the lock never expired');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

afterEach(async () => {
  await Promise.allSettled(managers.splice(0).map((m) => m.stop()));
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await deleteUnder(admin, runPrefix);
  admin.disconnect();
});

describe('fleet: a stale lock holder cannot overwrite a newer token', () => {
  it('storage level: the expired holder is refused even with the right version; the newer record stays', async () => {
    const prefix = `${runPrefix}${++counter}:`;
    const paused = open(prefix);
    const fresh = open(prefix);
    await paused.set('k', record(1, 'v1'), { expectedVersion: 0 });

    const stale = await paused.lock('k', 100);
    expect(stale).not.toBeNull();
    // The holder "pauses": no extend, the TTL runs out on Redis's clock, another instance takes over.
    await lockExpired(prefix, 'k');
    const current = await fresh.lock('k', 5_000);
    expect(current!.fence).toBeGreaterThan(stale!.fence);
    await fresh.set('k', record(2, 'newer'), { expectedVersion: 1, fence: current!.fence });

    // The paused holder wakes up and writes what it refreshed: refused by the fence, whether it
    // writes on the version it read before pausing or on the current one.
    await expect(paused.set('k', record(2, 'stale'), { expectedVersion: 1, fence: stale!.fence })).rejects.toMatchObject({ code: 'storage_conflict' });
    await expect(paused.set('k', record(3, 'stale'), { expectedVersion: 2, fence: stale!.fence })).rejects.toMatchObject({ code: 'storage_conflict' });
    // It also learns it lost the lock.
    expect(await stale!.extend(1_000)).toBe(false);
    expect(await fresh.get('k')).toMatchObject({ version: 2, accessToken: 'at-newer', refreshToken: 'rt-newer' });
    await current!.release();
  });

  it('through the manager: a holder paused past its lock TTL keeps its marker; the next holder holds back and adopts the paused one\'s result', async () => {
    const prefix = `${runPrefix}${++counter}:`;
    await open(prefix).set('k', record(1, 'v1'), { expectedVersion: 0 });

    // Instance A is "paused" mid-refresh: its lock keep-alive never reaches Redis (a process that
    // does not run cannot extend), and its token response arrives only when the test says so.
    const realA = open(prefix);
    const pausedStorage: TokenStorage = {
      get: (key) => realA.get(key),
      set: (key, rec, options) => realA.set(key, rec, options),
      delete: (key) => realA.delete(key),
      subscribe: (listener) => realA.subscribe(listener),
      async lock(key, ttl): Promise<StorageLock | null> {
        const lock = await realA.lock(key, ttl);
        return lock && { fence: lock.fence, release: () => lock.release(), extend: async () => true };
      },
    };
    let wakeA: (body: Record<string, unknown>) => void = () => undefined;
    const sentByA: Array<string | undefined> = [];
    const endpointA: TokenEndpoint = {
      refresh: (refreshToken) => {
        sentByA.push(refreshToken);
        return new Promise((resolve) => (wakeA = resolve));
      },
    };
    const sentByB: Array<string | undefined> = [];
    let wakeB: (body: Record<string, unknown>) => void = () => undefined;
    const endpointB: TokenEndpoint = {
      refresh: (refreshToken) => {
        sentByB.push(refreshToken);
        return new Promise((resolve) => (wakeB = resolve));
      },
    };
    const options = { refreshThreshold: '1m', lockTtl: '150ms', backgroundRefresh: false } as const;
    const a = createTokenManager({ endpoint: endpointA, storage: pausedStorage, ...options });
    const b = createTokenManager({ endpoint: endpointB, storage: open(prefix), ...options });
    managers.push(a, b);
    const eventsA: TokenEvent[] = [];
    const eventsB: TokenEvent[] = [];
    a.subscribe((e) => eventsA.push(e));
    b.subscribe((e) => eventsB.push(e));
    expect((await a.getToken('k')).accessToken).toBe('at-v1');
    expect((await b.getToken('k')).accessToken).toBe('at-v1');

    const refreshA = a.refresh('k');
    await expect.poll(() => sentByA.length).toBe(1);
    // A stored its marker (TokenRecord.refreshing) before sending.
    expect(await realA.get('k')).toMatchObject({ version: 2, accessToken: 'at-v1', refreshing: { by: expect.any(String) } });
    await lockExpired(prefix, 'k');
    // B takes the lock, finds A's marker on the very refresh token it holds, and its token still
    // valid: it holds back instead of re-sending that token (reuse would get the grant revoked).
    const failure = await b.refresh('k').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ code: 'refresh_failed' });
    expect(sentByB).toEqual([]);
    expect(eventsB.filter((e) => e.type === 'refresh_failed')).toMatchObject([{ code: 'refresh_in_progress', retryable: true }]);
    expect((await b.getToken('k')).accessToken).toBe('at-v1');

    // A wakes up with the rotated tokens. Its fence is older than B's lock, but nothing was
    // written since A read: A's tokens are the newest and are written (version-checked).
    wakeA({ access_token: 'at-A', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-A' });
    expect((await refreshA).accessToken).toBe('at-A');
    expect(await realA.get('k')).toMatchObject({ version: 3, accessToken: 'at-A', refreshToken: 'rt-A' });
    expect((await realA.get('k'))?.refreshing).toBeUndefined();
    // B adopts A's record through the change notification, without refreshing itself.
    await expect.poll(async () => (await b.getToken('k')).accessToken).toBe('at-A');
    expect(sentByA).toEqual(['rt-v1']);
    expect(sentByB).toEqual([]);
    wakeB({});
  });

  it('through the manager: a paused holder whose successor did refresh has its tokens refused; it adopts the newer ones', async () => {
    const prefix = `${runPrefix}${++counter}:`;
    const storage = open(prefix);
    await storage.set('k', record(1, 'v1'), { expectedVersion: 0 });
    const stale = await storage.lock('k', 100);
    await lockExpired(prefix, 'k');
    // The successor refreshed and stored a newer record meanwhile.
    const current = await storage.lock('k', 5_000);
    await storage.set('k', record(2, 'newer'), { expectedVersion: 1, fence: current!.fence });
    await current!.release();
    // A manager that had read version 1 and holds the old fence: its write is refused for good.
    await expect(storage.set('k', record(2, 'stale'), { expectedVersion: 1, fence: stale!.fence })).rejects.toMatchObject({ code: 'storage_conflict' });
    const m = createTokenManager({ endpoint: { refresh: async () => ({}) }, storage: open(prefix), backgroundRefresh: false });
    managers.push(m);
    expect((await m.getToken('k')).accessToken).toBe('at-newer');
  });
});
