/**
 * postgresStorage against the real PostgreSQL on 127.0.0.1:5432 (or DATABASE_URL). Every test works
 * in its own schema and drops it at the end. Outages are real: the test's own backends are killed
 * with pg_terminate_backend, and an unused port stands for a database that is not there at all.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { postgresStorage, type PostgresStorage, type PostgresStorageOptions } from '../../adapters/storage/postgres/index.js';
import { adminPool, dropSchema, freshSchemaName, PG_URL } from '../support/postgres-schemas.js';
import { describeStorageContract, sampleRecord as record, serverStoreFixture } from '../support/storage-contract.js';

const admin = adminPool();
const schemas: string[] = [];
const opened: PostgresStorage[] = [];

function freshSchema(): string {
  const schema = freshSchemaName('pg');
  schemas.push(schema);
  return schema;
}

function open(options: Partial<PostgresStorageOptions> & { schema: string }): PostgresStorage {
  const storage = postgresStorage(options.pool ? options : { connectionString: PG_URL, ...options });
  opened.push(storage);
  return storage;
}

/** Backends of this test's own connections, by application_name. */
async function backends(name: string): Promise<number[]> {
  const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [name]);
  return rows.map((r) => r.pid);
}

/** Backends LISTENing: pg_stat_activity shows the last query of an idle listener. */
async function listeners(name: string): Promise<number> {
  const { rows } = await admin.query(
    `SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN %' AND state = 'idle'`,
    [name],
  );
  return rows.length;
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  for (const schema of schemas) await dropSchema(admin, schema);
  await admin.end();
});

describeStorageContract(
  'postgresStorage',
  async () => {
    const schema = freshSchemaName('contract');
    return serverStoreFixture(() => postgresStorage({ connectionString: PG_URL, schema }), () => dropSchema(admin, schema));
  },
  // Leases expire on the database's clock (no `advance`): a TTL long enough that, on a loaded
  // machine, concurrent lockers still meet the first holder's lease unexpired.
  { keys: true, locks: true, fencing: true, subscribe: true, lockTtlMs: 250 },
);

describe('postgresStorage: reads', () => {
  it('gets issued together go as one query, each answered with its own record (or nothing)', async () => {
    const pool = new pg.Pool({ connectionString: PG_URL });
    const statements: string[] = [];
    const query = pool.query.bind(pool) as (text: string, values?: unknown[]) => Promise<unknown>;
    (pool as unknown as { query: typeof query }).query = (text, values) => (statements.push(text), query(text, values));
    try {
      const storage = postgresStorage({ pool, schema: freshSchema() });
      for (let i = 0; i < 50; i++) await storage.set(`k${i}`, record(i + 1));
      statements.length = 0;
      const got = await Promise.all(Array.from({ length: 60 }, (_, i) => storage.get(`k${i}`)));
      expect(got.slice(0, 50).map((r) => r?.version)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(got.slice(50)).toEqual(Array(10).fill(undefined));
      expect(statements).toEqual([expect.stringContaining('WHERE key = ANY($1::text[])')]);
      // A lone get later is its own query.
      expect(await storage.get('k7')).toEqual(record(8));
      expect(statements).toHaveLength(2);
      await storage.close();
    } finally {
      await pool.end();
    }
  });
});

describe('postgresStorage: tables', () => {
  it('creates its schema and tables on first use, one row per key, and keeps stores in other tables apart', async () => {
    const schema = freshSchema();
    const storage = open({ schema });
    const other = open({ schema, table: 'other_tokens' });
    await storage.set('a', record(1));
    await storage.set('user:alice', record(3));
    await other.set('c', record(1));
    const { rows } = await admin.query(`SELECT key, version, record FROM "${schema}"."token_lifecycle" ORDER BY key`);
    expect(rows.map((r) => [r.key, Number(r.version)])).toEqual([['a', 1], ['user:alice', 3]]);
    expect(JSON.parse(rows[0].record)).toEqual(record(1));
    expect((await storage.keys()).sort()).toEqual(['a', 'user:alice']);
    expect(await other.keys()).toEqual(['c']);
  });

  it('migrate() creates the tables up front; with autoMigrate off nothing is created behind your back', async () => {
    const schema = freshSchema();
    const lazy = open({ schema, autoMigrate: false });
    const error = await lazy.get('k').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'storage_failed' });
    expect((error as Error).message).toContain('migrate()');
    await lazy.migrate();
    await lazy.migrate(); // idempotent
    await lazy.set('k', record(1));
    expect(await lazy.get('k')).toEqual(record(1));
  });

  it('many stores migrating the same new schema at once all succeed', async () => {
    const schema = freshSchema();
    const stores = Array.from({ length: 6 }, () => open({ schema }));
    await Promise.all(stores.map((s, i) => s.set(`k${i}`, record(1))));
    expect((await stores[0]!.keys()).length).toBe(6);
  });

  it('reports a corrupt record as storage_corrupt, without its content, and leaves it as is', async () => {
    const schema = freshSchema();
    const storage = open({ schema });
    await storage.migrate();
    const plant = (key: string, text: string) =>
      admin.query(`INSERT INTO "${schema}"."token_lifecycle" (key, record, version) VALUES ($1, $2, 1)`, [key, text]);
    await plant('json', 'secret-token-value{');
    await plant('shape', JSON.stringify({ accessToken: 'secret-token-value', version: 1 }));
    for (const key of ['json', 'shape']) {
      const error = await storage.get(key).catch((e: unknown) => e);
      expect(error, key).toMatchObject({ code: 'storage_corrupt', key });
      expect(String((error as Error).message) + String((error as Error).cause ?? '')).not.toContain('secret-token-value');
    }
    const { rows } = await admin.query(`SELECT record FROM "${schema}"."token_lifecycle" WHERE key = 'json'`);
    expect(rows[0].record).toBe('secret-token-value{');
    await storage.set('json', record(2), { expectedVersion: 1 }); // the version column still compares
    expect(await storage.get('json')).toEqual(record(2));
  });

  it('refuses to write a record that would read back as corrupt, and bad configuration', async () => {
    const schema = freshSchema();
    const storage = open({ schema });
    await expect(storage.set('k', { ...record(1), expiresAt: Number.NaN })).rejects.toMatchObject({ code: 'storage_corrupt' });
    await expect(storage.set('k', record(1.5))).rejects.toMatchObject({ code: 'storage_corrupt' });
    expect(await storage.keys()).toEqual([]);
    await expect(storage.lock('k', 0)).rejects.toMatchObject({ code: 'invalid_config' });
    await expect(storage.set('k', record(1), { fence: -1 })).rejects.toMatchObject({ code: 'invalid_config' });
    expect(() => postgresStorage({ schema } as PostgresStorageOptions)).toThrow(expect.objectContaining({ code: 'invalid_config' }));
    for (const bad of [{ schema: 'a"; DROP TABLE x; --' }, { table: 'has space' }, { table: 'x'.repeat(60) }]) {
      expect(() => postgresStorage({ connectionString: PG_URL, ...bad })).toThrow(expect.objectContaining({ code: 'invalid_config' }));
    }
  });
});

describe('postgresStorage: locks and fencing', () => {
  it('keeps one lease row per key: the fence grows across lockers, releases, expiry and deletes', async () => {
    const schema = freshSchema();
    const a = open({ schema });
    const b = open({ schema });
    const first = (await a.lock('k', 60_000))!;
    expect(await b.lock('k', 60_000)).toBeNull();
    const { rows } = await admin.query(
      `SELECT holder IS NOT NULL AS held, extract(epoch FROM expires_at - clock_timestamp()) AS left FROM "${schema}"."token_lifecycle_locks" WHERE key = 'k'`,
    );
    expect(rows[0].held).toBe(true);
    expect(Number(rows[0].left)).toBeGreaterThan(50);
    await a.delete('k');
    await first.release();
    const second = (await b.lock('k', 40))!;
    expect(second.fence).toBeGreaterThan(first.fence);
    // The database's clock expires the lease: waiting on the server, not on our timers.
    const third = await vi.waitFor(async () => {
      const taken = await a.lock('k', 60_000);
      expect(taken).not.toBeNull();
      return taken!;
    }, { timeout: 3000, interval: 10 });
    expect(third.fence).toBeGreaterThan(second.fence);
    expect(await second.extend(60_000)).toBe(false);
    await second.release(); // must not free the new holder's lease
    expect(await b.lock('k', 60_000)).toBeNull();
  });

  it('refuses a stale holder’s write (old fence) and keeps the newer rotated record', async () => {
    const schema = freshSchema();
    const a = open({ schema });
    const b = open({ schema });
    await a.set('k', record(1));
    const stale = (await a.lock('k', 60_000))!;
    // A pauses past its TTL (GC pause, suspended VM): its lease ran out.
    await admin.query(`UPDATE "${schema}"."token_lifecycle_locks" SET expires_at = clock_timestamp() WHERE key = 'k'`);
    const fresh = (await b.lock('k', 60_000))!;
    await b.set('k', record(2, { refreshToken: 'rt-rotated-by-b' }), { expectedVersion: 1, fence: fresh.fence });
    await expect(a.set('k', record(2, { refreshToken: 'rt-from-stale-a' }), { expectedVersion: 1, fence: stale.fence })).rejects.toMatchObject({
      code: 'storage_conflict',
    });
    // The fence alone refuses it, even when A's version guess happens to match.
    await expect(a.set('k', record(3, { refreshToken: 'rt-from-stale-a' }), { expectedVersion: 2, fence: stale.fence })).rejects.toMatchObject({
      code: 'storage_conflict',
    });
    expect(await a.get('k')).toEqual(record(2, { refreshToken: 'rt-rotated-by-b' }));
    await b.set('k', record(3), { expectedVersion: 2, fence: fresh.fence });
    expect((await a.get('k'))?.version).toBe(3);
  });
});

describe('postgresStorage: change notifications', () => {
  it('announces each committed write and delete once, nothing for a refused write or a delete of nothing', async () => {
    const schema = freshSchema();
    const name = `tl-${randomUUID().slice(0, 8)}`;
    const watcher = open({ schema, poolOptions: { application_name: name } });
    const writer = open({ schema });
    const heard: string[] = [];
    const off = watcher.subscribe((key) => heard.push(key));
    await vi.waitFor(async () => expect(await listeners(name)).toBe(1), { timeout: 3000, interval: 10 });
    await writer.set('k', record(1));
    await writer.set('k', record(2), { expectedVersion: 1 });
    await expect(writer.set('k', record(9), { expectedVersion: 1 })).rejects.toMatchObject({ code: 'storage_conflict' });
    await writer.delete('k');
    await writer.delete('k');
    await writer.set('other', record(1));
    await vi.waitFor(() => expect(heard).toEqual(['k', 'k', 'k', 'other']), { timeout: 3000, interval: 5 });
    off(); // the last unsubscribe closes the listening connection
    await vi.waitFor(async () => expect(await listeners(name)).toBe(0), { timeout: 3000, interval: 10 });
  });

  it('listens again by itself after its connection is killed', async () => {
    const schema = freshSchema();
    const name = `tl-${randomUUID().slice(0, 8)}`;
    const watcher = open({ schema, poolOptions: { application_name: name } });
    const writer = open({ schema });
    const heard: string[] = [];
    watcher.subscribe((key) => heard.push(key));
    await vi.waitFor(async () => expect(await listeners(name)).toBe(1), { timeout: 3000, interval: 10 });
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [name]);
    await vi.waitFor(async () => {
      await writer.set('ping', record(1));
      expect(heard).toContain('ping');
    }, { timeout: 5000, interval: 50 });
  });
});

describe('postgresStorage: connections and outages', () => {
  it('close() leaves a user-supplied pool open and ends only the listening connection it took', async () => {
    const schema = freshSchema();
    const name = `tl-${randomUUID().slice(0, 8)}`;
    const pool = new pg.Pool({ connectionString: PG_URL, application_name: name });
    try {
      const storage = postgresStorage({ pool, schema });
      storage.subscribe(() => {});
      await vi.waitFor(async () => expect(await listeners(name)).toBe(1), { timeout: 3000, interval: 10 });
      await storage.set('k', record(1));
      await storage.close();
      await vi.waitFor(async () => expect(await listeners(name)).toBe(0), { timeout: 3000, interval: 10 });
      const { rows } = await pool.query(`SELECT version FROM "${schema}"."token_lifecycle" WHERE key = 'k'`);
      expect(Number(rows[0].version)).toBe(1);
      await expect(storage.get('k')).rejects.toMatchObject({ code: 'storage_failed' });
    } finally {
      await pool.end();
    }
  });

  it('close() ends the pool it opened from a connection string', async () => {
    const schema = freshSchema();
    const name = `tl-${randomUUID().slice(0, 8)}`;
    const storage = postgresStorage({ connectionString: PG_URL, schema, poolOptions: { application_name: name } });
    storage.subscribe(() => {});
    await storage.set('k', record(1));
    await vi.waitFor(async () => expect((await backends(name)).length).toBeGreaterThanOrEqual(2), { timeout: 3000, interval: 10 });
    await storage.close();
    await storage.close(); // idempotent
    await vi.waitFor(async () => expect(await backends(name)).toEqual([]), { timeout: 3000, interval: 10 });
  });

  it('connections killed under it: the operation in flight fails with storage_failed, the next ones work', async () => {
    const schema = freshSchema();
    const name = `tl-${randomUUID().slice(0, 8)}`;
    const storage = open({ schema, poolOptions: { application_name: name } });
    await storage.set('k', record(1));
    // A lock held in another session makes our fenced write wait inside its transaction.
    const blocker = await admin.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`SELECT * FROM "${schema}"."token_lifecycle" WHERE key = 'k' FOR UPDATE`);
      const write = storage.set('k', record(2), { expectedVersion: 1 }).catch((e: unknown) => e);
      await vi.waitFor(async () => {
        const { rows } = await admin.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, [name]);
        expect(rows.length).toBe(1);
      }, { timeout: 3000, interval: 10 });
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [name]);
      expect(await write).toMatchObject({ code: 'storage_failed', retryable: true });
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    expect(await storage.get('k')).toEqual(record(1)); // the killed write was never applied
    await storage.set('k', record(2), { expectedVersion: 1 });
    expect((await storage.get('k'))?.version).toBe(2);
  });

  it('rejects with storage_failed, not a hang, when the database is not there at all', async () => {
    const storage = postgresStorage({ connectionString: 'postgres://postgres@127.0.0.1:1/test', schema: freshSchema(), timeout: 1000 });
    opened.push(storage);
    const started = performance.now();
    const failures = await Promise.all([
      storage.get('k').catch((e: unknown) => e),
      storage.set('k', record(1)).catch((e: unknown) => e),
      storage.lock('k', 1000).catch((e: unknown) => e),
      storage.keys().catch((e: unknown) => e),
    ]);
    for (const failure of failures) expect(failure).toMatchObject({ code: 'storage_failed', retryable: true });
    expect(performance.now() - started).toBeLessThan(1500);
  });
});
