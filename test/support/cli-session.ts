/**
 * A CLI child process that a test talks to while it runs (cli-runner.ts waits for the exit): for
 * `token login`, whose instructions appear on stderr while the process waits for the user.
 */
import { spawn } from 'node:child_process';
import type { CliResult } from './cli-runner.js';

export interface CliSession {
  /** Resolves to the first match of `pattern` in stderr so far or to come. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** The exit. */
  readonly done: Promise<CliResult>;
}

export function startCli(bin: string, args: readonly string[], env: Record<string, string | undefined>, timeoutMs = 30_000): CliSession {
  const child = spawn(process.execPath, [bin, ...args], { env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    for (const check of waiters) check();
  });
  child.stdin.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      for (const check of waiters) check();
      resolve({ code, stdout, stderr });
    });
  });
  return {
    done,
    waitForStderr(pattern, waitMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = pattern.exec(stderr);
          if (match) {
            waiters.delete(check);
            clearTimeout(giveUp);
            resolve(match);
          } else if (child.exitCode !== null) {
            waiters.delete(check);
            clearTimeout(giveUp);
            reject(new Error(`the CLI exited (${child.exitCode}) before printing ${pattern}; stderr: ${stderr}`));
          }
        };
        const giveUp = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${pattern} on stderr within ${waitMs} ms; stderr: ${stderr}`));
        }, waitMs);
        waiters.add(check);
        check();
      });
    },
  };
}
