/**
 * Several managers over one store against a real, rotating authorization server (R7, R4): one
 * refresh per credential, and the others adopt its result. A second refresh with the same (spent)
 * refresh token would be reuse, and oidc-provider would then revoke the whole grant, so any
 * double refresh shows up as an `invalid_grant` here.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fileStorage } from '../../adapters/storage/file/index.js';
import { oauth2Endpoint, type OAuth2Endpoint } from '../../adapters/oauth2/index.js';
import { createTokenManager } from '../../machines/manager/manager.js';
import type { TokenEvent, TokenManager, TokenManagerOptions } from '../../machines/manager/api-types.js';
import { memoryStorage } from '../../machines/manager/memory-storage.js';
import type { TokenStorage } from '../../machines/lifecycle/types.js';
import { CLIENTS, obtainTokensViaAuthCode, startAuthServer, type AuthServer } from '../support/oidc-server.js';
import { waitPast, waitUntil } from '../support/lifecycle-helpers.js';

let server: AuthServer;
let endpoint: OAuth2Endpoint;
let dir: string;
const managers: TokenManager[] = [];
const opened: TokenStorage[] = [];

beforeAll(async () => {
  server = await startAuthServer({ ttl: { AccessToken: 4 } });
  endpoint = oauth2Endpoint({ issuer: server.issuer, ...CLIENTS.confidential });
  dir = await mkdtemp(join(tmpdir(), 'tl-fleet-'));
});

afterEach(async () => {
  await Promise.allSettled(managers.splice(0).map((m) => m.stop()));
  await Promise.allSettled(opened.splice(0).map((s) => s.close?.()));
});

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

function manager(storage: TokenStorage, options: Partial<TokenManagerOptions> = {}): TokenManager {
  const m = createTokenManager({ endpoint, storage, refreshThreshold: '2s', minRefreshInterval: '100ms', ...options });
  managers.push(m);
  return m;
}

const refreshGrants = (): number => server.counts.tokenByGrant.refresh_token ?? 0;

const stores: Array<[string, () => TokenStorage]> = [
  ['a shared memory store', () => memoryStorage()],
  ['a shared file store', () => fileStorage({ path: join(dir, `tokens-${Math.random().toString(36).slice(2)}.json`) })],
];

describe.each(stores)('three managers over %s', (_name, makeStorage) => {
  it('concurrent on-demand refreshes: one request at the server, the same new token everywhere', async () => {
    const storage = makeStorage();
    opened.push(storage);
    const [a, b, c] = [0, 1, 2].map(() => manager(storage, { backgroundRefresh: false })) as [TokenManager, TokenManager, TokenManager];
    const set = await a.setToken('k', await obtainTokensViaAuthCode({ issuer: server.issuer, ...CLIENTS.confidential }));
    await Promise.all([b.start(), c.start()]);
    expect(b.status('k').state).toBe('valid');
    await waitPast(a.status('k').refreshAt as number);
    const before = refreshGrants();

    const results = await Promise.all([a, b, c].flatMap((m) => Array.from({ length: 20 }, () => m.getToken('k'))));

    expect(refreshGrants()).toBe(before + 1);
    const values = new Set(results.map((t) => t.accessToken));
    expect(values.size).toBe(1);
    expect(values.has(set.accessToken)).toBe(false);
    // The newest refresh token is held everywhere: the server accepts it (no reuse, grant alive).
    await expect(c.refresh('k')).resolves.toMatchObject({ tokenType: expect.any(String) });
    expect(refreshGrants()).toBe(before + 2);
  });

  it('background refresh at the same moment in every manager: one request, no invalid_grant', async () => {
    const storage = makeStorage();
    opened.push(storage);
    const [a, b, c] = [0, 1, 2].map(() => manager(storage)) as [TokenManager, TokenManager, TokenManager];
    const failures: TokenEvent[] = [];
    for (const m of [a, b, c]) m.subscribe((e) => e.type === 'refresh_failed' && failures.push(e));
    const set = await a.setToken('k', await obtainTokensViaAuthCode({ issuer: server.issuer, ...CLIENTS.confidential }));
    await Promise.all([b.start(), c.start()]);
    const before = refreshGrants();

    await waitUntil(() => refreshGrants() > before, 'a background refresh', 6_000);
    await waitUntil(
      () => [a, b, c].every((m) => m.status('k').state === 'valid' && m.peekToken('k')?.accessToken !== set.accessToken),
      'every manager to hold the new token',
      4_000,
    );
    expect(refreshGrants()).toBe(before + 1);
    expect(failures).toEqual([]);
    const tokens = new Set(await Promise.all([a, b, c].map(async (m) => (await m.getToken('k')).accessToken)));
    expect(tokens.size).toBe(1);
  });
});
