/**
 * The fleet over Redis with real processes (issue 6): worker processes (test/fixtures/fleet-worker.mjs)
 * each run token managers over one credential in the real Redis on 127.0.0.1:6379, against a real
 * oidc-provider that rotates refresh tokens on every use and revokes the grant on reuse.
 *
 * Workers report JSON lines (token fingerprints, never token values). Node 20 runs no TypeScript, so
 * beforeAll bundles the current source with esbuild (as file-storage-processes.test.ts does).
 * These tests wait real seconds: tokens live 4 s and the threshold is 2 s, so one refresh cycle is
 * ~2 s. Every test uses its own Redis key prefix; the run deletes everything under its prefix.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redisStorage } from '../../adapters/storage/redis/index.js';
import {
  allLines,
  buildFleetBundle,
  eventsOf,
  expectAdoptsAnotherProcessRefresh,
  FLEET_MANAGER,
  killHolderMidRequest,
  linesOf,
  recordGrants,
  runUntilGranted,
  seedLogin,
  spawnWorker,
  startWorkers,
  until,
  type Grant,
  type Worker,
} from '../support/fleet-workers.js';
import { CLIENTS, startAuthServer, type AuthServer } from '../support/oidc-server.js';
import { deleteUnder } from '../support/redis-keys.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const runPrefix = `tl-fleet:${randomUUID()}:`;
const KEY = 'shared';
const TTL_S = 4;

let work: string;
let bundle: string;
let server: AuthServer;
let admin: Redis;
let counter = 0;
const workers: Worker[] = [];
/** Every grant the server handled, in order: type and outcome (grant.success / grant.error). */
let grants: Grant[];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tl-fleet-'));
  bundle = await buildFleetBundle(work, [
    "export { createTokenManager } from './machines/manager/manager.js';",
    "export { redisStorage } from './adapters/storage/redis/index.js';",
    "export { oauth2Endpoint } from './adapters/oauth2/index.js';",
  ]);
  server = await startAuthServer({ ttl: { AccessToken: TTL_S, ClientCredentials: TTL_S } });
  grants = recordGrants(server);
  admin = new Redis(REDIS_URL);
});

afterEach(async () => {
  server.clearFaults();
  for (const w of workers.splice(0)) w.kill();
});

afterAll(async () => {
  for (const w of workers.splice(0)) w.kill();
  await deleteUnder(admin, runPrefix);
  admin.disconnect();
  await server?.stop();
  await rm(work, { recursive: true, force: true });
});

interface Fleet {
  readonly prefix: string;
  readonly workers: Worker[];
}

/** Spawns `count` workers over one credential under a fresh prefix; resolves when all are ready. */
async function startFleet(count: number, config: Record<string, unknown> = {}): Promise<Fleet> {
  const prefix = `${runPrefix}${++counter}:`;
  const base = {
    redisUrl: REDIS_URL,
    prefix,
    key: KEY,
    // The lock TTL exceeds the endpoint timeout (DESIGN §5): a live holder never outlasts it.
    endpoint: { tokenUrl: server.tokenUrl, ...CLIENTS.confidential, timeout: '800ms' },
    manager: FLEET_MANAGER,
    ...config,
  };
  const fleet = await startWorkers(count, bundle, base);
  workers.push(...fleet);
  return { prefix, workers: fleet };
}

/** A real login (authorization_code + PKCE), stored as the shared credential by a short-lived manager. */
const seed = (prefix: string, at: AuthServer = server): Promise<void> => seedLogin(at, redisStorage({ url: REDIS_URL, prefix }), KEY);

const grantsSince = (since: number, grant: string): Grant[] => grants.filter((g) => g.at >= since && g.grant === grant);

describe('fleet: worker processes over one Redis credential', () => {
  it('8 workers through 3 refresh cycles: one refresh per cycle, no invalid_grant, every check holds a valid token', async () => {
    const since = Date.now();
    const { prefix, workers: fleet } = await startFleet(8, { checkEveryMs: 250, userinfoUrl: `${server.issuer}/me` });
    await seed(prefix);
    const refreshes = (): Grant[] => grantsSince(since, 'refresh_token');
    // Every worker checks once more after the last refresh (and so sees its token).
    const stopped = await runUntilGranted(fleet, refreshes, 3, '3 refresh cycles');

    // The server: exactly one refresh per cycle, no error at all.
    const seen = refreshes();
    // At least the 3 cycles waited for; a 4th may begin before all workers stop on a loaded machine.
    const requests = seen.length;
    expect(seen.every((g) => g.ok)).toBe(true);
    expect(grants.filter((g) => g.at >= since && !g.ok)).toEqual([]);

    // The workers: 3 token requests in all, one per cycle: each sent 2 s (the refresh window) after
    // the previous one (measured where they are sent: server-side times also carry its latency).
    const sends = allLines(fleet, 'send').map((l) => l.at).sort((x, y) => x - y);
    expect(sends).toHaveLength(requests);
    // No second refresh within a cycle (sends 2 s apart). Under heavy load one was once seen here: a
    // change-feed adoption landing just after a refresh began (test/unit/manager/fleet-feed-race.test.ts).
    const close = sends.slice(1).filter((at, n) => at - sends[n]! <= 1_800);
    expect(close).toEqual([]);
    const cycles = sends.length;
    expect(cycles === 3 || cycles === 4).toBe(true);
    expect(allLines(fleet, 'sent').every((l) => l.ok === true)).toBe(true);
    expect(fleet.flatMap((w) => eventsOf(w, 'refreshed'))).toHaveLength(sends.length);
    expect(fleet.flatMap((w) => eventsOf(w, 'refresh_failed'))).toEqual([]);
    const states = fleet.flatMap((w) => eventsOf(w, 'state').map((e) => e.state));
    expect(states).not.toContain('degraded');
    expect(states).not.toContain('reauthRequired');

    // Every check of every worker: a token, unexpired, and accepted by the resource server (/me).
    const checks = allLines(fleet, 'check');
    expect(checks.length).toBeGreaterThan(8 * 8); // ~190 on an idle machine, fewer under load
    expect(checks.filter((l) => l.ok !== true)).toEqual([]);
    // Each worker went through the seeded token and the 3 refreshed ones, and all end on the same.
    const finals = new Set<unknown>();
    for (const w of fleet) {
      const fps = linesOf(w, 'check').map((l) => l.fp);
      // The seeded token and the 3 refreshed ones (a 4th cycle begun while stopping may add one).
      expect(new Set(fps).size).toBeGreaterThanOrEqual(4);
      expect(new Set(fps).size).toBeLessThanOrEqual(cycles + 1);
      finals.add(fps.at(-1));
    }
    expect(finals.size).toBeLessThanOrEqual(cycles - 2);
    // Adoption came from notifications and lock waits, not polling: reads stay a few per cycle.
    for (const line of stopped) {
      for (const ops of line?.ops as Array<{ get: number }>) expect(ops.get).toBeLessThan(40);
    }
  }, 30_000);

  it('a lock holder killed with SIGKILL mid-request (the server stalls, never answers): another worker refreshes once the lock TTL is over, nothing is lost', async () => {
    const since = Date.now();
    const { prefix, workers: fleet } = await startFleet(4, { checkEveryMs: 250, userinfoUrl: `${server.issuer}/me` });
    await seed(prefix);
    const { survivors } = await killHolderMidRequest(fleet, server, () => grantsSince(since, 'refresh_token'));
    // Every check of every survivor held a valid token, and all end on the same.
    const checks = allLines(survivors, 'check');
    expect(checks.filter((l) => l.ok !== true)).toEqual([]);
    expect(new Set(survivors.map((w) => linesOf(w, 'check').at(-1)?.fp)).size).toBe(1);
  }, 20_000);

  it('a holder killed after the server rotated (its response lost): the next refresh is a reuse, the server revokes the grant once, and the fleet goes to re-authentication together', async () => {
    const since = Date.now();
    const { prefix, workers: fleet } = await startFleet(3, { checkEveryMs: 250, userinfoUrl: `${server.issuer}/me` });
    await seed(prefix);
    for (const w of fleet) w.send({ cmd: 'go' });
    const [holder, ...survivors] = fleet as [Worker, ...Worker[]];
    // The holder refreshes early; the server answers (and rotates), the process dies before reading it.
    holder.send({ cmd: 'hold' });
    holder.send({ cmd: 'refresh' });
    await holder.next((l) => l.t === 'holding');
    holder.kill();
    expect(grantsSince(since, 'refresh_token').map((g) => g.ok)).toEqual([true]);

    // At their refresh moment the survivors still hold the spent refresh token: one of them sends it.
    await until(() => survivors.every((w) => eventsOf(w, 'reauth_required').length > 0), 're-authentication everywhere', 8_000);
    await Promise.all(survivors.map((w) => w.stop()));

    const refreshGrants = grantsSince(since, 'refresh_token');
    expect(refreshGrants.map((g) => [g.ok, g.error])).toEqual([[true, undefined], [false, 'invalid_grant']]);
    // One reuse, not one per worker: the rejection is recorded in storage and adopted by the others.
    expect(allLines(survivors, 'send')).toHaveLength(1);
    expect(allLines(survivors, 'sent').map((l) => l.code)).toEqual(['invalid_grant']);
    for (const w of survivors) {
      expect(eventsOf(w, 'reauth_required').map((e) => e.reason)).toEqual(['invalid_grant']);
      // The dead holder's marker (TokenRecord.refreshing) held them back until their token expired,
      // so the reuse happens at expiry and leads straight to re-authentication.
    }
    // Reuse detection revoked the whole grant. This is the lost-response hazard (docs/fleet.md): the
    // marker only delays the reuse to the moment the survivors' token expired, so no survivor ever
    // served a token after the reuse (they needed a new login from then on).
    const reuseAt = refreshGrants[1]!.at;
    const servedAfter = allLines(survivors, 'check').filter((l) => l.at > reuseAt + 300 && l.status !== undefined);
    expect(servedAfter).toEqual([]);
  }, 20_000);
});

describe('fleet: change notifications', () => {
  let longLived: AuthServer;
  beforeAll(async () => {
    longLived = await startAuthServer({ ttl: { AccessToken: 60 } });
  });
  afterAll(async () => {
    await longLived?.stop();
  });

  it("a manager in process A learns of B's refresh without polling storage and without refreshing itself", async () => {
    const prefix = `${runPrefix}${++counter}:`;
    await seed(prefix, longLived);
    const endpoint = { tokenUrl: longLived.tokenUrl, ...CLIENTS.confidential, timeout: '800ms' };
    const config = { redisUrl: REDIS_URL, prefix, key: KEY, endpoint, manager: FLEET_MANAGER, checkEveryMs: 20 };
    const [a, b] = [spawnWorker('A', bundle, config), spawnWorker('B', bundle, config)];
    workers.push(a, b);
    await expectAdoptsAnotherProcessRefresh(a, b);
  }, 15_000);
});

describe('fleet: a client_credentials service account', () => {
  it('32 instances in 8 processes starting at once on an empty store: one token request per renewal across the fleet', async () => {
    const since = Date.now();
    const { workers: fleet } = await startFleet(8, {
      instances: 4,
      checkEveryMs: 250,
      endpoint: { tokenUrl: server.tokenUrl, ...CLIENTS.service, grant: 'client_credentials', timeout: '800ms' },
    });
    const requests = (): Grant[] => grantsSince(since, 'client_credentials');
    await runUntilGranted(fleet, requests, 3, 'two renewals');

    const seen = requests();
    expect(seen.map((g) => g.ok)).toEqual([true, true, true]);
    // One request per renewal: 2 s apart where they are sent (the renewal window of a 4 s token).
    const sends = allLines(fleet, 'send').map((l) => l.at).sort((x, y) => x - y);
    expect(sends).toHaveLength(3);
    for (let n = 1; n < sends.length; n++) expect(sends[n]! - sends[n - 1]!).toBeGreaterThan(1_800);
    const checks = allLines(fleet, 'check');
    for (const w of fleet) for (let i = 0; i < 4; i++) expect(linesOf(w, 'check').filter((l) => l.i === i).length).toBeGreaterThan(5);
    expect(checks.filter((l) => l.ok !== true)).toEqual([]);
    expect(new Set(fleet.flatMap((w) => linesOf(w, 'check').map((l) => l.fp))).size).toBe(3);
  }, 25_000);
});
