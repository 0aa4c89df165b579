/**
 * The TokenStorage contract (DESIGN §5) as a reusable vitest suite. Every storage adapter runs it:
 *
 *   describeStorageContract('fileStorage', async () => {
 *     const dir = await mkdtemp(join(tmpdir(), 'tl-'));
 *     let t = 1_700_000_000_000;
 *     const open = () => fileStorage({ path: join(dir, 'tokens.json'), now: () => t });
 *     return {
 *       storage: open(),
 *       makeSecondInstance: async () => open(),  // another process's view of the same data
 *       advance: (ms) => { t += ms; },            // moves the clock the lock TTLs read
 *       cleanup: () => rm(dir, { recursive: true, force: true }),
 *     };
 *   }, { locks: true, subscribe: true });
 *
 * `makeStorage` is called once per test and must give an EMPTY store, isolated from every other
 * call's (a fresh directory, a fresh Redis prefix). `cleanup` closes everything the fixture opened,
 * second instances included, and removes its data. For a store on a server (Redis, PostgreSQL),
 * `serverStoreFixture(open, drop)` builds that fixture from a fresh namespace; for a store in a file,
 * `fileStoreFixture(prefix, open)` (file-store-fixture.ts, Node only: this file also runs in Chromium).
 *
 * Fixture fields:
 * - `storage` (required): the store under test.
 * - `cleanup()` (required).
 * - `makeSecondInstance()` (optional): another storage over the same backing data. Needed by the
 *   `subscribe` tests (another instance's writes must be announced). A store that lives in one
 *   process, like `memoryStorage`, may return the same object.
 * - `advance(ms)` (optional): moves the clock the store's lock TTLs are measured with. Without it the
 *   TTL tests use real time with a short TTL (`features.lockTtlMs`, default 60 ms) and wait it out.
 *
 * Features (what the store claims; a claimed feature that is missing fails):
 * - `keys` (default true): `keys()` lists the stored keys.
 * - `locks` (default false): `lock(key, ttlMs)` with fences.
 * - `fencing` (default = `locks`): `set(key, record, { fence })` is refused with `storage_conflict`
 *   once a newer lock has been taken on the key.
 * - `subscribe` (default false): `subscribe(listener)`; tested only with `makeSecondInstance`.
 * - `lockTtlMs`: the short TTL used when the fixture has no `advance`.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StorageConflictError, TokenLifecycleError } from '../../machines/lifecycle/errors.js';
import type { StorageLock, TokenRecord, TokenStorage } from '../../machines/lifecycle/types.js';

export interface StorageFixture {
  storage: TokenStorage;
  cleanup(): Promise<void>;
  makeSecondInstance?(): Promise<TokenStorage>;
  advance?(ms: number): void | Promise<void>;
}

export interface StorageContractFeatures {
  keys?: boolean;
  locks?: boolean;
  fencing?: boolean;
  subscribe?: boolean;
  lockTtlMs?: number;
}

const T0 = 1_700_000_000_000;

/** A record with every field of DESIGN §5 set (`rejection` and `retryAt` included). */
export function fullRecord(version = 1): TokenRecord {
  return {
    accessToken: `eyJhbGciOiJSUzI1NiJ9.${'a'.repeat(1_200)}.sig-${version}`,
    tokenType: 'Bearer',
    expiresAt: T0 + 3_600_123,
    obtainedAt: T0 + 123,
    refreshToken: `rt-${version}-ünïcødé-🔑`,
    scope: 'openid profile offline_access',
    idToken: `eyJhbGciOiJSUzI1NiJ9.id-${version}.sig`,
    rejection: 'invalid_grant',
    retryAt: T0 + 90_000,
    version,
  };
}

/** A plain record for a store's own tests: fixed times, `at-<version>` / `rt-<version>`. */
export function sampleRecord(version: number, overrides: Partial<TokenRecord> = {}): TokenRecord {
  return {
    accessToken: `at-${version}`,
    tokenType: 'Bearer',
    expiresAt: T0 + 600_000,
    obtainedAt: T0,
    refreshToken: `rt-${version}`,
    version,
    ...overrides,
  };
}

/**
 * The fixture of a store whose instances share their data through a server (Redis, PostgreSQL):
 * `open()` makes one more instance over this test's fresh namespace (a key prefix, a schema), the
 * first being `storage` and the others `makeSecondInstance()`; `cleanup` closes every instance
 * opened and then `drop()`s the namespace.
 */
export async function serverStoreFixture(
  open: () => TokenStorage & { close(): Promise<void> },
  drop: () => Promise<void>,
): Promise<StorageFixture> {
  const opened: Array<{ close(): Promise<void> }> = [];
  const make = async (): Promise<TokenStorage> => {
    const storage = open();
    opened.push(storage);
    return storage;
  };
  return {
    storage: await make(),
    makeSecondInstance: make,
    async cleanup() {
      await Promise.all(opened.map((s) => s.close()));
      await drop();
    },
  };
}

/** Only the required fields. */
export function minimalRecord(version = 1): TokenRecord {
  return { accessToken: `at-${version}`, tokenType: 'Bearer', obtainedAt: T0, version };
}

async function expectConflict(promise: Promise<unknown>): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'expected the write to be refused').toBeInstanceOf(TokenLifecycleError);
  expect(error).toBeInstanceOf(StorageConflictError);
  expect((error as TokenLifecycleError).code).toBe('storage_conflict');
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function describeStorageContract(
  name: string,
  makeStorage: () => Promise<StorageFixture>,
  features: StorageContractFeatures = {},
): void {
  const { keys = true, locks = false, subscribe = false } = features;
  const fencing = features.fencing ?? locks;
  const realTtl = features.lockTtlMs ?? 60;

  describe(`${name}: TokenStorage contract (DESIGN §5)`, () => {
    let fixture: StorageFixture;
    let storage: TokenStorage;

    beforeEach(async () => {
      fixture = await makeStorage();
      storage = fixture.storage;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    describe('records', () => {
      it('get of a missing key is undefined', async () => {
        expect(await storage.get('missing')).toBeUndefined();
      });

      it('round-trips every field exactly', async () => {
        await storage.set('default', fullRecord(1));
        expect(await storage.get('default')).toStrictEqual(fullRecord(1));
      });

      it('round-trips a minimal record without inventing fields', async () => {
        await storage.set('default', minimalRecord(1));
        const got = await storage.get('default');
        expect(got).toStrictEqual(minimalRecord(1));
        expect(Object.keys(got ?? {}).sort()).toEqual(['accessToken', 'obtainedAt', 'tokenType', 'version']);
      });

      it('does not store fields that are explicitly undefined', async () => {
        await storage.set('default', { ...minimalRecord(1), refreshToken: undefined, expiresAt: undefined, rejection: undefined });
        const got = await storage.get('default');
        expect(got).toBeDefined();
        expect(Object.entries(got ?? {}).filter(([, v]) => v === undefined)).toEqual([]);
        expect(got).not.toHaveProperty('refreshToken');
      });

      it('set without expectedVersion overwrites, and removed fields stay removed', async () => {
        await storage.set('default', fullRecord(1));
        await storage.set('default', minimalRecord(2));
        expect(await storage.get('default')).toStrictEqual(minimalRecord(2));
      });

      it('keeps keys apart, including keys with separators, globs and unicode', async () => {
        const names = ['default', 'user:alice@example.com', 'api/v1 read', 'a*b?[c]\\d', 'ключ-🔑', 'default '];
        for (const [i, key] of names.entries()) await storage.set(key, minimalRecord(i + 1));
        for (const [i, key] of names.entries()) expect((await storage.get(key))?.version).toBe(i + 1);
        expect(await storage.get('user:*')).toBeUndefined();
      });

      it('hands out copies: mutating a returned record changes nothing stored', async () => {
        await storage.set('default', fullRecord(1));
        const got = (await storage.get('default'))!;
        got.accessToken = 'mutated';
        got.version = 99;
        delete got.refreshToken;
        expect(await storage.get('default')).toStrictEqual(fullRecord(1));
      });

      it('takes copies: mutating the record after set changes nothing stored', async () => {
        const record = fullRecord(1);
        await storage.set('default', record);
        record.accessToken = 'mutated';
        record.version = 99;
        delete record.refreshToken;
        expect(await storage.get('default')).toStrictEqual(fullRecord(1));
      });

      it('delete removes the key; deleting a missing key is fine', async () => {
        await storage.set('a', minimalRecord(1));
        await storage.set('b', minimalRecord(1));
        await storage.delete('a');
        expect(await storage.get('a')).toBeUndefined();
        expect(await storage.get('b')).toStrictEqual(minimalRecord(1));
        await expect(storage.delete('a')).resolves.toBeUndefined();
        await expect(storage.delete('never-set')).resolves.toBeUndefined();
      });
    });

    describe('versions (expectedVersion)', () => {
      it('expectedVersion 0 writes a key that does not exist yet', async () => {
        await storage.set('default', minimalRecord(1), { expectedVersion: 0 });
        expect(await storage.get('default')).toStrictEqual(minimalRecord(1));
      });

      it('expectedVersion 0 is refused with storage_conflict when the key exists, and nothing changes', async () => {
        await storage.set('default', fullRecord(1));
        await expectConflict(storage.set('default', minimalRecord(1), { expectedVersion: 0 }));
        expect(await storage.get('default')).toStrictEqual(fullRecord(1));
      });

      it('a matching expectedVersion succeeds', async () => {
        await storage.set('default', minimalRecord(1), { expectedVersion: 0 });
        await storage.set('default', minimalRecord(2), { expectedVersion: 1 });
        await storage.set('default', fullRecord(3), { expectedVersion: 2 });
        expect(await storage.get('default')).toStrictEqual(fullRecord(3));
      });

      it('a mismatched expectedVersion is refused with storage_conflict, and nothing changes', async () => {
        await storage.set('default', fullRecord(2));
        await expectConflict(storage.set('default', minimalRecord(2), { expectedVersion: 1 }));
        await expectConflict(storage.set('default', minimalRecord(4), { expectedVersion: 3 }));
        expect(await storage.get('default')).toStrictEqual(fullRecord(2));
      });

      it('a non-zero expectedVersion on a missing key is refused', async () => {
        await expectConflict(storage.set('default', minimalRecord(2), { expectedVersion: 1 }));
        expect(await storage.get('default')).toBeUndefined();
      });

      it('after delete, expectedVersion 0 succeeds again', async () => {
        await storage.set('default', minimalRecord(5));
        await storage.delete('default');
        await storage.set('default', minimalRecord(1), { expectedVersion: 0 });
        expect((await storage.get('default'))?.version).toBe(1);
      });

      it('of concurrent writers with the same expectedVersion exactly one wins', async () => {
        await storage.set('default', minimalRecord(1));
        const writes = [1, 2, 3, 4].map((n) =>
          storage.set('default', { ...minimalRecord(2), accessToken: `writer-${n}` }, { expectedVersion: 1 }),
        );
        const results = await Promise.allSettled(writes);
        const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i + 1] : []));
        expect(winners).toHaveLength(1);
        for (const r of results) {
          if (r.status === 'rejected') expect((r.reason as TokenLifecycleError).code).toBe('storage_conflict');
        }
        expect((await storage.get('default'))?.accessToken).toBe(`writer-${winners[0]}`);
      });
    });

    describe.runIf(keys)('keys()', () => {
      it('lists exactly the stored keys', async () => {
        expect(storage.keys).toBeTypeOf('function');
        expect(await storage.keys!()).toEqual([]);
        for (const key of ['b', 'a', 'user:alice', 'a*b?[c]']) await storage.set(key, minimalRecord(1));
        await storage.delete('b');
        expect((await storage.keys!()).sort()).toEqual(['a', 'a*b?[c]', 'user:alice']);
      });
    });

    describe.runIf(locks)('lock(key, ttlMs)', () => {
      // With an injected clock the TTL can be long (no real wait); with real time it must be short.
      const ttl = (): number => (fixture.advance ? 10_000 : realTtl);
      /** Lets a lock taken with `ttl()` expire. */
      async function expire(): Promise<void> {
        if (fixture.advance) await fixture.advance(ttl() + 1);
        else await sleep(ttl() * 2 + 20);
      }
      const lock = (key = 'default', ms = ttl()) => storage.lock!(key, ms);
      const held: StorageLock[] = [];
      async function take(key = 'default', ms = ttl()): Promise<StorageLock> {
        const l = await lock(key, ms);
        expect(l, `lock on "${key}" should be free`).not.toBeNull();
        held.push(l!);
        return l!;
      }
      afterEach(async () => {
        await Promise.allSettled(held.splice(0).map((l) => l.release()));
      });

      it('gives a lock with a numeric fence; a second lock on the same key is null', async () => {
        expect(storage.lock).toBeTypeOf('function');
        const first = await take();
        expect(typeof first.fence).toBe('number');
        expect(Number.isFinite(first.fence)).toBe(true);
        expect(await lock()).toBeNull();
      });

      it('locks keys independently', async () => {
        await take('a');
        await take('b');
        expect(await lock('a')).toBeNull();
      });

      it('of concurrent lockers exactly one wins', async () => {
        const results = await Promise.all([1, 2, 3, 4, 5].map(() => lock()));
        const winners = results.filter((l): l is StorageLock => l !== null);
        held.push(...winners);
        expect(winners).toHaveLength(1);
      });

      it('is lockable again after release', async () => {
        const first = await take();
        await first.release();
        await take();
      });

      it('is lockable again after the TTL expires', async () => {
        await take();
        await expire();
        await take();
      });

      it('fence grows with each lock on the key (release or expiry)', async () => {
        const a = await take();
        await a.release();
        const b = await take();
        expect(b.fence).toBeGreaterThan(a.fence);
        await expire();
        const c = await take();
        expect(c.fence).toBeGreaterThan(b.fence);
      });

      it('extend keeps a held lock past its first TTL', async () => {
        const l = await take();
        if (fixture.advance) {
          await fixture.advance(ttl() - 100);
          expect(await l.extend(ttl())).toBe(true);
          await fixture.advance(200); // past the first TTL, inside the extension
          expect(await lock()).toBeNull();
          await fixture.advance(ttl());
          await take();
        } else {
          expect(await l.extend(5_000)).toBe(true);
          await sleep(ttl() * 2 + 20);
          expect(await lock()).toBeNull();
        }
      });

      it('extend sets the expiry to now + ms, also shorter than what is left (stop() shortens a lock in flight)', async () => {
        const l = await take('default', 100 * ttl());
        expect(await l.extend(ttl())).toBe(true);
        expect(await lock()).toBeNull();
        await expire();
        await take();
      });

      it('extend on a lost lock is false, and its release does not free the new holder', async () => {
        const stale = await take();
        await expire();
        const current = await take();
        expect(await stale.extend(ttl())).toBe(false);
        await stale.release();
        expect(await lock()).toBeNull();
        expect(current.fence).toBeGreaterThan(stale.fence);
      });

      it('extend after release is false', async () => {
        const l = await take();
        await l.release();
        expect(await l.extend(ttl())).toBe(false);
      });
    });

    describe.runIf(fencing)('fenced writes (set with { fence })', () => {
      it('accepts the newest fence and refuses an older one with storage_conflict', async () => {
        const ttl = fixture.advance ? 10_000 : realTtl;
        const stale = (await storage.lock!('default', ttl))!;
        expect(stale).not.toBeNull();
        await storage.set('default', minimalRecord(1), { fence: stale.fence });
        if (fixture.advance) await fixture.advance(ttl + 1);
        else await sleep(ttl * 2 + 20);
        const current = (await storage.lock!('default', ttl))!;
        expect(current).not.toBeNull();
        await expectConflict(storage.set('default', { ...minimalRecord(2), accessToken: 'stale-writer' }, { fence: stale.fence }));
        expect(await storage.get('default')).toStrictEqual(minimalRecord(1));
        await storage.set('default', minimalRecord(2), { fence: current.fence, expectedVersion: 1 });
        expect(await storage.get('default')).toStrictEqual(minimalRecord(2));
        await current.release();
      });
    });

    describe.runIf(subscribe)('subscribe(listener)', () => {
      let other: TokenStorage | undefined;
      const heard: string[] = [];
      beforeEach(async () => {
        heard.length = 0;
        other = fixture.makeSecondInstance ? await fixture.makeSecondInstance() : undefined;
      });

      /** Pub/sub may take a moment to be live: write until the first announcement arrives. */
      async function warmUp(writer: TokenStorage, log: string[]): Promise<void> {
        let version = 0;
        await vi.waitFor(
          async () => {
            await writer.set('warm-up', minimalRecord(++version));
            expect(log).toContain('warm-up');
          },
          { timeout: 5_000, interval: 50 },
        );
      }

      async function heardKey(log: string[], key: string): Promise<void> {
        await vi.waitFor(() => expect(log).toContain(key), { timeout: 5_000, interval: 5 });
      }

      it('announces a write and a delete by another instance, with the key', async (context) => {
        if (!other) context.skip();
        expect(storage.subscribe).toBeTypeOf('function');
        const off = storage.subscribe!((key) => heard.push(key));
        try {
          await warmUp(other!, heard);
          heard.length = 0;
          await other!.set('user:alice@example.com', minimalRecord(1));
          await heardKey(heard, 'user:alice@example.com');
          heard.length = 0;
          await other!.delete('user:alice@example.com');
          await heardKey(heard, 'user:alice@example.com');
        } finally {
          off();
        }
      });

      it('stops announcing to an unsubscribed listener', async (context) => {
        if (!other) context.skip();
        const gone: string[] = [];
        const offGone = storage.subscribe!((key) => gone.push(key));
        const offKept = storage.subscribe!((key) => heard.push(key));
        try {
          await warmUp(other!, heard);
          offGone();
          gone.length = 0;
          await other!.set('after-unsubscribe', minimalRecord(1));
          await heardKey(heard, 'after-unsubscribe');
          expect(gone).not.toContain('after-unsubscribe');
        } finally {
          offKept();
        }
      });

      it('a throwing listener neither fails the write nor silences the others', async (context) => {
        if (!other) context.skip();
        const offThrowing = storage.subscribe!(() => {
          throw new Error('listener bug');
        });
        const offKept = storage.subscribe!((key) => heard.push(key));
        try {
          await warmUp(other!, heard);
          await expect(other!.set('despite-throw', minimalRecord(1))).resolves.toBeUndefined();
          await heardKey(heard, 'despite-throw');
          expect(await storage.get('despite-throw')).toStrictEqual(minimalRecord(1));
        } finally {
          offThrowing();
          offKept();
        }
      });
    });
  });
}
