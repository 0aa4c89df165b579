/**
 * The pending redirect login between `redirectLogin` and `completeRedirectLogin` (PKCE verifier,
 * state, redirect URI), and the states of logins completed in this tab. Kept in a Web Storage
 * (sessionStorage by default): a page's synchronous reads and writes of it cannot interleave with
 * another completion in the same tab.
 */
import { InvalidConfigError } from '../../machines/lifecycle/errors.js';

/** What a redirect login keeps its pending state in: `sessionStorage`, or anything alike. */
export interface RedirectLoginStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface PendingLogin {
  readonly state: string;
  readonly verifier: string;
  readonly redirectUri: string;
  readonly clientId: string;
  readonly createdAt: number;
}

/** Completed states remembered per store key: enough for reloads and double mounts, bounded. */
const COMPLETED_KEPT = 8;

export function resolveStore(store: RedirectLoginStore | undefined): RedirectLoginStore {
  if (store !== undefined) {
    if (typeof store?.getItem !== 'function' || typeof store.setItem !== 'function' || typeof store.removeItem !== 'function') {
      throw new InvalidConfigError('store must have getItem, setItem and removeItem');
    }
    return store;
  }
  const session = (globalThis as { sessionStorage?: RedirectLoginStore }).sessionStorage;
  if (!session) throw new InvalidConfigError('a redirect login needs sessionStorage, or a store option');
  return session;
}

export function writePending(store: RedirectLoginStore, key: string, pending: PendingLogin): void {
  store.setItem(key, JSON.stringify(pending));
}

/** The pending login, or undefined when there is none (or the entry is not one of ours). */
export function readPending(store: RedirectLoginStore, key: string): PendingLogin | undefined {
  const value = parse(store.getItem(key));
  if (typeof value !== 'object' || value === null) return undefined;
  const { state, verifier, redirectUri, clientId, createdAt } = value as Record<string, unknown>;
  if (typeof state !== 'string' || typeof verifier !== 'string' || typeof redirectUri !== 'string' || typeof clientId !== 'string') return undefined;
  return { state, verifier, redirectUri, clientId, createdAt: typeof createdAt === 'number' ? createdAt : 0 };
}

export function completedBefore(store: RedirectLoginStore, key: string, state: string): boolean {
  return completed(store, key).includes(state);
}

/** Spends the pending login: it is removed and its state remembered as completed. */
export function markCompleted(store: RedirectLoginStore, key: string, state: string): void {
  store.removeItem(key);
  const states = [...completed(store, key).filter((s) => s !== state), state].slice(-COMPLETED_KEPT);
  store.setItem(`${key}:completed`, JSON.stringify(states));
}

function completed(store: RedirectLoginStore, key: string): string[] {
  const value = parse(store.getItem(`${key}:completed`));
  return Array.isArray(value) ? value.filter((s): s is string => typeof s === 'string') : [];
}

function parse(text: string | null): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
