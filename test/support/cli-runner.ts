/**
 * Runs the real `token-lifecycle` CLI as child processes for integration tests. `buildCli()` bundles
 * the current source with the package's own bundler (adapters/cli/bundle.mjs, the same file
 * `npm run build` produces as the bin), into a private directory: no dependence on a fresh dist/,
 * and no race with other test files building at the same time. The directory sits under
 * node_modules/.cache so the bundle's one external (ioredis) resolves as it does in the package.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileStorage } from '../../adapters/storage/file/index.js';
import type { TokenRecord } from '../../machines/lifecycle/types.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Environment on top of a minimal one (PATH, HOME): nothing else is inherited from the test process. */
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed. Without it stdin is an empty pipe. */
  stdin?: string;
  timeoutMs?: number;
  /** Another bin file to run (default: the one built). */
  bin?: string;
}

export interface CliHarness {
  readonly bin: string;
  /** A private directory (removed by `cleanup()`): HOME of every run, and a place for stores. */
  readonly dir: string;
  run(args: readonly string[], options?: RunOptions): Promise<CliResult>;
  /** Every stderr written so far, for an end-of-file check that no token ever reached it. */
  readonly stderrLog: string[];
  cleanup(): Promise<void>;
}

function runNode(args: readonly string[], options: { env: NodeJS.ProcessEnv; stdin?: string; timeoutMs: number }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args], { env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`CLI ${args.slice(1).join(' ')} did not exit within ${options.timeoutMs} ms; stderr: ${stderr}`));
    }, options.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined); // a CLI that exits without reading stdin
    child.stdin.end(options.stdin ?? '');
  });
}

export async function buildCli(): Promise<CliHarness> {
  const cache = join(ROOT, 'node_modules', '.cache', 'token-lifecycle-tests');
  await mkdir(cache, { recursive: true });
  const dir = await mkdtemp(join(cache, 'cli-'));
  const bin = join(dir, 'token-lifecycle.cjs');
  const built = await runNode([join(ROOT, 'adapters', 'cli', 'bundle.mjs'), '--outfile', bin], { env: process.env, timeoutMs: 60_000 });
  if (built.code !== 0) throw new Error(`bundling the CLI failed: ${built.stderr}`);
  const stderrLog: string[] = [];
  return {
    bin,
    dir,
    stderrLog,
    async run(args, options = {}) {
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir };
      for (const [name, value] of Object.entries(options.env ?? {})) if (value !== undefined) env[name] = value;
      const result = await runNode([options.bin ?? bin, ...args], {
        env,
        ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
        timeoutMs: options.timeoutMs ?? 30_000,
      });
      stderrLog.push(result.stderr);
      return result;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Writes a record straight into a file store, as an earlier CLI run would have left it. */
export async function storeRecord(path: string, record: Omit<TokenRecord, 'version'> & { version?: number }, key = 'default'): Promise<void> {
  const storage = fileStorage({ path });
  const existing = await storage.get(key);
  await storage.set(key, { ...record, version: record.version ?? (existing?.version ?? 0) + 1 } as TokenRecord);
  await storage.close();
}

export async function readRecord(path: string, key = 'default'): Promise<TokenRecord | undefined> {
  const storage = fileStorage({ path });
  try {
    return await storage.get(key);
  } finally {
    await storage.close();
  }
}

/** Total requests the server saw on every path (discovery included). */
export function totalRequests(counts: { readonly byPath: Readonly<Record<string, number>> }): number {
  return Object.values(counts.byPath).reduce((sum, n) => sum + n, 0);
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
