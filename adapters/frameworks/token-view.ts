/**
 * What the framework bindings show of a credential (DESIGN §9 `useTokenState`): the state and the
 * moments that matter, never a token value and nothing that changes with the clock alone (no
 * `timeUntil*`), so a view changes only when the credential does. Read from `status()`, which loads
 * nothing and starts nothing (server rendering stays inert), and pushed by the manager's events.
 */
import type { TokenManager, TokenState, TokenStateDetail, TokenStatus } from '../../machines/manager/api-types.js';

export interface TokenStateView {
  readonly state: TokenState;
  readonly detail?: TokenStateDetail;
  readonly expiresAt?: number;
  readonly refreshAt?: number;
  readonly retryAt?: number;
  readonly lastError?: { readonly code: string; readonly retryable: boolean };
}

/** The part of a manager the bindings use. */
export type ViewSource = Pick<TokenManager, 'status' | 'subscribe'>;

const IDLE: TokenStateView = Object.freeze({ state: 'idle' });

function viewOf(status: TokenStatus): TokenStateView {
  if (status.state === 'idle') return IDLE;
  return Object.freeze({
    state: status.state,
    ...(status.detail === undefined ? {} : { detail: status.detail }),
    ...(status.expiresAt === undefined ? {} : { expiresAt: status.expiresAt }),
    ...(status.refreshAt === undefined ? {} : { refreshAt: status.refreshAt }),
    ...(status.retryAt === undefined ? {} : { retryAt: status.retryAt }),
    ...(status.lastError === undefined ? {} : { lastError: status.lastError }),
  });
}

function sameView(a: TokenStateView, b: TokenStateView): boolean {
  return (
    a.state === b.state &&
    a.detail === b.detail &&
    a.expiresAt === b.expiresAt &&
    a.refreshAt === b.refreshAt &&
    a.retryAt === b.retryAt &&
    a.lastError?.code === b.lastError?.code &&
    a.lastError?.retryable === b.lastError?.retryable
  );
}

export interface TokenViewStore {
  /** The current view; the same object for as long as the view is unchanged (a stable snapshot). */
  getSnapshot(): TokenStateView;
  /** `onChange` runs after each event about this key; the returned function ends the subscription. */
  subscribe(onChange: () => void): () => void;
}

/** The idle view, for server rendering: no manager is read. */
export const idleView: TokenStateView = IDLE;

export function tokenViewStore(manager: ViewSource, key: string): TokenViewStore {
  let current: TokenStateView = IDLE;
  return {
    getSnapshot() {
      const next = viewOf(manager.status(key));
      if (!sameView(current, next)) current = next;
      return current;
    },
    subscribe(onChange) {
      return manager.subscribe((event) => {
        if (event.key === key) onChange();
      });
    },
  };
}
