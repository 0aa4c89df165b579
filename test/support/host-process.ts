/**
 * A host process for a manager: runs a small ES module script in a fresh `node`, as a user's program
 * would, and reports what the host saw: exit code, stdout, stderr (warnings, unhandled rejections)
 * and how long it ran. What is observed is the process itself (issue 21: exit 13 from a dropped
 * top-level await, a hang, a crash), so it cannot be seen in the test's own process.
 *
 * Node 20 runs no TypeScript: `bundleCore()` bundles the current source of the `token-lifecycle`
 * entry with esbuild (~0.2 s) into a private directory, so nothing depends on a fresh dist/. A script
 * imports it as `./token-lifecycle.mjs`, and the oauth2 adapter as `./oauth2.mjs`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ENTRY = fileURLToPath(new URL('../../index.ts', import.meta.url));
const OAUTH2 = fileURLToPath(new URL('../../adapters/oauth2/index.ts', import.meta.url));

export interface HostResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall-clock milliseconds from spawn to exit. */
  readonly ms: number;
  /** Killed by the harness after `timeoutMs`: the host hung. */
  readonly hung: boolean;
}

export interface HostHarness {
  /** Runs `script` (an ES module; top-level await is fine) and resolves when the process exits or is killed. */
  run(script: string, options?: { timeoutMs?: number }): Promise<HostResult>;
  cleanup(): Promise<void>;
}

export async function bundleCore(): Promise<HostHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'tl-host-'));
  await build({
    entryPoints: { 'token-lifecycle': ENTRY, oauth2: OAUTH2 },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    logLevel: 'silent',
  });
  let n = 0;
  return {
    async run(script, { timeoutMs = 10_000 } = {}) {
      const file = join(dir, `host-${++n}.mjs`);
      await writeFile(file, script);
      const started = performance.now();
      return new Promise<HostResult>((resolve, reject) => {
        const child = spawn(process.execPath, [file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        let hung = false;
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
        const timer = setTimeout(() => {
          hung = true;
          child.kill('SIGKILL');
        }, timeoutMs);
        child.on('error', reject);
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          resolve({ code, signal, stdout, stderr, ms: performance.now() - started, hung });
        });
      });
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The lines a script printed, in order. */
export function lines(output: string): string[] {
  return output.split('\n').filter((line) => line.length > 0);
}
