/**
 * R10 end to end: a real authorization server (oidc-provider on loopback), the manager over
 * `oauth2Endpoint`, and a real resource server that validates access tokens by introspection at the
 * provider (RFC 7662) and keeps a deny-list, so it can reject a token the provider still considers
 * active. Requests are counted at the resource server; refreshes at the provider.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import ky, { HTTPError } from 'ky';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { authFetch, kyHooks } from '../../adapters/http/index.js';
import { oauth2Endpoint } from '../../adapters/oauth2/index.js';
import { createTokenManager } from '../../machines/manager/manager.js';
import type { TokenManager } from '../../machines/manager/api-types.js';
import { CLIENTS, obtainTokensViaAuthCode, startAuthServer, type AuthServer } from '../support/oidc-server.js';

interface ResourceServer {
  readonly url: string;
  /** Tokens answered with 401 although the provider says they are active. */
  readonly denied: Set<string>;
  /** Every request: its id, the token it carried, the status it got. */
  readonly log: Array<{ id: string; token: string | undefined; status: number }>;
  /** Answer 401 to everything. */
  alwaysUnauthorized: boolean;
  stop(): Promise<void>;
}

/** RFC 7662 introspection with the service client's credentials (RFC 6749 §2.3.1 encoding). */
function introspector(auth: AuthServer): (token: string) => Promise<boolean> {
  const { clientId, clientSecret } = CLIENTS.service;
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
  const cache = new Map<string, Promise<boolean>>();
  return (token) => {
    let active = cache.get(token);
    if (!active) {
      active = fetch(`${auth.issuer}/token/introspection`, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}` },
        body: new URLSearchParams({ token }),
      })
        .then((r) => r.json() as Promise<{ active?: boolean }>)
        .then((body) => body.active === true);
      cache.set(token, active);
    }
    return active;
  };
}

async function startResourceServer(auth: AuthServer): Promise<ResourceServer> {
  const isActive = introspector(auth);
  const resource: Omit<ResourceServer, 'url' | 'stop'> = { denied: new Set(), log: [], alwaysUnauthorized: false };
  const server: Server = createServer((req, res) => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const id = String(req.headers['x-id'] ?? '');
    const answer = (status: number): void => {
      resource.log.push({ id, token, status });
      // RFC 6750 §3: a 401 carries a Bearer challenge.
      res.writeHead(status, status === 401 ? { 'www-authenticate': 'Bearer realm="api", error="invalid_token"' } : {});
      res.end(status === 200 ? JSON.stringify({ ok: true }) : '');
    };
    if (resource.alwaysUnauthorized || token === undefined || resource.denied.has(token)) return answer(401);
    isActive(token).then((active) => answer(active ? 200 : 401), () => answer(503));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return Object.assign(resource, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

let auth: AuthServer;
let resource: ResourceServer;
const managers: TokenManager[] = [];

beforeAll(async () => {
  // Long-lived access tokens: only the deny-list makes the resource reject one.
  auth = await startAuthServer({ ttl: { AccessToken: 300 } });
  resource = await startResourceServer(auth);
});

afterEach(async () => {
  resource.denied.clear();
  resource.log.length = 0;
  resource.alwaysUnauthorized = false;
  await Promise.allSettled(managers.splice(0).map((m) => m.stop()));
});

afterAll(async () => {
  await resource?.stop();
  await auth?.stop();
});

/** A manager over oauth2Endpoint holding a fresh login (its own grant); the current access token. */
async function loggedInManager(): Promise<{ manager: TokenManager; accessToken: string }> {
  const manager = createTokenManager({
    endpoint: oauth2Endpoint({ issuer: auth.issuer, ...CLIENTS.confidential }),
    minRefreshInterval: '100ms',
  });
  managers.push(manager);
  const tokens = await obtainTokensViaAuthCode({ issuer: auth.issuer, ...CLIENTS.confidential });
  const set = await manager.setToken('default', tokens);
  return { manager, accessToken: set.accessToken };
}

const refreshGrants = (): number => auth.counts.tokenByGrant.refresh_token ?? 0;

describe('R10 against a real resource server and oidc-provider', () => {
  it('200 concurrent requests via ky while the current token is denied: one refresh, each retried at most once', async () => {
    const { manager, accessToken } = await loggedInManager();
    resource.denied.add(accessToken);
    const before = refreshGrants();
    const api = ky.extend({ hooks: kyHooks(manager), retry: 0 });

    const n = 200;
    const bodies = await Promise.all(
      Array.from({ length: n }, (_, i) => api(`${resource.url}/data`, { headers: { 'x-id': `q${i}` } }).json<{ ok: boolean }>()),
    );

    expect(bodies.every((b) => b.ok)).toBe(true);
    expect(refreshGrants() - before).toBe(1);
    const renewed = (await manager.getToken()).accessToken;
    expect(renewed).not.toBe(accessToken);
    for (let i = 0; i < n; i++) {
      const attempts = resource.log.filter((entry) => entry.id === `q${i}`);
      expect(attempts.length).toBeGreaterThanOrEqual(1);
      expect(attempts.length).toBeLessThanOrEqual(2);
      expect(attempts.at(-1)).toEqual({ id: `q${i}`, token: renewed, status: 200 });
      if (attempts.length === 2) expect(attempts[0]).toEqual({ id: `q${i}`, token: accessToken, status: 401 });
    }
    // The burst did reach the resource with the denied token (not all after the refresh).
    expect(resource.log.filter((entry) => entry.status === 401).length).toBeGreaterThan(0);
  });

  it('a resource that always answers 401: the caller gets the 401 after one refresh and one retry', async () => {
    const { manager, accessToken } = await loggedInManager();
    resource.alwaysUnauthorized = true;
    const before = refreshGrants();
    const api = ky.extend({ hooks: kyHooks(manager), retry: 0 });

    await expect(api(`${resource.url}/data`, { headers: { 'x-id': 'always' } })).rejects.toSatisfy(
      (error: unknown) => error instanceof HTTPError && error.response.status === 401,
    );

    expect(refreshGrants() - before).toBe(1);
    const renewed = (await manager.getToken()).accessToken;
    expect(resource.log).toEqual([
      { id: 'always', token: accessToken, status: 401 },
      { id: 'always', token: renewed, status: 401 },
    ]);
  });

  it('authFetch: a denied token is refreshed at the provider once and the POST body re-sent', async () => {
    const { manager, accessToken } = await loggedInManager();
    resource.denied.add(accessToken);
    const before = refreshGrants();
    const fetchWithToken = authFetch(manager);

    const response = await fetchWithToken(`${resource.url}/items`, {
      method: 'POST',
      headers: { 'x-id': 'post', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x' }),
    });

    expect(response.status).toBe(200);
    expect(refreshGrants() - before).toBe(1);
    expect(resource.log.map((entry) => entry.status)).toEqual([401, 200]);
  });
});
