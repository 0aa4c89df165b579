/**
 * Worker processes for fleet tests (test/fixtures/fleet-worker.mjs), over Redis
 * (fleet-processes.test.ts) or PostgreSQL (fleet-postgres.test.ts): spawn them, read their JSON
 * lines (token fingerprints, never token values), wait for lines, record the grants an
 * oidc-provider handled, seed the shared credential with a real login, and the change-feed scenario
 * both stores must pass. Node 20 runs no TypeScript, so `buildFleetBundle` bundles the current
 * source with esbuild for the workers to import.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { expect } from 'vitest';
import { oauth2Endpoint } from '../../adapters/oauth2/index.js';
import type { TokenStorage } from '../../machines/lifecycle/types.js';
import { createTokenManager } from '../../machines/manager/manager.js';
import { CLIENTS, obtainTokensViaAuthCode, type AuthServer } from './oidc-server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/fleet-worker.mjs', import.meta.url));

/** Manager options of every worker: refresh 2 s before expiry, a lock TTL far below a cycle. */
export const FLEET_MANAGER = {
  refreshThreshold: '2s',
  lockTtl: '1s',
  minRefreshInterval: '200ms',
  retry: { minDelay: '200ms', maxDelay: '1s' },
};

export type Line = { readonly t: string; readonly i?: number; readonly at: number } & Record<string, unknown>;
export type ManagerEvent = { type: string; key: string; at?: number; code?: string; retryable?: boolean; state?: string; detail?: string; reason?: string };
export interface Grant {
  at: number;
  grant: string;
  ok: boolean;
  error?: string;
}

export interface Worker {
  readonly name: string;
  readonly lines: Line[];
  next(predicate: (line: Line) => boolean, timeoutMs?: number): Promise<Line>;
  send(command: Record<string, unknown>): void;
  kill(): void;
  /** Sends `stop` and resolves with the worker's last line once it has exited. */
  stop(): Promise<Line | undefined>;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** Bundles `exports` (lines like `export { x } from './path.js'`, relative to the repository) into `dir`. */
export async function buildFleetBundle(dir: string, exports: string[]): Promise<string> {
  const outfile = join(dir, 'fleet.mjs');
  await build({
    stdin: { contents: exports.join('\n'), resolveDir: ROOT, sourcefile: 'fleet-entry.ts', loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'silent',
    // pg's optional native binding is never used.
    external: ['pg-native'],
    // ioredis and pg are CommonJS and require Node built-ins: give the ESM bundle a real `require`.
    banner: { js: "import { createRequire as __tlCreateRequire } from 'node:module'; const require = __tlCreateRequire(import.meta.url);" },
  });
  return outfile;
}

function grantTypeOf(ctx: unknown): string {
  const params = (ctx as { oidc?: { params?: { grant_type?: unknown } } }).oidc?.params;
  return typeof params?.grant_type === 'string' ? params.grant_type : 'unknown';
}

/** Every grant the server handles from now on, in order: type and outcome. */
export function recordGrants(server: AuthServer): Grant[] {
  const grants: Grant[] = [];
  server.provider.on('grant.success', (ctx) => grants.push({ at: Date.now(), grant: grantTypeOf(ctx), ok: true }));
  server.provider.on('grant.error', (ctx, error) =>
    grants.push({ at: Date.now(), grant: grantTypeOf(ctx), ok: false, error: (error as { error?: string }).error ?? 'unknown' }),
  );
  return grants;
}

export function spawnWorker(name: string, bundle: string, config: Record<string, unknown>): Worker {
  const proc = spawn(process.execPath, [FIXTURE, bundle, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: Line[] = [];
  const waiters: Array<{ predicate: (line: Line) => boolean; resolve: (line: Line) => void }> = [];
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  proc.stdin.on('error', () => {}); // writing to a killed worker
  createInterface({ input: proc.stdout }).on('line', (text) => {
    const line = JSON.parse(text) as Line;
    lines.push(line);
    for (const waiter of waiters.filter((w) => w.predicate(line))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  const next = (predicate: (line: Line) => boolean, timeoutMs = 10_000): Promise<Line> =>
    new Promise((resolve, reject) => {
      const found = lines.find(predicate);
      if (found) return resolve(found);
      const timer = setTimeout(() => reject(new Error(`${name}: no matching line within ${timeoutMs} ms`)), timeoutMs);
      waiters.push({ predicate, resolve: (line) => (clearTimeout(timer), resolve(line)) });
      void exit.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (${code ?? signal}) first: ${stderr}`));
      });
    });
  const worker: Worker = {
    name,
    lines,
    next,
    exit,
    send: (command) => {
      if (proc.exitCode === null && proc.signalCode === null) proc.stdin.write(`${JSON.stringify(command)}\n`);
    },
    kill: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
    async stop() {
      worker.send({ cmd: 'stop' });
      const { code, stderr: err } = await exit;
      expect({ code, stderr: err }).toEqual({ code: 0, stderr: '' });
      return lines.find((l) => l.t === 'stopped');
    },
  };
  return worker;
}

/** Spawns `count` workers (`w0`, `w1`, …) with one config; resolves when all are ready (none fatal). */
export async function startWorkers(count: number, bundle: string, config: Record<string, unknown>): Promise<Worker[]> {
  const fleet = Array.from({ length: count }, (_, n) => spawnWorker(`w${n}`, bundle, config));
  await Promise.all(fleet.map((w) => w.next((l) => l.t === 'ready' || l.t === 'fatal')));
  for (const w of fleet) expect(w.lines.find((l) => l.t === 'fatal')).toBeUndefined();
  return fleet;
}

/**
 * A real login (authorization_code + PKCE) at `server`, stored as the shared credential `key` in
 * `storage` by a short-lived manager; closes `storage`.
 */
export async function seedLogin(
  server: Pick<AuthServer, 'issuer' | 'tokenUrl'>,
  storage: TokenStorage & { close(): Promise<void> },
  key: string,
): Promise<void> {
  const tokens = await obtainTokensViaAuthCode({ issuer: server.issuer, ...CLIENTS.confidential });
  const m = createTokenManager({ endpoint: oauth2Endpoint({ tokenUrl: server.tokenUrl, ...CLIENTS.confidential }), storage, backgroundRefresh: false });
  await m.setToken(key, tokens);
  await m.stop();
  await storage.close();
}

export const linesOf = (w: Worker, t: string): Line[] => w.lines.filter((l) => l.t === t);
export const eventsOf = (w: Worker, type: string): ManagerEvent[] =>
  linesOf(w, 'event').map((l) => l.e as ManagerEvent).filter((e) => e.type === type);
export const allLines = (fleet: Worker[], t: string): Line[] => fleet.flatMap((w) => linesOf(w, t));

export async function until(condition: () => boolean, label: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Two ready workers A and B over one seeded credential (checking every few ms): B refreshes; A must
 * learn of the new token through the store's change feed within a second, without sending a token
 * request, entering `refreshing` or taking a lock, reading storage only to load the credential and
 * once per notification. Stops both.
 */
export async function expectAdoptsAnotherProcessRefresh(a: Worker, b: Worker): Promise<void> {
  await Promise.all([a, b].map((w) => w.next((l) => l.t === 'ready')));
  a.send({ cmd: 'go' });
  const before = (await a.next((l) => l.t === 'check' && l.ok === true)).fp;

  b.send({ cmd: 'refresh' });
  const sent = await b.next((l) => l.t === 'sent');
  expect(sent.ok).toBe(true);
  await b.next((l) => l.t === 'refreshed-by-command');
  b.send({ cmd: 'check' });
  const newer = (await b.next((l) => l.t === 'check')).fp;
  expect(newer).not.toBe(before);
  const learned = await a.next((l) => l.t === 'check' && l.fp === newer, 3_000);
  const [stoppedA] = await Promise.all([a.stop(), b.stop()]);

  expect(learned.at - sent.at).toBeLessThan(1_000);
  expect(linesOf(a, 'send')).toEqual([]);
  expect(eventsOf(a, 'state').map((e) => e.state)).not.toContain('refreshing');
  const ops = (stoppedA?.ops as Array<{ get: number; lock: number; notified: number }>)[0]!;
  expect(ops.lock).toBe(0);
  expect(ops.notified).toBeGreaterThanOrEqual(1);
  expect(ops.get).toBe(1 + ops.notified);
  expect(linesOf(a, 'check').every((l) => l.ok === true)).toBe(true);
}

/**
 * Lets a ready fleet run (`go`) until the server has handled `count` grants (`granted()`), then
 * until every worker has checked once more after the last one (and so saw its token); stops them
 * all and resolves to their last lines.
 */
export async function runUntilGranted(fleet: Worker[], granted: () => Grant[], count: number, label: string): Promise<Array<Line | undefined>> {
  for (const w of fleet) w.send({ cmd: 'go' });
  await until(() => granted().length >= count, label, 12_000);
  const lastAt = granted()[count - 1]!.at;
  await until(() => fleet.every((w) => linesOf(w, 'check').some((l) => l.at > lastAt + 50)), `a check after grant #${count}`, 3_000);
  return Promise.all(fleet.map((w) => w.stop()));
}

/**
 * The lock holder killed with SIGKILL mid-request, on a seeded, ready fleet: the first token request
 * stalls 4 s at the server (then fails, without reaching the provider's logic); the worker that sent
 * it is killed once the request is at the server. A survivor must take over once the 1 s lock TTL
 * is over (0.7 to 2.5 s after the holder sent), the next cycle must refresh with the rotated token
 * (both grants accepted, 2 requests from the survivors, no refresh_failed but `refresh_in_progress`
 * while the dead holder's marker stands). Stops the survivors; resolves to them and the time of the
 * last refresh, for the checks each store's test asserts.
 */
export async function killHolderMidRequest(
  fleet: Worker[],
  server: AuthServer,
  refreshes: () => Grant[],
): Promise<{ survivors: Worker[]; lastAt: number }> {
  server.injectFault('/token', { delayMs: 4_000, status: 503, body: { error: 'temporarily_unavailable' } });
  for (const w of fleet) w.send({ cmd: 'go' });

  const arrived = server.counts.tokenByGrant.refresh_token ?? 0;
  const holder = await Promise.race(fleet.map((w) => w.next((l) => l.t === 'send').then(() => w)));
  const holderSentAt = (await holder.next((l) => l.t === 'send')).at;
  // Killed once its request is at the server (stalled there), i.e. truly mid-request.
  await until(() => (server.counts.tokenByGrant.refresh_token ?? 0) > arrived, 'the stalled request at the server', 3_000);
  holder.kill();
  expect((await holder.exit).signal).toBe('SIGKILL');
  const survivors = fleet.filter((w) => w !== holder);

  // A survivor takes the lock once its 1 s TTL is over (nobody extends it any more) and refreshes.
  await until(() => refreshes().length >= 1, 'the successor refresh', 6_000);
  const successorAt = refreshes()[0]!.at;
  const successorSends = allLines(survivors, 'send');
  expect(successorSends).toHaveLength(1);
  const gap = successorSends[0]!.at - holderSentAt;
  expect(gap).toBeGreaterThan(700);
  expect(gap).toBeLessThan(2_500);
  // The credential keeps working: the next cycle refreshes with the rotated token, no invalid_grant.
  await until(() => refreshes().length >= 2, 'the next cycle', 6_000);
  const lastAt = refreshes()[1]!.at;
  await until(() => survivors.every((w) => linesOf(w, 'check').some((l) => l.at > lastAt + 50)), 'a check after the last refresh', 3_000);
  await Promise.all(survivors.map((w) => w.stop()));

  expect(refreshes().map((g) => g.ok)).toEqual([true, true]);
  expect(allLines(survivors, 'send')).toHaveLength(2);
  // Survivors hold back while the dead holder's marker stands and their token is valid
  // (TokenRecord.refreshing: it might have rotated the token), then refresh at expiry. Under load the
  // holder dies late (the kill follows its request to the server), so its lease can outlast a
  // survivor's lock wait (twice the 1 s TTL): that survivor gives up, retryable (`refresh_failed`,
  // "Another process holds the refresh lock"), before the successor's refresh. Nothing else.
  const lockWaitGaveUp = (e: ManagerEvent): boolean => e.code === 'refresh_failed' && e.retryable === true && (e.at ?? Infinity) <= successorAt;
  expect(survivors.flatMap((w) => eventsOf(w, 'refresh_failed')).filter((e) => e.code !== 'refresh_in_progress' && !lockWaitGaveUp(e))).toEqual([]);
  return { survivors, lastAt };
}
