/**
 * redisStorage against a real Redis (127.0.0.1:6379, or REDIS_URL). Every test works under its own
 * key prefix and the run deletes everything under its prefix at the end. The outage test starts its
 * own redis-server on a spare port: the shared one is never stopped.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { redisStorage, type RedisStorage, type RedisStorageOptions } from '../../adapters/storage/redis/index.js';
import { OwnRedis } from '../support/own-redis.js';
import { deleteUnder } from '../support/redis-keys.js';
import { describeStorageContract, sampleRecord as record, serverStoreFixture } from '../support/storage-contract.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const runPrefix = `tl-test:${randomUUID()}:`;
const admin = new Redis(REDIS_URL, { lazyConnect: true });
const opened: RedisStorage[] = [];

let counter = 0;
const freshPrefix = (): string => `${runPrefix}${++counter}:`;

function open(options: Partial<RedisStorageOptions> & { prefix: string }): RedisStorage {
  const storage = redisStorage(options.client ? options : { url: REDIS_URL, ...options });
  opened.push(storage);
  return storage;
}

/** Resolves once `count` subscribers listen on the storage's change channel. */
async function subscribers(prefix: string, count: number): Promise<void> {
  await vi.waitFor(async () => {
    const [, n] = (await admin.pubsub('NUMSUB', `${prefix}changes`)) as [string, number];
    expect(n).toBe(count);
  }, { timeout: 3000, interval: 10 });
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await deleteUnder(admin, runPrefix);
  await admin.quit();
});

describeStorageContract(
  'redisStorage',
  async () => {
    const prefix = freshPrefix();
    return serverStoreFixture(() => redisStorage({ url: REDIS_URL, prefix }), () => deleteUnder(admin, prefix));
  },
  { keys: true, locks: true, fencing: true, subscribe: true },
);

describe('redisStorage: records', () => {
  it('round-trips a record, lists keys by SCAN under its prefix only, deletes', async () => {
    const prefix = freshPrefix();
    const storage = open({ prefix });
    const other = open({ prefix: freshPrefix() });
    expect(await storage.get('a')).toBeUndefined();
    await storage.set('a', record(1, { scope: 'read', idToken: 'id', rejection: 'invalid_grant', retryAt: 5 }));
    await storage.set('b:with:colons', record(1));
    await other.set('c', record(1));
    expect(await storage.get('a')).toEqual(record(1, { scope: 'read', idToken: 'id', rejection: 'invalid_grant', retryAt: 5 }));
    expect((await storage.keys()).sort()).toEqual(['a', 'b:with:colons']);
    expect(await admin.get(`${prefix}cred:a`)).toContain('"version":1');
    await storage.delete('a');
    await storage.delete('never-there');
    expect(await storage.get('a')).toBeUndefined();
    expect(await storage.keys()).toEqual(['b:with:colons']);
  });

  it('treats glob characters in the prefix literally', async () => {
    const base = freshPrefix();
    const storage = open({ prefix: `${base}app[1]*?:` });
    const lookalike = open({ prefix: `${base}app1xx:` });
    await storage.set('k', record(1));
    await lookalike.set('intruder', record(1));
    expect(await storage.keys()).toEqual(['k']);
  });

  it('compares versions atomically: 0 means must not exist, a mismatch is storage_conflict', async () => {
    const storage = open({ prefix: freshPrefix() });
    await storage.set('k', record(1), { expectedVersion: 0 });
    await expect(storage.set('k', record(2), { expectedVersion: 0 })).rejects.toMatchObject({ code: 'storage_conflict' });
    await expect(storage.set('k', record(3), { expectedVersion: 2 })).rejects.toMatchObject({ code: 'storage_conflict' });
    expect(await storage.get('k')).toEqual(record(1));
    await storage.set('k', record(2), { expectedVersion: 1 });
    expect((await storage.get('k'))?.version).toBe(2);
    await expect(storage.set('gone', record(2), { expectedVersion: 1 })).rejects.toMatchObject({ code: 'storage_conflict' });
    expect(await storage.get('gone')).toBeUndefined();
  });

  it('lets exactly one of many concurrent compare-and-set writers win', async () => {
    const prefix = freshPrefix();
    const writers = [open({ prefix }), open({ prefix }), open({ prefix })];
    await writers[0]!.set('k', record(1));
    const results = await Promise.allSettled(
      writers.flatMap((w, i) => [0, 1, 2].map((j) => w.set('k', record(2, { accessToken: `w${i}-${j}` }), { expectedVersion: 1 }))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'storage_conflict' });
  });

  it('reports a corrupt record as storage_corrupt, without its content, and leaves it as is', async () => {
    const prefix = freshPrefix();
    const storage = open({ prefix });
    const cases: Array<[string, () => Promise<unknown>]> = [
      ['json', () => admin.set(`${prefix}cred:json`, 'secret-token-value{')],
      ['shape', () => admin.set(`${prefix}cred:shape`, JSON.stringify({ accessToken: 'secret-token-value', version: 1 }))],
      ['version', () => admin.set(`${prefix}cred:version`, JSON.stringify({ ...record(1), accessToken: 'secret-token-value', version: 'x' }))],
      ['type', () => admin.hset(`${prefix}cred:type`, 'accessToken', 'secret-token-value')],
    ];
    for (const [key, plant] of cases) {
      await plant();
      const error = await storage.get(key).catch((e: unknown) => e);
      expect(error, key).toMatchObject({ code: 'storage_corrupt', key });
      expect(String((error as Error).message) + String((error as Error).cause ?? '')).not.toContain('secret-token-value');
    }
    // A compare-and-set cannot compare against a corrupt record: refused, record untouched.
    await expect(storage.set('json', record(2), { expectedVersion: 1 })).rejects.toMatchObject({ code: 'storage_corrupt' });
    expect(await admin.get(`${prefix}cred:json`)).toBe('secret-token-value{');
    expect(await admin.type(`${prefix}cred:type`)).toBe('hash');
    // An unconditional write replaces it (e.g. after a new login).
    await storage.set('json', record(1));
    expect(await storage.get('json')).toEqual(record(1));
  });

  it('refuses to write a record that would read back as corrupt', async () => {
    const prefix = freshPrefix();
    const storage = open({ prefix });
    const bad = { ...record(1), expiresAt: Number.NaN };
    await expect(storage.set('k', bad)).rejects.toMatchObject({ code: 'storage_corrupt' });
    await expect(storage.set('k', record(1.5))).rejects.toMatchObject({ code: 'storage_corrupt' });
    expect(await admin.exists(`${prefix}cred:k`)).toBe(0);
  });

  it('rejects bad configuration with invalid_config', async () => {
    expect(() => redisStorage({ prefix: 'x' })).toThrow(expect.objectContaining({ code: 'invalid_config' }));
    const client = new Redis(REDIS_URL, { lazyConnect: true, keyPrefix: 'p:' });
    expect(() => redisStorage({ client })).toThrow(expect.objectContaining({ code: 'invalid_config' }));
    expect(() => redisStorage({ client, url: REDIS_URL })).toThrow(expect.objectContaining({ code: 'invalid_config' }));
    client.disconnect();
    const storage = open({ prefix: freshPrefix() });
    await expect(storage.lock('k', 0)).rejects.toMatchObject({ code: 'invalid_config' });
    await expect(storage.set('k', record(1), { fence: -1 })).rejects.toMatchObject({ code: 'invalid_config' });
  });
});

describe('redisStorage: locks and fencing', () => {
  it('gives a lock to one client at a time, with the TTL in milliseconds', async () => {
    const prefix = freshPrefix();
    const a = open({ prefix });
    const b = open({ prefix });
    const lockA = await a.lock('k', 60_000);
    expect(lockA).not.toBeNull();
    expect(await b.lock('k', 60_000)).toBeNull();
    expect(await a.lock('k', 60_000)).toBeNull();
    const pttl = await admin.pttl(`${prefix}lock:k`);
    expect(pttl).toBeGreaterThan(50_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
    expect(await b.lock('other', 60_000)).not.toBeNull();
    await lockA!.release();
    expect(await b.lock('k', 60_000)).not.toBeNull();
  });

  it('lets only the holder release or extend; a lost lock extends to false', async () => {
    const prefix = freshPrefix();
    const a = open({ prefix });
    const b = open({ prefix });
    const lockA = (await a.lock('k', 60_000))!;
    expect(await lockA.extend(120_000)).toBe(true);
    expect(await admin.pttl(`${prefix}lock:k`)).toBeGreaterThan(60_000);
    await admin.del(`${prefix}lock:k`); // as if A's TTL ran out while it was paused
    const lockB = (await b.lock('k', 60_000))!;
    expect(lockB).not.toBeNull();
    await lockA.release(); // must not free B's lock
    expect(await lockA.extend(60_000)).toBe(false);
    expect(await a.lock('k', 60_000)).toBeNull();
    expect(await lockB.extend(90_000)).toBe(true);
    await lockB.release();
    await lockB.release(); // idempotent
    expect(await lockB.extend(1000)).toBe(false);
    expect(await admin.exists(`${prefix}lock:k`)).toBe(0);
  });

  it('expires on the TTL, letting another client take it', async () => {
    const prefix = freshPrefix();
    const a = open({ prefix });
    const b = open({ prefix });
    const lockA = (await a.lock('k', 40))!;
    expect(lockA).not.toBeNull();
    expect(await b.lock('k', 60_000)).toBeNull();
    // Redis's own clock expires the lock: waiting on the server, not on our timers.
    const lockB = await vi.waitFor(async () => {
      const taken = await b.lock('k', 60_000);
      expect(taken).not.toBeNull();
      return taken!;
    }, { timeout: 3000, interval: 10 });
    expect(lockB.fence).toBeGreaterThan(lockA.fence);
    expect(await lockA.extend(60_000)).toBe(false);
  });

  it('grows the fence with every lock on a key, across clients and deletes', async () => {
    const prefix = freshPrefix();
    const a = open({ prefix });
    const b = open({ prefix });
    const fences: number[] = [];
    for (const storage of [a, b, a, b]) {
      const lock = (await storage.lock('k', 60_000))!;
      fences.push(lock.fence);
      if (fences.length === 2) await storage.delete('k');
      await lock.release();
    }
    expect(fences.every((f, i) => i === 0 || f > fences[i - 1]!)).toBe(true);
    expect(Number.isSafeInteger(fences[0])).toBe(true);
  });

  it('refuses a stale holder’s write (old fence) and keeps the newer rotated record', async () => {
    const prefix = freshPrefix();
    const a = open({ prefix });
    const b = open({ prefix });
    await a.set('k', record(1));
    const stale = (await a.lock('k', 60_000))!;
    await admin.del(`${prefix}lock:k`); // A pauses past its TTL (GC pause, suspended VM)
    const fresh = (await b.lock('k', 60_000))!;
    expect(fresh.fence).toBeGreaterThan(stale.fence);
    await b.set('k', record(2, { refreshToken: 'rt-rotated-by-b' }), { expectedVersion: 1, fence: fresh.fence });
    // A wakes up and writes what it refreshed with the spent refresh token.
    await expect(
      a.set('k', record(2, { refreshToken: 'rt-from-stale-a' }), { expectedVersion: 1, fence: stale.fence }),
    ).rejects.toMatchObject({ code: 'storage_conflict' });
    // The fence alone refuses it, even when A's version guess happens to match.
    await expect(
      a.set('k', record(3, { refreshToken: 'rt-from-stale-a' }), { expectedVersion: 2, fence: stale.fence }),
    ).rejects.toMatchObject({ code: 'storage_conflict' });
    expect(await a.get('k')).toEqual(record(2, { refreshToken: 'rt-rotated-by-b' }));
    // The current holder's fence is still good.
    await b.set('k', record(3), { expectedVersion: 2, fence: fresh.fence });
    expect((await a.get('k'))?.version).toBe(3);
  });
});

describe('redisStorage: change notifications', () => {
  it('announces writes and deletes made through another client instance', async () => {
    const prefix = freshPrefix();
    const watcher = open({ prefix });
    const writer = open({ prefix });
    const heard: string[] = [];
    const off = watcher.subscribe((key) => heard.push(key));
    await subscribers(prefix, 1);
    await writer.set('k', record(1));
    await writer.set('k', record(2), { expectedVersion: 1 });
    await expect(writer.set('k', record(9), { expectedVersion: 1 })).rejects.toMatchObject({ code: 'storage_conflict' });
    await writer.delete('k');
    await writer.delete('k'); // nothing deleted: nothing to announce
    await writer.set('other', record(1));
    await vi.waitFor(() => expect(heard).toEqual(['k', 'k', 'k', 'other']), { timeout: 3000, interval: 5 });
    off();
    await subscribers(prefix, 0); // the last unsubscribe closes the subscriber connection
  });

  it('keeps other listeners informed when one throws', async () => {
    const prefix = freshPrefix();
    const storage = open({ prefix });
    const heard: string[] = [];
    storage.subscribe(() => {
      throw new Error('listener bug');
    });
    storage.subscribe((key) => heard.push(key));
    await subscribers(prefix, 1); // one connection serves every listener
    await storage.set('k', record(1)); // this instance's own writes are announced too
    await vi.waitFor(() => expect(heard).toEqual(['k']), { timeout: 3000, interval: 5 });
  });
});

describe('redisStorage: connections', () => {
  it('close() leaves a user-supplied client open and closes its own subscriber', async () => {
    const prefix = freshPrefix();
    const client = new Redis(REDIS_URL);
    try {
      const storage = redisStorage({ client, prefix });
      storage.subscribe(() => {});
      await subscribers(prefix, 1);
      await storage.set('k', record(1));
      await storage.close();
      await subscribers(prefix, 0);
      expect(client.status).toBe('ready');
      expect(await client.get(`${prefix}cred:k`)).toContain('"version":1');
      await expect(storage.get('k')).rejects.toMatchObject({ code: 'storage_failed' });
    } finally {
      await client.quit();
    }
  });

  it('close() closes the connections it opened from a url', async () => {
    const prefix = freshPrefix();
    const name = `tl-${randomUUID().slice(0, 8)}`;
    const storage = redisStorage({ url: REDIS_URL, prefix, redisOptions: { connectionName: name } });
    storage.subscribe(() => {});
    await subscribers(prefix, 1);
    await storage.get('k');
    const named = async (): Promise<number> =>
      ((await admin.client('LIST')) as string).split('\n').filter((line) => line.includes(`name=${name} `)).length;
    expect(await named()).toBe(2);
    await storage.close();
    await storage.close(); // idempotent
    await vi.waitFor(async () => expect(await named()).toBe(0), { timeout: 3000, interval: 10 });
  });
});

describe('redisStorage: outage of its own redis-server', () => {
  let own: OwnRedis | undefined;
  afterEach(async () => {
    await own?.stop();
  });

  it('fails fast with storage_failed while Redis is down and recovers by itself', async () => {
    own = await OwnRedis.create();
    await own.start();
    const prefix = 'outage:';
    const storage = open({ url: own.url, prefix });
    const watcher = open({ url: own.url, prefix });
    const heard: string[] = [];
    watcher.subscribe((key) => heard.push(key));
    await storage.set('k', record(1));
    expect(await storage.get('k')).toEqual(record(1));

    // A user's client keeps its own settings (offline queue, slow reconnects): the storage still
    // sends nothing while it is not connected.
    const userClient = new Redis(own.url, { retryStrategy: () => 10_000 });
    userClient.on('error', () => {});
    const onUserClient = open({ client: userClient, prefix });
    expect(await onUserClient.get('k')).toEqual(record(1));

    await own.stop();
    const started = performance.now();
    const failures = await Promise.all([
      storage.get('k').catch((e: unknown) => e),
      storage.set('k', record(2), { expectedVersion: 1 }).catch((e: unknown) => e),
      storage.lock('k', 1000).catch((e: unknown) => e),
      storage.keys().catch((e: unknown) => e),
    ]);
    for (const failure of failures) expect(failure).toMatchObject({ code: 'storage_failed', retryable: true });
    await vi.waitFor(() => expect(userClient.status).toBe('reconnecting'), { timeout: 3000, interval: 5 });
    await expect(onUserClient.get('k')).rejects.toMatchObject({ code: 'storage_failed' });
    expect(performance.now() - started).toBeLessThan(1000); // well under the 2 s timeout: nothing waited
    userClient.disconnect();

    await own.start(); // same port, empty (no persistence)
    await vi.waitFor(async () => expect(await storage.get('k')).toBeUndefined(), { timeout: 5000, interval: 20 });
    await storage.set('k', record(1), { expectedVersion: 0 });
    // The subscriber resubscribed after the restart: the write is announced.
    await vi.waitFor(async () => {
      await storage.set('ping', record(1));
      expect(heard).toContain('ping');
    }, { timeout: 5000, interval: 50 });
  });

  it('never re-sends a write that was in flight when the connection dropped', async () => {
    own = await OwnRedis.create();
    await own.start();
    const prefix = 'inflight:';
    const name = `tl-${randomUUID().slice(0, 8)}`;
    const storage = open({ url: own.url, prefix, redisOptions: { connectionName: name } });
    const control = new Redis(own.url);
    try {
      await storage.set('k', record(1));
      await control.client('PAUSE', 10_000, 'WRITE'); // scripts wait; reads and CLIENT KILL do not
      const write = storage.set('k', record(2), { expectedVersion: 1 }).catch((e: unknown) => e);
      const list = (): Promise<string> => control.client('LIST') as Promise<string>;
      await vi.waitFor(async () => expect(await list()).toMatch(new RegExp(`name=${name} .*cmd=evalsha`)), {
        timeout: 3000,
        interval: 5,
      });
      const id = /id=(\d+) [^\n]*name=/.exec((await list()).split('\n').find((l) => l.includes(`name=${name} `))!)![1]!;
      const killedAt = performance.now();
      await control.client('KILL', 'ID', id);
      expect(await write).toMatchObject({ code: 'storage_failed' });
      expect(performance.now() - killedAt).toBeLessThan(1000); // rejected on the drop, not on the timeout
      // Reconnected (reads pass the pause); then let writes through: nothing was queued for re-sending.
      await vi.waitFor(async () => expect(await storage.get('k')).toEqual(record(1)), { timeout: 3000, interval: 20 });
      await control.client('UNPAUSE');
      expect(await storage.get('k')).toEqual(record(1));
      await storage.set('k', record(2), { expectedVersion: 1 });
    } finally {
      await control.client('UNPAUSE').catch(() => {});
      control.disconnect();
    }
  });

  it('rejects with storage_failed, not a hang, when Redis is not there at all', async () => {
    own = await OwnRedis.create(); // a port nobody listens on
    const storage = open({ url: own.url, prefix: 'absent:' });
    const started = performance.now();
    await expect(storage.get('k')).rejects.toMatchObject({ code: 'storage_failed' });
    expect(performance.now() - started).toBeLessThan(1500);
  });
});
