import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Pool, PoolClient, PoolConfig, QueryResultRow } from 'pg';
import {
  InvalidConfigError,
  StorageConflictError,
  StorageFailedError,
} from '../../../machines/lifecycle/errors.js';
import type {
  StorageChangeListener,
  StorageLock,
  StorageSetOptions,
  TokenRecord,
  TokenStorage,
} from '../../../machines/lifecycle/types.js';
import { decodeRecord, encodeRecord } from '../record-codec.js';
import { batchedReads } from './batched-reads.js';
import { ChangeFeed } from './change-feed.js';
import { bounded } from './errors.js';
import { queriesFor } from './queries.js';
import { migrationSql, schemaOf } from './schema.js';

export interface PostgresStorageOptions {
  /** A pool you own: used as is and never ended by `close()`. Give this or `connectionString`. */
  pool?: Pool;
  /** `postgres://…`: the storage opens (and `close()` ends) its own pool. */
  connectionString?: string;
  /** Schema of the tables (created if missing). Default `public`. */
  schema?: string;
  /** Records table; locks live in `<table>_locks`. Default `token_lifecycle`. */
  table?: string;
  /** Create the schema and tables on first use (default true); false: call `migrate()` at deploy. */
  autoMigrate?: boolean;
  /** Upper bound in ms for each operation, connection wait included. Default 2000. */
  timeout?: number;
  /** Extra pg pool settings for the pool opened from `connectionString` (TLS, size, …). */
  poolOptions?: Omit<PoolConfig, 'connectionString'>;
}

export interface PostgresStorage extends TokenStorage {
  keys(): Promise<string[]>;
  lock(key: string, ttlMs: number): Promise<StorageLock | null>;
  subscribe(listener: StorageChangeListener): () => void;
  /** Creates the schema and tables if missing (idempotent, safe to run from many processes at once). */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_TIMEOUT = 2000;

function positiveMs(value: number, what: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new InvalidConfigError(`${what} must be a positive number of ms`);
  return Math.ceil(value);
}

function checkSetOptions({ expectedVersion, fence }: StorageSetOptions): void {
  for (const [name, value] of [['expectedVersion', expectedVersion], ['fence', fence]] as const) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      throw new InvalidConfigError(`${name} must be a non-negative integer`);
    }
  }
}

/**
 * A TokenStorage shared through PostgreSQL (DESIGN §8): one row per key with compare-and-set on its
 * version, lease-row locks whose fence grows with every lock (a stale holder's fenced write is
 * refused), and a change feed over LISTEN/NOTIFY. Mirrors `redisStorage` operation for operation.
 */
export function postgresStorage(options: PostgresStorageOptions): PostgresStorage {
  if ((options.pool === undefined) === (options.connectionString === undefined)) {
    throw new InvalidConfigError('postgresStorage needs exactly one of `pool` or `connectionString`');
  }
  const s = schemaOf(options.schema, options.table);
  const q = queriesFor(s);
  const timeout = positiveMs(options.timeout ?? DEFAULT_TIMEOUT, 'timeout');
  const owned = options.pool === undefined;
  const pool: Pool =
    options.pool ??
    new pg.Pool({
      max: 4,
      idleTimeoutMillis: 10_000,
      connectionTimeoutMillis: timeout,
      application_name: 'token-lifecycle',
      ...options.poolOptions,
      connectionString: options.connectionString,
      // Idle connections never keep a script alive (as the manager's timers, R11).
      allowExitOnIdle: true,
    });
  // A dropped idle connection is reported here; operations report their own failures.
  if (owned) pool.on('error', () => {});

  let closed = false;
  let migrated: Promise<void> | undefined;

  async function migrate(): Promise<void> {
    await transaction(async (client) => {
      await client.query(q.migrationLock);
      for (const statement of migrationSql(s)) await client.query(statement);
    });
  }

  /** Create-on-first-use, once per store; a failed attempt is retried by the next operation. */
  function ready(): Promise<void> {
    if (options.autoMigrate === false) return Promise.resolve();
    migrated ??= migrate().catch((error: unknown) => {
      migrated = undefined;
      throw error;
    });
    return migrated;
  }

  async function transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    // A checked-out client has no error listener of the pool's: an unheard 'error' would crash us.
    const ignore = (): void => {};
    client.on('error', ignore);
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.off('error', ignore);
      // The pool discards a connection that broke (it is no longer queryable) instead of reusing it.
      client.release();
    }
  }

  const run = <T>(operation: () => Promise<T>, key?: string): Promise<T> => {
    if (closed) {
      return Promise.reject(new StorageFailedError('The PostgreSQL storage is closed', { retryable: false }));
    }
    return bounded(timeout, async () => {
      await ready();
      return operation();
    }, key);
  };

  const rows = async <R extends QueryResultRow>(text: string, values: unknown[]): Promise<R[]> =>
    (await pool.query<R>(text, values)).rows;

  const feed = new ChangeFeed(pool, s.channel, ready);
  const read = batchedReads(async (keys) => {
    const found = await rows<{ key: string; record: string }>(q.getMany, [keys]);
    return new Map(found.map((row) => [row.key, row.record]));
  });

  function makeLock(key: string, holder: string, fence: number): StorageLock {
    return {
      fence,
      async release() {
        await run(() => rows(q.release, [key, holder]), key);
      },
      async extend(ms) {
        const ttl = positiveMs(ms, 'Lock extension');
        return (await run(() => rows(q.extend, [key, holder, ttl]), key)).length === 1;
      },
    };
  }

  return {
    get(key) {
      return run(async () => {
        const raw = await read(key);
        return raw === undefined ? undefined : decodeRecord(key, raw);
      }, key);
    },

    async set(key, record: TokenRecord, setOptions: StorageSetOptions = {}) {
      const json = encodeRecord(key, record);
      checkSetOptions(setOptions);
      const { expectedVersion, fence } = setOptions;
      const statement =
        expectedVersion === undefined ? q.upsert : expectedVersion === 0 ? q.insertNew : q.updateIfVersion;
      const values = [key, json, record.version, ...(expectedVersion ? [expectedVersion] : [])];
      const written = await run(async () => {
        if (fence === undefined) return (await pool.query(statement, values)).rowCount ?? 0;
        return transaction(async (client) => {
          // The fence is checked first: a stale holder learns it lost the lock, whatever the version says.
          const [lease] = (await client.query<{ fence: string }>(q.currentFence, [key])).rows;
          const current = Number(lease?.fence ?? 0);
          if (current > fence) {
            throw new StorageConflictError(`A newer lock (fence ${current}) was taken on key "${key}" since fence ${fence}`, { key });
          }
          return (await client.query(statement, values)).rowCount ?? 0;
        });
      }, key);
      if (written === 1) return;
      const [stored] = await run(() => rows<{ version: string }>(q.storedVersion, [key]), key);
      throw new StorageConflictError(`Stored version ${stored?.version ?? 0} differs from expected ${expectedVersion}`, { key });
    },

    async delete(key) {
      await run(() => rows(q.delete, [key]), key);
    },

    async keys() {
      return (await run(() => rows<{ key: string }>(q.keys, []))).map((row) => row.key);
    },

    async lock(key, ttlMs) {
      const ttl = positiveMs(ttlMs, 'Lock TTL');
      const holder = randomUUID();
      const [row] = await run(() => rows<{ fence: string }>(q.lock, [key, holder, ttl]), key);
      return row === undefined ? null : makeLock(key, holder, Number(row.fence));
    },

    subscribe(listener) {
      if (closed) throw new StorageFailedError('The PostgreSQL storage is closed', { retryable: false });
      return feed.add(listener);
    },

    migrate() {
      if (closed) return Promise.reject(new StorageFailedError('The PostgreSQL storage is closed', { retryable: false }));
      return bounded(timeout, migrate);
    },

    async close() {
      if (closed) return;
      closed = true;
      feed.stop();
      if (owned) await pool.end().catch(() => {});
    },
  };
}
