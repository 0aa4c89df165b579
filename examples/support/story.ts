/**
 * Terminal output for the demo: elapsed-time stamps, token fingerprints instead of token values
 * (R13), and a wait for a manager event with a deadline.
 */
import { createHash } from 'node:crypto';
import type { TokenEvent, TokenManager, TokenStatus } from '../../index.js';

/** A short, non-reversible name for a token: the first 6 hex digits of its SHA-256. */
export function fingerprint(token: string | undefined): string {
  return token ? `#${createHash('sha256').update(token).digest('hex').slice(0, 6)}` : '(none)';
}

export function seconds(ms: number | undefined): string {
  return ms === undefined ? 'never' : `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}

export function createLog(startedAt: number = Date.now()): (line: string) => void {
  return (line) => {
    const elapsed = ((Date.now() - startedAt) / 1000).toFixed(1).padStart(5);
    process.stdout.write(`[${elapsed}s] ${line}\n`);
  };
}

export function stateName(state: { state: string; detail?: string }): string {
  return state.detail ? `${state.state} (${state.detail})` : state.state;
}

export function describeStatus(status: TokenStatus): string {
  const parts = [`status: ${stateName(status)}`];
  if (status.state === 'valid' || status.state === 'nearExpiry') parts.push(`refresh in ${seconds(status.timeUntilRefresh)}`);
  if (status.retryAt !== undefined) parts.push(`retry in ${seconds(status.retryAt - Date.now())}`);
  parts.push(`expires in ${seconds(status.timeUntilExpiry)}`);
  return parts.join(', ');
}

/** Resolves with the first event that matches, or rejects after `timeoutMs`. */
export function waitForEvent(
  manager: TokenManager,
  match: (event: TokenEvent) => boolean,
  what: string,
  timeoutMs: number,
): Promise<TokenEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`gave up waiting for ${what} after ${seconds(timeoutMs)}`));
    }, timeoutMs);
    const off = manager.subscribe((event) => {
      if (!match(event)) return;
      clearTimeout(timer);
      off();
      resolve(event);
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
