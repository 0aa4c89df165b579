/**
 * Refresh overhead (issue 7): a manager refresh (`refresh(key)`: lock, re-read, the token request
 * through `oauth2Endpoint`, validation, rotation, the storage write, state changes; memory storage)
 * against a loopback token endpoint, versus one raw `fetch` POST of the same grant (same client
 * authentication, body and JSON parse). One at a time, interleaved rounds, best round.
 */
import ky from 'ky';
import { oauth2Endpoint } from '../adapters/oauth2/index.js';
import { undiciTimeouts } from '../adapters/oauth2/transport.js';
import { createTokenManager } from '../machines/manager/manager.js';
import { memoryStorage } from '../machines/manager/memory-storage.js';
import { figure, type BenchOptions, type Figure } from './support/figure.js';
import { compareLatency, timeUnit } from './support/measure.js';
import { oidcServer } from './support/oidc.js';
import { BASIC, CLIENT_ID, CLIENT_SECRET, tokenServer } from './support/token-server.js';

type Post = (tokenUrl: string, init: { headers: Record<string, string>; body: URLSearchParams }) => Promise<Response>;

/**
 * One POST of the refresh grant (RFC 6749 §6) with client authentication and a JSON parse,
 * following the rotated refresh token from one call to the next, sent by `post`.
 */
function chainedRefresh(post: Post, tokenUrl: string, firstRefreshToken: string, what: string): () => Promise<void> {
  let refreshToken = firstRefreshToken;
  return async () => {
    const response = await post(tokenUrl, {
      headers: { authorization: BASIC, accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
    });
    const json = (await response.json()) as { refresh_token?: string };
    if (!response.ok || typeof json.refresh_token !== 'string') throw new Error(`refresh-overhead: ${what} failed (${response.status})`);
    refreshToken = json.refresh_token;
  };
}

/** The baseline: a bare `fetch`. */
function rawRefresh(tokenUrl: string, firstRefreshToken: string, what: string): () => Promise<void> {
  return chainedRefresh((url, init) => fetch(url, { method: 'POST', ...init }), tokenUrl, firstRefreshToken, what);
}

/** How a transport-like request is bounded in time: not at all, by a signal (before), by undici (now). */
type TimeoutKind = 'none' | 'signal' | 'undici';

/** The transport's own: undici's dispatcher with per-request timeouts (adapters/oauth2/transport.ts). */
const timedDispatcher = undiciTimeouts(10_000);

/**
 * A bare `fetch` sent as our transport sends it on Node: no window and redirect 'error', so undici
 * skips its copy of the request (transport.ts). `timeout` adds a 10 s timer and what ends a stalled
 * request: an `AbortController` signal (the transport before, whose cost is undici's per-request
 * signal work), or undici's per-request timeouts through a dispatcher (the transport now).
 */
function transportLikeRefresh(tokenUrl: string, firstRefreshToken: string, timeout: TimeoutKind): () => Promise<void> {
  return chainedRefresh(
    async (url, init) => {
      const controller = timeout === 'signal' ? new AbortController() : undefined;
      const timer = timeout === 'none' ? undefined : setTimeout(() => controller?.abort(), 10_000);
      const bound = controller ? { signal: controller.signal } : timeout === 'undici' ? { dispatcher: timedDispatcher() } : {};
      try {
        return await fetch(url, { method: 'POST', ...init, redirect: 'error', window: null, ...bound } as RequestInit);
      } finally {
        clearTimeout(timer);
      }
    },
    tokenUrl,
    firstRefreshToken,
    `transport-like refresh (timeout: ${timeout})`,
  );
}

/**
 * The transport's floor: a plain ky instance with ky's defaults except retries (DESIGN: the token
 * endpoint goes over ky). ky builds a `Request` and clones it for retries on every call, whatever its options.
 */
function kyRefresh(tokenUrl: string, firstRefreshToken: string): () => Promise<void> {
  const client = ky.create({ retry: 0, throwHttpErrors: false });
  return chainedRefresh((url, init) => client.post(url, init), tokenUrl, firstRefreshToken, 'plain ky refresh');
}

/** Context: the same comparison against a real authorization server (oidc-provider on loopback). */
async function againstOidcProvider(quick: boolean): Promise<Figure> {
  const server = await oidcServer();
  const key = 'svc';
  const manager = createTokenManager({
    endpoint: oauth2Endpoint({ tokenUrl: server.tokenUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }),
    storage: memoryStorage(),
  });
  await manager.setToken(key, { access_token: 'initial', token_type: 'Bearer', expires_in: 3600, refresh_token: await server.mintRefreshToken() });
  const raw = rawRefresh(server.tokenUrl, await server.mintRefreshToken(), 'raw refresh at oidc-provider');
  const us = await compareLatency(
    [
      { name: 'raw', op: raw },
      { name: 'manager', op: () => manager.refresh(key) },
    ],
    quick ? { warmup: 30, rounds: 15, perRound: 3 } : { warmup: 100, rounds: 60, perRound: 5 },
  );
  await manager.stop();
  await server.close();
  return figure(
    'refresh: manager.refresh() vs raw fetch POST, against oidc-provider on loopback (context)',
    us.get('manager') as number,
    timeUnit('µs/refresh'),
    us.get('raw') as number,
    'info',
  );
}

export default async function run({ quick }: BenchOptions): Promise<Figure[]> {
  const server = await tokenServer();
  const key = 'svc';
  const endpoint = oauth2Endpoint({ tokenUrl: server.tokenUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  const manager = createTokenManager({ endpoint, storage: memoryStorage() });
  await manager.setToken(key, { access_token: 'initial', token_type: 'Bearer', expires_in: 3600, refresh_token: server.issue() });
  // Where the overhead comes from: the endpoint adapter alone, and the manager alone (an in-process
  // endpoint that answers at once).
  let endpointRefreshToken = server.issue();
  const endpointAlone = async (): Promise<void> => {
    const body = (await endpoint.refresh(endpointRefreshToken)) as { refresh_token: string };
    endpointRefreshToken = body.refresh_token;
  };
  let issued = 0;
  const instant = createTokenManager({
    endpoint: { refresh: async () => ({ access_token: `at-${++issued}`, token_type: 'Bearer', expires_in: 3600, refresh_token: `rt-${issued}` }) },
    storage: memoryStorage(),
  });
  await instant.setToken(key, { access_token: 'initial', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' });

  const raw = rawRefresh(server.tokenUrl, server.issue(), 'raw refresh');
  const plainKy = kyRefresh(server.tokenUrl, server.issue());

  const us = await compareLatency(
    [
      { name: 'raw', op: raw },
      { name: 'manager', op: () => manager.refresh(key) },
      { name: 'endpoint', op: endpointAlone },
      { name: 'ky', op: plainKy },
      { name: 'uncopied', op: transportLikeRefresh(server.tokenUrl, server.issue(), 'none') },
      { name: 'uncopied+signal', op: transportLikeRefresh(server.tokenUrl, server.issue(), 'signal') },
      { name: 'uncopied+undici', op: transportLikeRefresh(server.tokenUrl, server.issue(), 'undici') },
    ],
    quick ? { warmup: 150, rounds: 60, perRound: 5 } : { warmup: 600, rounds: 150, perRound: 10 },
  );
  const own = await compareLatency([{ name: 'instant', op: () => instant.refresh(key) }], quick ? { warmup: 300, rounds: 8, perRound: 100 } : { warmup: 2000, rounds: 30, perRound: 200 });
  await manager.stop();
  await instant.stop();
  await server.close();
  if (server.counts.refused > 0) throw new Error(`refresh-overhead: the server refused ${server.counts.refused} request(s)`);
  const at = (name: string): number => us.get(name) as number;
  return [
    figure('refresh: manager.refresh() via oauth2Endpoint vs raw fetch POST, loopback', at('manager'), timeUnit('µs/refresh'), at('raw'), 'ratio <= 1.15'),
    figure('refresh: manager.refresh() via oauth2Endpoint vs plain ky POST (what the library adds to its transport)', at('manager'), timeUnit('µs/refresh'), at('ky'), 'ratio <= 1.15'),
    figure('refresh: plain ky POST vs raw fetch POST (cause: the transport floor)', at('ky'), timeUnit('µs/refresh'), at('raw'), 'info'),
    figure('refresh: oauth2Endpoint.refresh() alone vs raw fetch POST (cause)', at('endpoint'), timeUnit('µs/refresh'), at('raw'), 'info'),
    figure('refresh: raw fetch POST without window and with redirect error, as our transport sends it, vs raw fetch POST (cause: undici skips its request copy)', at('uncopied'), timeUnit('µs/refresh'), at('raw'), 'info'),
    figure("refresh: the same with a 10 s timer and undici's per-request timeouts, as our transport bounds it, vs raw fetch POST (cause: the timeout)", at('uncopied+undici'), timeUnit('µs/refresh'), at('raw'), 'info'),
    figure('refresh: the same with a 10 s timer and an AbortController signal instead (the transport before) vs raw fetch POST (cause: the signal)', at('uncopied+signal'), timeUnit('µs/refresh'), at('raw'), 'info'),
    figure('refresh: manager.refresh() with an instant in-process endpoint vs raw fetch POST (cause)', own.get('instant') as number, timeUnit('µs/refresh'), at('raw'), 'info'),
    await againstOidcProvider(quick),
  ];
}
