/**
 * Side by side with the peer libraries (issue 17): google-auth-library, @badgateway/oauth2-client and
 * openid-client (pinned devDependencies), measured in the same run as token-lifecycle, against the
 * same baselines. Peers' figures are named `peer <library>: ...`; ours carry the peers' best
 * same-run ratio in their goal, so PASS means "at least as good as every peer" (and the issue's floor).
 * - hot path: a valid token read, vs a sync `Map.get` + `Date.now()` (one process, interleaved);
 * - refresh: one forced refresh against the loopback token endpoint, vs one raw `fetch` POST of the
 *   same grant, wall and CPU (interleaved rounds, best round);
 * - herd: 10,000 concurrent callers at expiry, from the first call to the last caller resolved, vs
 *   10,000 callers awaiting one raw `fetch` POST; with the token requests each made;
 * - memory: 100,000 credentials held, heap per credential after GC and load time, each library in
 *   its own child process (bench/peers-memory.ts), vs a `Map` of the same strings.
 * openid-client keeps no token (it is a protocol library): it appears in the refresh only.
 */
import { OAuth2Fetch, OAuth2Client as BadgatewayClient, type OAuth2Token } from '@badgateway/oauth2-client';
import { OAuth2Client as GoogleClient } from 'google-auth-library';
import * as openid from 'openid-client';
import { oauth2Endpoint } from '../adapters/oauth2/index.js';
import { createTokenManager } from '../machines/manager/manager.js';
import { memoryStorage } from '../machines/manager/memory-storage.js';
import type { TokenSet } from '../machines/lifecycle/types.js';
import { figure, type BenchOptions, type Figure } from './support/figure.js';
import { ManualClock, nextMacrotask } from './support/manual-clock.js';
import { compareLatencyBoth, compareOps, consume, gc, timeUnit, type Contender } from './support/measure.js';
import { memoryFigures } from './support/peer-memory.js';
import { BASIC, CLIENT_ID, CLIENT_SECRET, tokenServer, type TokenServer } from './support/token-server.js';
import { opaqueToken } from './support/tokens.js';

const GOOGLE = 'google-auth-library';
const BADGATEWAY = '@badgateway/oauth2-client';
const OPENID = 'openid-client';
const HERD = 10_000;
const HOUR_MS = 3_600_000;

/** Our goal against the peers: at least as good as the best of them and the issue's own bound. */
function atLeast(floor: number, peers: number[]): string {
  return `ratio >= ${Math.max(floor, ...peers).toFixed(4)}`;
}
function atMost(ceiling: number, peers: number[]): string {
  return `ratio <= ${Math.min(ceiling, ...peers).toFixed(4)}`;
}

function googleClient(server: TokenServer): GoogleClient {
  return new GoogleClient({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, endpoints: { oauth2TokenUrl: server.tokenUrl } });
}

function badgatewayClient(server: TokenServer): BadgatewayClient {
  return new BadgatewayClient({
    server: server.url,
    tokenEndpoint: '/token',
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    authenticationMethod: 'client_secret_basic',
  });
}

function badgatewayFetch(client: BadgatewayClient, token: OAuth2Token): OAuth2Fetch {
  return new OAuth2Fetch({
    client,
    scheduleRefresh: false,
    getNewToken: () => null,
    getStoredToken: () => token,
  });
}

function openidConfig(server: TokenServer): openid.Configuration {
  const config = new openid.Configuration(
    { issuer: server.url, token_endpoint: server.tokenUrl },
    CLIENT_ID,
    CLIENT_SECRET,
    openid.ClientSecretBasic(CLIENT_SECRET),
  );
  openid.allowInsecureRequests(config); // loopback http
  return config;
}

async function hotPath(quick: boolean): Promise<Figure[]> {
  const server = await tokenServer();
  const key = 'bench';
  const manager = createTokenManager({ endpoint: oauth2Endpoint({ tokenUrl: server.tokenUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }) });
  await manager.setToken(key, { access_token: opaqueToken(), token_type: 'Bearer', expires_in: 3600, refresh_token: opaqueToken() });
  const google = googleClient(server);
  google.setCredentials({ access_token: opaqueToken(), refresh_token: opaqueToken(), expiry_date: Date.now() + HOUR_MS, token_type: 'Bearer' });
  const badgateway = badgatewayFetch(badgatewayClient(server), { accessToken: opaqueToken(), refreshToken: opaqueToken(), expiresAt: Date.now() + HOUR_MS });
  await badgateway.getAccessToken(); // its stored token is loaded

  const entry = { token: manager.peekToken(key) as TokenSet, freshUntil: Date.now() + HOUR_MS };
  const map = new Map([[key, entry]]);
  const lookup = (k: string): TokenSet | undefined => {
    const e = map.get(k);
    return e !== undefined && Date.now() < e.freshUntil ? e.token : undefined;
  };
  const contenders: Contender[] = [
    { name: 'baseline', loop: (n) => { let t: unknown; for (let i = 0; i < n; i++) t = lookup(key); consume(t); } },
    { name: 'ours', loop: async (n) => { let t: unknown; for (let i = 0; i < n; i++) t = await manager.getToken(key); consume(t); } },
    { name: GOOGLE, loop: async (n) => { let t: unknown; for (let i = 0; i < n; i++) t = await google.getAccessToken(); consume(t); } },
    { name: BADGATEWAY, loop: async (n) => { let t: unknown; for (let i = 0; i < n; i++) t = await badgateway.getToken(); consume(t); } },
  ];
  const ops = await compareOps(contenders, quick ? { sampleMs: 20, rounds: 12, warmupMs: 150 } : { sampleMs: 50, rounds: 60, warmupMs: 500 });
  await manager.stop();
  await server.close();
  const base = ops.get('baseline') as number;
  const ratio = (name: string): number => (ops.get(name) as number) / base;
  const peers = [GOOGLE, BADGATEWAY].map(ratio);
  return [
    figure('hot path (side by side): token-lifecycle await getToken() vs sync Map+Date.now', ops.get('ours') as number, timeUnit('ops/s'), base, atLeast(0.47, peers)),
    figure(`peer ${GOOGLE}: hot path await getAccessToken() vs sync Map+Date.now`, ops.get(GOOGLE) as number, timeUnit('ops/s'), base, 'info'),
    figure(`peer ${BADGATEWAY}: hot path await OAuth2Fetch.getToken() vs sync Map+Date.now`, ops.get(BADGATEWAY) as number, timeUnit('ops/s'), base, 'info'),
  ];
}

async function refresh(quick: boolean): Promise<Figure[]> {
  const server = await tokenServer();
  const key = 'svc';
  const manager = createTokenManager({ endpoint: oauth2Endpoint({ tokenUrl: server.tokenUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }) });
  await manager.setToken(key, { access_token: opaqueToken(), token_type: 'Bearer', expires_in: 3600, refresh_token: server.issue() });

  let rawToken = server.issue();
  const raw = async (): Promise<void> => {
    const response = await fetch(server.tokenUrl, {
      method: 'POST',
      headers: { authorization: BASIC, accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: rawToken }),
    });
    const body = (await response.json()) as { refresh_token: string };
    rawToken = body.refresh_token;
  };
  const google = googleClient(server);
  google.setCredentials({ access_token: opaqueToken(), refresh_token: server.issueReusable(), expiry_date: Date.now() + HOUR_MS });
  const badgateway = badgatewayFetch(badgatewayClient(server), { accessToken: opaqueToken(), refreshToken: server.issue(), expiresAt: Date.now() + HOUR_MS });
  await badgateway.getAccessToken();
  const config = openidConfig(server);
  let openidToken = server.issue();

  const latency = await compareLatencyBoth(
    [
      { name: 'raw', op: raw },
      { name: 'ours', op: () => manager.refresh(key) },
      { name: GOOGLE, op: () => google.refreshAccessToken() },
      { name: BADGATEWAY, op: () => badgateway.refreshToken() },
      {
        name: OPENID,
        op: async () => {
          openidToken = (await openid.refreshTokenGrant(config, openidToken)).refresh_token as string;
        },
      },
    ],
    quick ? { warmup: 200, rounds: 400, perRound: 4 } : { warmup: 400, rounds: 400, perRound: 8 },
  );
  await manager.stop();
  await server.close();
  if (server.counts.refused > 0) throw new Error(`peers: the token server refused ${server.counts.refused} request(s)`);

  const figures: Figure[] = [];
  for (const [clock, values] of [['wall', latency.wall], ['cpu', latency.cpu]] as const) {
    const base = values.get('raw') as number;
    const unit = clock === 'wall' ? 'µs/refresh' : 'cpu µs/refresh';
    const peers = [GOOGLE, BADGATEWAY, OPENID].map((name) => (values.get(name) as number) / base);
    figures.push(
      figure(`refresh (side by side, ${clock}): token-lifecycle manager.refresh() via oauth2Endpoint vs raw fetch POST`, values.get('ours') as number, unit, base, atMost(Infinity, peers)),
      figure(`peer ${GOOGLE}: refresh (${clock}) OAuth2Client.refreshAccessToken() vs raw fetch POST`, values.get(GOOGLE) as number, unit, base, 'info'),
      figure(`peer ${BADGATEWAY}: refresh (${clock}) OAuth2Fetch.refreshToken() vs raw fetch POST`, values.get(BADGATEWAY) as number, unit, base, 'info'),
      figure(`peer ${OPENID}: refresh (${clock}) refreshTokenGrant() vs raw fetch POST`, values.get(OPENID) as number, unit, base, 'info'),
    );
  }
  return figures;
}

interface HerdRound {
  readonly ms: number;
  readonly requests: number;
}

/** One herd: `call` made HERD times at once; from the first call to the last caller resolved (CPU ms). */
async function herdRound(server: TokenServer, call: () => Promise<unknown>): Promise<HerdRound> {
  await nextMacrotask();
  gc();
  const before = server.counts.ok + server.counts.refused;
  const cpuStart = process.cpuUsage();
  const callers: Array<Promise<unknown>> = [];
  for (let i = 0; i < HERD; i++) callers.push(call());
  await Promise.all(callers);
  const used = process.cpuUsage(cpuStart);
  if (server.counts.refused > 0) throw new Error('peers: herd request refused');
  return { ms: (used.user + used.system) / 1000, requests: server.counts.ok + server.counts.refused - before };
}

async function herd(quick: boolean): Promise<Figure[]> {
  const server = await tokenServer();
  // Ours on a clock the bench sets, so each round starts exactly at expiry; the peers read Date.now(),
  // so their token is set to have expired just now.
  const clock = new ManualClock(Date.now());
  const key = 'herd';
  const manager = createTokenManager({
    endpoint: oauth2Endpoint({ tokenUrl: server.tokenUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }),
    storage: memoryStorage({ now: () => clock.now() }),
    clock,
  });
  await manager.setToken(key, { access_token: opaqueToken(), token_type: 'Bearer', expires_in: 3600, refresh_token: server.issue() });
  const google = googleClient(server);
  google.setCredentials({ access_token: opaqueToken(), refresh_token: server.issueReusable(), expiry_date: Date.now() + HOUR_MS });
  const badgateway = badgatewayFetch(badgatewayClient(server), { accessToken: opaqueToken(), refreshToken: server.issue(), expiresAt: Date.now() + HOUR_MS });
  await badgateway.getAccessToken();

  const sides: Record<string, { arm(): Promise<void> | void; call(): Promise<unknown> }> = {
    baseline: {
      arm() {},
      call: (() => {
        // 10,000 callers awaiting one raw fetch POST: the first caller of a round starts it.
        let shared: Promise<unknown> | undefined;
        let token = server.issue();
        let calls = 0;
        return () => {
          if (calls++ % HERD === 0) {
            shared = fetch(server.tokenUrl, {
              method: 'POST',
              headers: { authorization: BASIC, accept: 'application/json' },
              body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }),
            })
              .then((r) => r.json() as Promise<{ refresh_token: string }>)
              .then((body) => (token = body.refresh_token));
          }
          return (async () => shared)();
        };
      })(),
    },
    ours: {
      arm() {
        clock.time = manager.status(key).expiresAt as number;
      },
      call: () => manager.getToken(key),
    },
    [GOOGLE]: {
      arm() {
        google.credentials.expiry_date = Date.now() - 1;
      },
      call: () => google.getAccessToken(),
    },
    [BADGATEWAY]: {
      async arm() {
        (await badgateway.getToken()).expiresAt = Date.now() - 1;
      },
      call: () => badgateway.getToken(),
    },
  };
  const names = Object.keys(sides);
  const rounds = quick ? 4 : 20;
  const results = new Map<string, HerdRound[]>(names.map((n) => [n, []]));
  for (let round = -1; round < rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + Math.max(round, 0)) % names.length] as string;
      const side = sides[name] as (typeof sides)[string];
      await side.arm();
      const result = await herdRound(server, side.call);
      if (round >= 0) results.get(name)?.push(result); // round -1 warms every side up
    }
  }
  await manager.stop();
  await server.close();

  const best = (name: string): number => Math.min(...(results.get(name) as HerdRound[]).map((r) => r.ms));
  const requests = (name: string): number => Math.max(...(results.get(name) as HerdRound[]).map((r) => r.requests));
  const base = best('baseline');
  const peers = [GOOGLE, BADGATEWAY].map((n) => best(n) / base);
  const label = `${HERD.toLocaleString('en-US')} concurrent callers at expiry, last resolved (best of ${rounds}) vs 1 raw fetch POST awaited by ${HERD.toLocaleString('en-US')}`;
  return [
    figure(`herd (side by side): token-lifecycle getToken() ${label}`, best('ours'), 'cpu ms', base, atMost(3, peers)),
    figure(`herd (side by side): token-lifecycle token requests per herd (max of ${rounds})`, requests('ours'), 'requests', 1, 'value == 1'),
    figure(`peer ${GOOGLE}: herd getAccessToken() ${label}`, best(GOOGLE), 'cpu ms', base, 'info'),
    figure(`peer ${GOOGLE}: token requests per herd (max of ${rounds})`, requests(GOOGLE), 'requests', 1, 'info'),
    figure(`peer ${BADGATEWAY}: herd OAuth2Fetch.getToken() ${label}`, best(BADGATEWAY), 'cpu ms', base, 'info'),
    figure(`peer ${BADGATEWAY}: token requests per herd (max of ${rounds})`, requests(BADGATEWAY), 'requests', 1, 'info'),
  ];
}

export default async function run({ quick }: BenchOptions): Promise<Figure[]> {
  return [...(await hotPath(quick)), ...(await refresh(quick)), ...(await herd(quick)), ...(await memoryFigures(quick))];
}
