/**
 * PostgreSQL at scale (issue 15): 100,000 credentials stored by `postgresStorage` (5,000 with
 * --quick). Figures, in wall-clock time (the database does the work, in its own process):
 * - `start()` of a manager over them (keys(), then every record read and armed), against a bare
 *   `SELECT key, record` of the same rows through pg (the least any loader does);
 * - the first `getToken` of a cold key (never loaded: one read, parse, arm, serve; median over many
 *   keys) against a bare single-row `SELECT` of the same key over the same connection pool size.
 * Its own schema in the shared PostgreSQL (DATABASE_URL or 127.0.0.1:5432/test), dropped at the end.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { postgresStorage } from '../adapters/storage/postgres/index.js';
import { createTokenManager } from '../machines/manager/manager.js';
import type { TokenRecord } from '../machines/lifecycle/types.js';
import { figure, type BenchOptions, type Figure } from './support/figure.js';
import { median } from './support/measure.js';
import { opaqueToken, unusedEndpoint } from './support/tokens.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const INSERT_BATCH = 10_000;
const COLD_SAMPLES = 200;
const QUICK_COLD_SAMPLES = 50;

const keyOf = (i: number): string => `user:${String(i).padStart(6, '0')}`;

function recordOf(now: number, i: number): TokenRecord {
  const obtainedAt = now - (i % 1800) * 1000; // obtained up to 30 min ago: all far from refresh
  return { accessToken: opaqueToken(), tokenType: 'Bearer', expiresAt: obtainedAt + 3_600_000, obtainedAt, refreshToken: opaqueToken(), scope: 'openid api', version: 1 };
}

async function seed(admin: pg.Pool, table: string, count: number): Promise<void> {
  const now = Date.now();
  for (let from = 0; from < count; from += INSERT_BATCH) {
    const keys: string[] = [];
    const records: string[] = [];
    for (let i = from; i < Math.min(count, from + INSERT_BATCH); i++) {
      keys.push(keyOf(i));
      records.push(JSON.stringify(recordOf(now, i)));
    }
    await admin.query(`INSERT INTO ${table} (key, record, version) SELECT k, r, 1 FROM unnest($1::text[], $2::text[]) AS t(k, r)`, [keys, records]);
  }
}

async function timed<T>(work: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const result = await work();
  return [performance.now() - t0, result];
}

export default async function run({ quick }: BenchOptions): Promise<Figure[]> {
  const count = quick ? 5_000 : 100_000;
  const schema = `tl_bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const table = `"${schema}"."token_lifecycle"`;
  // The same pool size as the storage's own (4): the baselines get no more connections than it.
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
  admin.on('error', () => {});
  try {
    const storage = postgresStorage({ connectionString: DATABASE_URL, schema, timeout: 30_000 });
    await storage.migrate();
    await seed(admin, table, count);
    await admin.query(`ANALYZE ${table}`);
    const label = `${count.toLocaleString('en-US')} credentials in PostgreSQL`;

    // Warm both paths once (connections opened, plans cached), then measure.
    await admin.query(`SELECT key, record FROM ${table}`);
    const [selectMs, rows] = await timed(() => admin.query<{ key: string; record: string }>(`SELECT key, record FROM ${table}`));
    if (rows.rowCount !== count) throw new Error(`postgres-scale: SELECT returned ${rows.rowCount} rows`);

    const manager = createTokenManager({ endpoint: unusedEndpoint, storage });
    const [startMs] = await timed(() => manager.start());
    const middle = keyOf(count >> 1);
    if (manager.peekToken(middle) === undefined) throw new Error('postgres-scale: a loaded credential is not served from memory');
    await manager.stop();

    // Cold keys: a manager that loads nothing up front; each key's first getToken reads its row.
    const cold = createTokenManager({ endpoint: unusedEndpoint, storage });
    const samples = quick ? QUICK_COLD_SAMPLES : COLD_SAMPLES;
    const step = Math.max(1, Math.floor(count / samples));
    const coldKeys = Array.from({ length: Math.min(samples, count) }, (_, n) => keyOf(n * step));
    await cold.getToken(keyOf(count - 1)); // warm-up: the pool's connections
    const getTokenMs: number[] = [];
    const selectOneMs: number[] = [];
    for (const key of coldKeys) {
      // Interleaved, so both see the same load on a shared machine.
      selectOneMs.push((await timed(() => admin.query(`SELECT record FROM ${table} WHERE key = $1`, [key])))[0]);
      const [ms, token] = await timed(() => cold.getToken(key));
      if (token.accessToken.length === 0) throw new Error('postgres-scale: empty token');
      getTokenMs.push(ms);
    }
    await cold.stop();
    await storage.close();

    return [
      figure(`postgres: start() over ${label} vs bare SELECT of the rows`, startMs, 'wall ms', selectMs, 'info'),
      figure(`postgres: first getToken of a cold key (${label}, median of ${coldKeys.length}) vs bare 1-row SELECT`, median(getTokenMs), 'wall ms', median(selectOneMs), 'info'),
    ];
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin.end();
  }
}
