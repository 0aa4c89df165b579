import { randomUUID } from 'node:crypto';
import pg from 'pg';

/** The shared PostgreSQL of every machine (trust auth, database `test`), or DATABASE_URL. */
export const PG_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A schema name no other test run uses (tests create their tables there and drop it at the end). */
export function freshSchemaName(label: string): string {
  return `tl_${label}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
}

/** An admin pool for looking at and dropping test schemas. */
export function adminPool(): pg.Pool {
  const pool = new pg.Pool({ connectionString: PG_URL, max: 2 });
  pool.on('error', () => {});
  return pool;
}

export async function dropSchema(admin: pg.Pool, schema: string): Promise<void> {
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}
