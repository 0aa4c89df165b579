/**
 * examples/service driven over HTTP: a multi-user service storing users' tokens in PostgreSQL,
 * sealed, calling oidc-provider's userinfo endpoint (/me) for each user through authFetch, with its
 * OpenTelemetry metrics on /metrics. Its own schema, dropped at the end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type Service } from '../../examples/service/service.js';
import { CLIENTS, obtainTokensViaAuthCode, startAuthServer, type AuthServer } from '../support/oidc-server.js';
import { adminPool, dropSchema, freshSchemaName, PG_URL } from '../support/postgres-schemas.js';

const admin = adminPool();
const schema = freshSchemaName('service');
const KEY_1 = { id: 'k1', secret: crypto.getRandomValues(new Uint8Array(32)) };
let server: AuthServer;
let service: Service | undefined;
const tokenValues = new Set<string>();

const options = () => ({
  databaseUrl: PG_URL,
  schema,
  sealingKeys: [KEY_1],
  issuer: server.issuer,
  ...(CLIENTS.confidential as { clientId: string; clientSecret: string }),
  apiUrl: `${server.issuer}/me`,
});

async function call(path: string, init?: RequestInit): Promise<{ status: number; body: unknown; text: string }> {
  const res = await fetch(`${service!.url}${path}`, init);
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text };
}

async function logIn(user: string): Promise<void> {
  const tokens = await obtainTokensViaAuthCode({ issuer: server.issuer, ...CLIENTS.confidential, login: user });
  for (const v of [tokens.access_token, tokens.refresh_token, tokens.id_token]) if (typeof v === 'string') tokenValues.add(v);
  const put = await call(`/users/${user}/tokens`, { method: 'PUT', body: JSON.stringify(tokens) });
  expect(put.status).toBe(201);
}

const leaked = (text: string): string[] => [...tokenValues].filter((v) => text.includes(v));

beforeAll(async () => {
  server = await startAuthServer({ ttl: { AccessToken: 60 } });
  service = await startService(options());
});

afterAll(async () => {
  await service?.close();
  await server?.stop();
  await dropSchema(admin, schema);
  await admin.end();
});

describe('examples/service', () => {
  it('serves /me for each user with that user’s token, refreshes and rotates, and exposes metrics without secrets', async () => {
    await logIn('alice');
    await logIn('bob');
    expect(await call('/users/alice/me')).toMatchObject({ status: 200, body: { sub: 'alice' } });
    expect(await call('/users/bob/me')).toMatchObject({ status: 200, body: { sub: 'bob' } });

    // A refresh for each (the server rotates the refresh tokens); /me goes on with the new tokens.
    for (const user of ['alice', 'bob']) {
      const set = await service!.manager.refresh(user);
      tokenValues.add(set.accessToken).add(set.refreshToken!);
    }
    expect(await call('/users/alice/me')).toMatchObject({ status: 200, body: { sub: 'alice' } });
    const status = await call('/users/alice/status');
    expect(status.body).toMatchObject({ state: 'valid', hasRefreshToken: true });

    const metrics = await call('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('token_lifecycle_refreshes_total{outcome="success"} 2');
    expect(metrics.text).toContain('token_lifecycle_refresh_duration_seconds_count{outcome="success"} 2');
    expect(metrics.text).toContain('token_lifecycle_credentials{state="valid"} 2');

    // Nothing the service answered, and nothing in its table, holds a token value.
    const { rows } = await admin.query(`SELECT * FROM "${schema}"."token_lifecycle"`);
    expect(rows.map((r) => r.key).sort()).toEqual(['alice', 'bob']);
    expect(leaked(JSON.stringify(rows) + status.text + metrics.text)).toEqual([]);
    expect(tokenValues.size).toBeGreaterThanOrEqual(8);
  });

  it('a restarted service picks its users up from PostgreSQL; a user never seen is told to log in', async () => {
    await service!.close();
    service = await startService(options());
    expect(await call('/users/alice/me')).toMatchObject({ status: 200, body: { sub: 'alice' } });
    expect(await call('/users/carol/me')).toMatchObject({ status: 401, body: { error: 'not_found' } });
  });

  it('without the sealing key the tokens do not open: storage_sealed, and the rows stay as they are', async () => {
    const before = await admin.query(`SELECT key, record FROM "${schema}"."token_lifecycle" ORDER BY key`);
    await service!.close();
    const startErrors: string[] = [];
    service = await startService({ ...options(), sealingKeys: [{ id: 'k2', secret: new Uint8Array(32).fill(1) }], onStartError: (code) => startErrors.push(code) });
    expect(startErrors).toEqual(['storage_sealed']);
    expect(await call('/users/alice/me')).toMatchObject({ status: 502, body: { error: 'storage_sealed' } });
    const after = await admin.query(`SELECT key, record FROM "${schema}"."token_lifecycle" ORDER BY key`);
    expect(after.rows).toEqual(before.rows);
  });
});
