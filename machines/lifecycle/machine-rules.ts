/**
 * Pure predicates and durations behind the machine's named guards and delays. Each takes the
 * context and a time, so the same rule serves guards (time from the event) and delays (time from the
 * injected clock).
 */
import { isExpired, needsRefresh, refreshAt, refreshJitterFor, type TokenTimes } from './refresh-policy.js';
import type { TokenMachineContext } from './machine-types.js';

export function refreshMoment(
  ctx: Pick<TokenMachineContext, 'key' | 'thresholdMs' | 'jitterFraction' | 'token'>,
  token: TokenTimes | undefined = ctx.token,
): number | undefined {
  if (!token) return undefined;
  const jitter = refreshJitterFor(ctx.key, token, ctx.thresholdMs, ctx.jitterFraction);
  return refreshAt(token, ctx.thresholdMs, jitter);
}

export function isUsable(ctx: TokenMachineContext, now: number): boolean {
  const token = ctx.token;
  return token !== undefined && token.hasAccessToken && !isExpired(token, now);
}

export function isTokenExpired(ctx: TokenMachineContext, now: number): boolean {
  return !isUsable(ctx, now);
}

export function isRefreshNeeded(ctx: TokenMachineContext, now: number): boolean {
  const token = ctx.token;
  if (!token) return false;
  const jitter = refreshJitterFor(ctx.key, token, ctx.thresholdMs, ctx.jitterFraction);
  return needsRefresh(token, now, ctx.thresholdMs, jitter);
}

/** R8: a refresh can be sent only with a refresh token, or with an endpoint that renews without one. */
export function canRefresh(ctx: TokenMachineContext): boolean {
  const token = ctx.token;
  if (!token || token.rejection !== undefined) return false;
  return token.hasRefreshToken || ctx.canRenewWithoutRefreshToken;
}

/** R1: the minimum interval between two refresh starts never delays the refresh of an expired token. */
export function isMinIntervalOver(ctx: TokenMachineContext, now: number): boolean {
  if (ctx.lastRefreshStartedAt === undefined || isTokenExpired(ctx, now)) return true;
  return now >= ctx.lastRefreshStartedAt + ctx.minIntervalMs;
}

export function isRetryPending(ctx: TokenMachineContext, now: number): boolean {
  const retryAt = ctx.token?.retryAt;
  return retryAt !== undefined && now < retryAt;
}

/** A refresh may start now without forcing: needed, possible, past the minimum interval and the backoff. */
export function isRefreshDue(ctx: TokenMachineContext, now: number): boolean {
  return canRefresh(ctx) && isRefreshNeeded(ctx, now) && isMinIntervalOver(ctx, now) && !isRetryPending(ctx, now);
}

/**
 * A failed refresh's retry is due: its `retryAt` has come, and refresh runs in the background. What
 * `degraded.retrying`'s retry timer does then, a caller's look at the credential does too, so a
 * retry is never lost to whichever comes first (R5): a token still far from expiry is retried, not
 * taken as settled.
 */
export function isRetryDue(ctx: TokenMachineContext, now: number): boolean {
  return ctx.backgroundRefresh && canRefresh(ctx) && ctx.token?.retryAt !== undefined && !isRetryPending(ctx, now);
}

const NEVER = Number.POSITIVE_INFINITY;

/** Until the refresh window opens (`valid` → `nearExpiry`). */
export function msUntilRefreshWindow(ctx: TokenMachineContext, now: number): number {
  const moment = refreshMoment(ctx);
  return moment === undefined ? NEVER : Math.max(0, moment - now);
}

/** Until a background refresh may start in `nearExpiry`: the minimum interval, cut short by expiry. */
export function msUntilRefreshAllowed(ctx: TokenMachineContext, now: number): number {
  if (ctx.lastRefreshStartedAt === undefined) return 0;
  const allowedAt = ctx.lastRefreshStartedAt + ctx.minIntervalMs;
  const expiresAt = ctx.token?.expiresAt ?? NEVER;
  return Math.max(0, Math.min(allowedAt, expiresAt) - now);
}

export function msUntilExpiry(ctx: TokenMachineContext, now: number): number {
  const expiresAt = ctx.token?.expiresAt;
  return expiresAt === undefined ? NEVER : Math.max(0, expiresAt - now);
}

export function msUntilRetry(ctx: TokenMachineContext, now: number): number {
  const retryAt = ctx.token?.retryAt;
  return retryAt === undefined ? 0 : Math.max(0, retryAt - now);
}
