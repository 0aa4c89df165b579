/**
 * R18 at rest: after a real lifecycle with rotation (oidc-provider rotates the refresh token on every
 * use), the bytes the file store, Redis and PostgreSQL hold contain no token value seen in that
 * lifecycle, in any encoding. PostgreSQL is read twice: the rows as text, and the table's heap file
 * on disk (after a CHECKPOINT, through pg_read_binary_file). The same scan over unsealed stores finds
 * the tokens: the scan can fail.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oauth2Endpoint } from '../../adapters/oauth2/index.js';
import { fileStorage } from '../../adapters/storage/file/index.js';
import { postgresStorage } from '../../adapters/storage/postgres/index.js';
import { redisStorage } from '../../adapters/storage/redis/index.js';
import type { TokenSet, TokenStorage } from '../../machines/lifecycle/types.js';
import { createTokenManager } from '../../machines/manager/manager.js';
import { sealedStorage } from '../../machines/sealed/sealed-storage.js';
import { CLIENTS, obtainTokensViaAuthCode, startAuthServer, type AuthServer } from '../support/oidc-server.js';
import { adminPool, dropSchema, freshSchemaName, PG_URL } from '../support/postgres-schemas.js';
import { deleteUnder } from '../support/redis-keys.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const KEYS = [{ id: 'at-rest-1', secret: crypto.getRandomValues(new Uint8Array(32)) }];
const runPrefix = `tl-sealed:${crypto.randomUUID()}:`;
const schemas: string[] = [];
const pgAdmin = adminPool();
const redisAdmin = new Redis(REDIS_URL);
let server: AuthServer;
let dir: string;

beforeAll(async () => {
  server = await startAuthServer({ ttl: { AccessToken: 60 } });
  dir = await mkdtemp(join(tmpdir(), 'tl-sealed-'));
});

afterAll(async () => {
  for (const schema of schemas) await dropSchema(pgAdmin, schema);
  await pgAdmin.end();
  await deleteUnder(redisAdmin, runPrefix);
  redisAdmin.disconnect();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Every form a token could take in stored bytes. */
function encodings(value: string): string[] {
  const bytes = new TextEncoder().encode(value);
  // Only whole 3-byte groups: the tail's characters depend on what follows in a longer encoding.
  const base64 = btoa(String.fromCharCode(...bytes.subarray(0, bytes.length - (bytes.length % 3))));
  const base64url = base64.replace(/\+/g, '-').replace(/\//g, '_');
  return [value, base64, base64url, encodeURIComponent(value), JSON.stringify(value).slice(1, -1)];
}

function leaks(haystack: string, secrets: Set<string>): string[] {
  return [...secrets].filter((secret) => encodings(secret).some((form) => haystack.includes(form)));
}

/** A login, then two forced refreshes (each rotating the refresh token); every token value seen. */
async function lifecycle(storage: TokenStorage): Promise<Set<string>> {
  const tokens = createTokenManager({
    endpoint: oauth2Endpoint({ tokenUrl: server.tokenUrl, ...CLIENTS.confidential }),
    storage,
    backgroundRefresh: false,
  });
  const seen = new Set<string>();
  const note = (set: TokenSet): void => {
    for (const value of [set.accessToken, set.refreshToken, set.idToken]) if (value) seen.add(value);
  };
  try {
    const login = await obtainTokensViaAuthCode({ issuer: server.issuer, ...CLIENTS.confidential });
    await tokens.setToken('alice', login);
    note(await tokens.getToken('alice'));
    note(await tokens.refresh('alice'));
    note(await tokens.refresh('alice'));
    note(await tokens.getToken('alice'));
  } finally {
    await tokens.stop();
  }
  return seen;
}

const stores: Record<string, { open(label: string): TokenStorage; raw(label: string): Promise<string> }> = {
  file: {
    open: (label) => fileStorage({ path: join(dir, label, 'tokens.json') }),
    async raw(label) {
      // Every file the store left in its directory (the store itself, temporary and lock files).
      const names = await readdir(join(dir, label), { recursive: true });
      const contents = await Promise.all(names.map((n) => readFile(join(dir, label, n)).catch(() => Buffer.alloc(0))));
      return contents.map((b) => b.toString('latin1')).join('\n');
    },
  },
  redis: {
    open: (label) => redisStorage({ url: REDIS_URL, prefix: `${runPrefix}${label}:` }),
    async raw(label) {
      const keys = await redisAdmin.keys(`${runPrefix}${label}:*`);
      // GET, not DUMP: DUMP compresses (LZF), which would hide a plain token from the scan.
      const values = await Promise.all(keys.map((k) => redisAdmin.getBuffer(k)));
      return values.map((v) => v?.toString('latin1') ?? '').join('\n');
    },
  },
  postgres: {
    open(label) {
      const schema = freshSchemaName(label.replace(/\W/g, '_'));
      schemas.push(schema);
      pgSchemas.set(label, schema);
      return postgresStorage({ connectionString: PG_URL, schema });
    },
    async raw(label) {
      const schema = pgSchemas.get(label)!;
      const rows = await pgAdmin.query(`SELECT * FROM "${schema}"."token_lifecycle"`);
      await pgAdmin.query('CHECKPOINT');
      const { rows: files } = await pgAdmin.query<{ bytes: Buffer }>(
        `SELECT pg_read_binary_file(pg_relation_filepath($1)) AS bytes`,
        [`"${schema}"."token_lifecycle"`],
      );
      return `${JSON.stringify(rows.rows)}\n${files[0]!.bytes.toString('latin1')}`;
    },
  },
};
const pgSchemas = new Map<string, string>();

describe.each(Object.keys(stores))('sealed at rest in the %s store', (name) => {
  const store = stores[name]!;

  it('holds no token value of a rotating lifecycle, in any encoding', async () => {
    const inner = store.open('sealed');
    const seen = await lifecycle(sealedStorage(inner, { keys: KEYS }));
    await inner.close?.();
    expect(seen.size).toBeGreaterThanOrEqual(7); // 3 access, 3 refresh (rotated), ID tokens
    const raw = await store.raw('sealed');
    expect(raw).toContain('sealed:v1:at-rest-1:');
    expect(leaks(raw, seen)).toEqual([]);
  });

  it('the same scan finds the tokens in an unsealed store', async () => {
    const inner = store.open('plain');
    const seen = await lifecycle(inner);
    await inner.close?.();
    const found = leaks(await store.raw('plain'), seen);
    // The last access and refresh tokens at least (earlier ones were overwritten).
    expect(found.length).toBeGreaterThanOrEqual(2);
  });
});
