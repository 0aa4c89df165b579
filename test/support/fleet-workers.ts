/**
 * Worker processes for fleet tests (test/fixtures/fleet-worker.mjs): spawn them, read their JSON
 * lines (token fingerprints, never token values), wait for lines, and record the grants an
 * oidc-provider handled. Node 20 runs no TypeScript, so `buildFleetBundle` bundles the current
 * source with esbuild for the workers to import.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { expect } from 'vitest';
import type { AuthServer } from './oidc-server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/fleet-worker.mjs', import.meta.url));

export type Line = { readonly t: string; readonly i?: number; readonly at: number } & Record<string, unknown>;
export type ManagerEvent = { type: string; key: string; code?: string; state?: string; detail?: string; reason?: string };
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
