/**
 * The offline half of `token get` (R2): from the stored record and the clock alone, decide what the
 * manager would do on `getToken` in a fresh process with `backgroundRefresh: false`, without loading
 * it (no XState, no ky, no endpoint client). It mirrors the machine's `evaluating` state in
 * machines/lifecycle/machine.ts guard by guard, with the same pure policy functions, so the refresh moment,
 * the inclusive expiry, a stored rejection and a pending `retryAt` are honoured exactly as the
 * manager would (R1, R5, R6, R14). Only the one case in which the manager would send a request,
 * a refresh that is due, is handed over to it ('online').
 */
import { NotFoundError, ReauthRequiredError, RefreshFailedError, type TokenLifecycleError } from '../../machines/lifecycle/errors.js';
import { isExpired, needsRefresh } from '../../machines/lifecycle/refresh-policy.js';
import type { TokenRecord } from '../../machines/lifecycle/types.js';

export interface OfflineWarning {
  readonly code: string;
  readonly message: string;
}

export type OfflineVerdict =
  /** The manager would hand this record's token out with no request (`valid`, or degraded but valid). */
  | { readonly kind: 'serve'; readonly record: TokenRecord; readonly warning?: OfflineWarning }
  /** The manager would reject with no request: `reauth_required`, `not_found`, or retry later. */
  | { readonly kind: 'fail'; readonly error: TokenLifecycleError }
  /** A refresh is due: only the manager may decide it (lock, adoption, rotation). */
  | { readonly kind: 'online' };

/** The range a JS `Date` holds (ECMA-262 §21.4.1.22). */
const DATE_LIMIT_MS = 8.64e15;

/**
 * Renders an epoch-ms instant as RFC 3339 UTC. An instant past the `Date` range (a record written
 * by another tool) is shown at the range's edge rather than throwing `RangeError`.
 */
export function rfc3339(ms: number): string {
  if (Number.isNaN(ms)) return 'unknown';
  return new Date(Math.max(-DATE_LIMIT_MS, Math.min(DATE_LIMIT_MS, ms))).toISOString();
}

export function decideOffline(record: TokenRecord | undefined, key: string, now: number, thresholdMs: number): OfflineVerdict {
  if (!record) return { kind: 'fail', error: new NotFoundError(key) };
  const hasAccessToken = record.accessToken.length > 0;
  const usable = hasAccessToken && !isExpired(record, now);
  const hasRefreshToken = typeof record.refreshToken === 'string' && record.refreshToken.length > 0;
  const until = record.expiresAt === undefined ? '' : ` until ${rfc3339(record.expiresAt)}`;

  // isRejectedAndUnusable / isRejected: a rejected refresh token is never re-sent (R6, R14).
  if (record.rejection !== undefined) {
    if (!usable) return { kind: 'fail', error: new ReauthRequiredError(record.rejection, { key }) };
    return {
      kind: 'serve',
      record,
      warning: { code: record.rejection, message: `the server rejected the refresh token; this token is served${until}, then a new login is needed` },
    };
  }
  // isUnusableWithoutRenewal (R8: the CLI's endpoint has no grant that renews without a refresh token).
  if (!hasRefreshToken && !usable) {
    return { kind: 'fail', error: new ReauthRequiredError('refresh_token_missing', { key }) };
  }
  // isRetryPendingAndUnusable / isRetryPending: backoff or Retry-After from an earlier failure (R5).
  const retryPending = record.retryAt !== undefined && now < record.retryAt;
  if (retryPending) {
    const retryAt = record.retryAt as number;
    if (!usable) {
      return {
        kind: 'fail',
        error: new RefreshFailedError('No valid token: the last refresh failed and is being retried', { key, retryAfter: retryAt - now }),
      };
    }
    return {
      kind: 'serve',
      record,
      warning: { code: 'refresh_failed', message: `the last refresh failed; this token is served${until}; next attempt from ${rfc3339(retryAt)}` },
    };
  }
  const due = needsRefresh({ expiresAt: record.expiresAt, obtainedAt: record.obtainedAt, hasAccessToken }, now, thresholdMs);
  if (!due) return { kind: 'serve', record };
  // In the window but nothing to refresh with: the manager serves it while it lasts (nearExpiry).
  if (!hasRefreshToken) {
    return {
      kind: 'serve',
      record,
      warning: { code: 'refresh_token_missing', message: `no refresh token: this token is served${until}, then a new login is needed` },
    };
  }
  return { kind: 'online' };
}

