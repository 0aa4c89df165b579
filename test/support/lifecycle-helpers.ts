/**
 * Small helpers for the manager's integration tests against a real oidc-provider. These tests may
 * wait real seconds (the server's clock is real), so the helpers wait on events and conditions with
 * a deadline instead of sleeping fixed amounts.
 */
import type { TokenEvent, TokenManager } from '../../machines/manager/api-types.js';

/** Every event the manager emits, in order, from now on. */
export function recordEvents(manager: TokenManager): { readonly events: TokenEvent[]; stop(): void } {
  const events: TokenEvent[] = [];
  const stop = manager.subscribe((event) => events.push(event));
  return { events, stop };
}

/** Resolves with the first event matching `match`, or rejects after `timeoutMs` naming `label`. */
export function nextEvent<T extends TokenEvent['type']>(
  manager: TokenManager,
  type: T,
  options: { key?: string; timeoutMs?: number; match?: (event: Extract<TokenEvent, { type: T }>) => boolean } = {},
): Promise<Extract<TokenEvent, { type: T }>> {
  const timeoutMs = options.timeoutMs ?? 8_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no '${type}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = manager.subscribe((event) => {
      if (event.type !== type || (options.key !== undefined && event.key !== options.key)) return;
      const typed = event as Extract<TokenEvent, { type: T }>;
      if (options.match && !options.match(typed)) return;
      clearTimeout(timer);
      off();
      resolve(typed);
    });
  });
}

/** Polls `condition` every 25 ms until it holds; rejects after `timeoutMs` with `label`. */
export async function waitUntil(condition: () => boolean, label: string, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Waits until the epoch-ms moment `at` (plus a small margin) has passed on the wall clock. */
export async function waitPast(at: number, marginMs = 20): Promise<void> {
  const ms = at - Date.now() + marginMs;
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Total of a counter map (e.g. requests per path). */
export function total(counts: Readonly<Record<string, number>>): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

/**
 * JSON of anything an observer may hold (inspection events, snapshots, errors), for R13 checks:
 * cycles and actor references are cut, errors keep their message, code and cause.
 */
export function observableText(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, function replacer(key, current: unknown) {
    if (key === 'actorRef' || key === 'sourceRef' || key === '_parent' || key === 'system') return undefined;
    if (current instanceof Error) {
      return { ...current, name: current.name, message: current.message, cause: current.cause };
    }
    if (typeof current === 'object' && current !== null) {
      if (seen.has(current)) return '[cycle]';
      seen.add(current);
    }
    return current;
  });
}
