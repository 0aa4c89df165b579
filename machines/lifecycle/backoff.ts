import { parseDuration } from './duration.js';
import { InvalidConfigError } from './errors.js';
import type { RetryOptions } from './types.js';

/** Normalised backoff settings (R5), all in milliseconds. */
export interface BackoffPolicy {
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly factor: number;
  readonly jitter: number;
  /**
   * Ceiling on a server's `Retry-After` (docs/errors.md): a longer wait is cut to this, so no answer
   * can switch refresh off for good. Absent: `maxDelayMs`.
   */
  readonly maxRetryAfterMs?: number;
}

export const DEFAULT_RETRY: BackoffPolicy = { minDelayMs: 1_000, maxDelayMs: 5 * 60_000, factor: 2, jitter: 0.2 };

export function normalizeRetry(options: RetryOptions = {}): BackoffPolicy {
  const minDelayMs = options.minDelay === undefined ? DEFAULT_RETRY.minDelayMs : parseDuration(options.minDelay, 'retry.minDelay');
  const maxDelayMs = options.maxDelay === undefined ? DEFAULT_RETRY.maxDelayMs : parseDuration(options.maxDelay, 'retry.maxDelay');
  const factor = options.factor ?? DEFAULT_RETRY.factor;
  const jitter = options.jitter ?? DEFAULT_RETRY.jitter;
  if (maxDelayMs < minDelayMs) throw new InvalidConfigError('retry.maxDelay must be ≥ retry.minDelay');
  if (!Number.isFinite(factor) || factor < 1) throw new InvalidConfigError('retry.factor must be a finite number ≥ 1');
  if (!Number.isFinite(jitter) || jitter < 0 || jitter > 1) throw new InvalidConfigError('retry.jitter must be between 0 and 1');
  if (options.maxRetryAfter === undefined) return { minDelayMs, maxDelayMs, factor, jitter };
  const maxRetryAfterMs = parseDuration(options.maxRetryAfter, 'retry.maxRetryAfter');
  return { minDelayMs, maxDelayMs, factor, jitter, maxRetryAfterMs };
}

/**
 * Delay before retry number `attempt` (0 for the first retry): exponential, capped, with `random`
 * in [0, 1) taking off up to `jitter` of it. A server's `Retry-After` and the minimum interval
 * between refreshes are floors: the delay is never shorter than either. `Retry-After` is first cut
 * to its ceiling (`maxRetryAfterMs`, by default `maxDelayMs`); a value that is not a finite
 * number ≥ 0 counts as absent.
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: number,
  floors: { retryAfterMs?: number | undefined; minIntervalMs?: number | undefined } = {},
): number {
  // NaN guards: `factor ** attempt` overflows to Infinity on a long outage, and 0 * Infinity is NaN
  // (minDelay 0); a NaN delay would make the retry timer fire at once, in a loop.
  const grown = policy.minDelayMs * policy.factor ** (attempt > 0 ? attempt : 0);
  const exponential = Number.isNaN(grown) ? 0 : Math.min(policy.maxDelayMs, grown);
  const share = random > 0 ? Math.min(random, 1) : 0;
  const jittered = exponential * (1 - policy.jitter * share);
  return Math.max(jittered, retryAfterFloor(floors.retryAfterMs, policy), floors.minIntervalMs ?? 0);
}

/** The wait a server's `Retry-After` imposes: at most the ceiling; nothing for a value out of range. */
export function retryAfterFloor(retryAfterMs: number | undefined, policy: BackoffPolicy): number {
  if (retryAfterMs === undefined || !Number.isFinite(retryAfterMs) || retryAfterMs < 0) return 0;
  return Math.min(retryAfterMs, policy.maxRetryAfterMs ?? policy.maxDelayMs);
}

/** A stable pseudo-random number in [0, 1) from a seed and an attempt: keeps the machine pure. */
export function seededRandom(seed: number, attempt: number): number {
  let x = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(attempt + 1, 0xc2b2ae35)) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  return (x >>> 0) / 0x1_0000_0000;
}
