import { createHash } from 'node:crypto';
import { InvalidConfigError } from '../../../machines/lifecycle/errors.js';

/** Where the adapter's two tables live, as quoted SQL identifiers, and the change channel's name. */
export interface Schema {
  /** `"schema"."table"`: one row per credential key. */
  readonly records: string;
  /** `"schema"."table_locks"`: one lease row per key ever locked (its fence survives delete). */
  readonly locks: string;
  /** `"schema"` alone, for CREATE SCHEMA. */
  readonly schema: string;
  /** LISTEN/NOTIFY channel: derived from schema and table, so two stores never hear each other. */
  readonly channel: string;
  /** Key of the advisory lock that serialises concurrent migrations of this table. */
  readonly migrationLock: string;
}

// Plain identifiers only: no quoting games, and short enough for the `_locks` suffix (NAMEDATALEN 63).
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,56}$/;

function identifier(value: string, what: string): string {
  if (!IDENTIFIER.test(value)) {
    throw new InvalidConfigError(`postgresStorage ${what} must be a plain SQL identifier (letters, digits, _; at most 57 characters)`);
  }
  return value;
}

export function schemaOf(schemaName = 'public', tableName = 'token_lifecycle'): Schema {
  const schema = identifier(schemaName, 'schema');
  const table = identifier(tableName, 'table');
  const digest = createHash('sha256').update(`${schema}.${table}`).digest('hex');
  return {
    schema: `"${schema}"`,
    records: `"${schema}"."${table}"`,
    locks: `"${schema}"."${table}_locks"`,
    channel: `token_lifecycle_${digest.slice(0, 24)}`,
    // pg_advisory_xact_lock takes a bigint: 15 hex digits always fit a signed 64-bit integer.
    migrationLock: BigInt(`0x${digest.slice(0, 15)}`).toString(),
  };
}

/**
 * The DDL, idempotent. `record` is the record's JSON as text (exactly what was written, parsed and
 * checked on read like Redis's value); `version` repeats its version for compare-and-set.
 * The lock row is never deleted: a reset fence would make an old holder's writes look new.
 */
export function migrationSql(s: Schema): string[] {
  return [
    `CREATE SCHEMA IF NOT EXISTS ${s.schema}`,
    `CREATE TABLE IF NOT EXISTS ${s.records} (
       key text PRIMARY KEY,
       record text NOT NULL,
       version bigint NOT NULL,
       updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
     )`,
    `CREATE TABLE IF NOT EXISTS ${s.locks} (
       key text PRIMARY KEY,
       holder text,
       fence bigint NOT NULL,
       expires_at timestamptz NOT NULL
     )`,
  ];
}
