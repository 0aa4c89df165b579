import type { BackoffPolicy } from './backoff.js';

/**
 * What the machine knows of a credential's tokens: metadata only. Token values never enter the
 * machine (R13); they live in the manager's vault, keyed by credential and `version`.
 */
export interface TokenMeta {
  readonly hasAccessToken: boolean;
  readonly hasRefreshToken: boolean;
  readonly expiresAt?: number;
  readonly obtainedAt: number;
  readonly version: number;
  /** The server rejected the refresh token with this code (R6). */
  readonly rejection?: string;
  /** No retry before this moment (backoff, `Retry-After`). */
  readonly retryAt?: number;
}

export interface RefreshHistory {
  readonly lastRefreshStartedAt?: number | undefined;
  readonly lastRefreshAt?: number | undefined;
}

/** Per-credential settings the manager hands in. */
export interface TokenMachineInput {
  readonly key: string;
  readonly thresholdMs: number;
  /** Fleet jitter: fraction of the refresh window (0 = none). */
  readonly jitterFraction: number;
  readonly minIntervalMs: number;
  readonly backgroundRefresh: boolean;
  readonly canRenewWithoutRefreshToken: boolean;
  readonly retry: BackoffPolicy;
}

export interface TokenMachineContext extends TokenMachineInput {
  readonly token?: TokenMeta;
  /** Consecutive failed refreshes (drives backoff). */
  readonly attempt: number;
  readonly lastRefreshStartedAt?: number;
  readonly lastRefreshAt?: number;
  readonly lastError?: { readonly code: string; readonly retryable: boolean };
  /** Why re-authentication is (or will be) required. */
  readonly reason?: string;
}

/** Events carry `now` from the manager's injected clock so guards stay pure (DESIGN §3 "Time"). */
export type TokenMachineEvent =
  /** A token record was set, loaded from storage, or adopted from another process. */
  | {
      readonly type: 'LOADED';
      readonly now: number;
      readonly token: TokenMeta;
      /** Carried over when a dormant credential wakes, so the minimum interval still holds. */
      readonly history?: RefreshHistory;
    }
  /** Re-evaluate from the clock (wake-up, clock jump). */
  | { readonly type: 'CHECK'; readonly now: number }
  /** A caller needs a refresh; `force` ignores the minimum interval and the backoff. */
  | { readonly type: 'REFRESH'; readonly now: number; readonly force: boolean }
  /** Removed or stopped: forget the token. */
  | { readonly type: 'UNLOAD' };

/** What the refresh actor is given: a handle, not a token (R13). */
export interface RefreshInput {
  readonly key: string;
  readonly version: number;
  readonly attempt: number;
}

/** A successful refresh (or an adoption of a token another process refreshed). */
export interface RefreshOutput {
  readonly startedAt: number;
  readonly at: number;
  readonly token: TokenMeta;
}

/** What the refresh actor rejects with. */
export interface RefreshFailure {
  readonly startedAt: number;
  readonly at: number;
  readonly kind: 'transient' | 'permanent';
  readonly code: string;
  /** When the next attempt may start (transient failures). */
  readonly retryAt?: number;
  /** The token after the failure (e.g. a rotated refresh token salvaged from a bad response). */
  readonly token?: TokenMeta;
}
