import type { Schema } from './schema.js';

/**
 * The statements, built once per store. Every write or delete announces the key in the same
 * statement (`pg_notify` in a CTE over the changed rows), so an announcement is sent exactly when
 * the change commits, and only when something changed. Lease times run on the database's clock.
 */
export function queriesFor(s: Schema) {
  const announce = (cte: string): string => `WITH changed AS (${cte} RETURNING key) SELECT pg_notify('${s.channel}', key) FROM changed`;
  const expiry = `clock_timestamp() + make_interval(secs => $3::double precision / 1000)`;
  return {
    /** $1 text[] of keys. */
    getMany: `SELECT key, record FROM ${s.records} WHERE key = ANY($1::text[])`,
    keys: `SELECT key FROM ${s.records}`,
    /** $1 key, $2 record JSON, $3 version. */
    upsert: announce(
      `INSERT INTO ${s.records} (key, record, version) VALUES ($1, $2, $3)
       ON CONFLICT (key) DO UPDATE SET record = EXCLUDED.record, version = EXCLUDED.version, updated_at = clock_timestamp()`,
    ),
    /** $1 key, $2 record JSON, $3 version: only where the key does not exist yet. */
    insertNew: announce(`INSERT INTO ${s.records} (key, record, version) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`),
    /** $1 key, $2 record JSON, $3 version, $4 expected stored version. */
    updateIfVersion: announce(
      `UPDATE ${s.records} SET record = $2, version = $3, updated_at = clock_timestamp() WHERE key = $1 AND version = $4`,
    ),
    storedVersion: `SELECT version FROM ${s.records} WHERE key = $1`,
    /** $1 key. Shares the lease row with lockers: a lock taken meanwhile waits for our commit. */
    currentFence: `SELECT fence FROM ${s.locks} WHERE key = $1 FOR SHARE`,
    delete: announce(`DELETE FROM ${s.records} WHERE key = $1`),
    /**
     * $1 key, $2 holder, $3 ttl ms. A free (released or expired) lease is taken with fence + 1; a
     * held one returns no row. Concurrent first lockers serialise on the primary key.
     */
    lock: `INSERT INTO ${s.locks} AS l (key, holder, fence, expires_at) VALUES ($1, $2, 1, ${expiry})
           ON CONFLICT (key) DO UPDATE SET holder = EXCLUDED.holder, fence = l.fence + 1, expires_at = EXCLUDED.expires_at
           WHERE l.holder IS NULL OR l.expires_at <= clock_timestamp()
           RETURNING fence`,
    /** $1 key, $2 holder. */
    release: `UPDATE ${s.locks} SET holder = NULL, expires_at = clock_timestamp() WHERE key = $1 AND holder = $2`,
    /** $1 key, $2 holder, $3 ttl ms: only a lease still held (an expired one is lost, as in Redis). */
    extend: `UPDATE ${s.locks} SET expires_at = ${expiry}
             WHERE key = $1 AND holder = $2 AND expires_at > clock_timestamp() RETURNING key`,
    migrationLock: `SELECT pg_advisory_xact_lock(${s.migrationLock})`,
  };
}

export type Queries = ReturnType<typeof queriesFor>;
