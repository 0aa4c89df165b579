import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_RETRY, normalizeRetry, seededRandom, type BackoffPolicy } from '../../../machines/lifecycle/backoff.js';
import { InvalidConfigError } from '../../../machines/lifecycle/errors.js';
import type { RetryOptions } from '../../../machines/lifecycle/types.js';

const noJitter: BackoffPolicy = { minDelayMs: 1_000, maxDelayMs: 60_000, factor: 2, jitter: 0 };

describe('backoffDelay (R5)', () => {
  it('grows exponentially from minDelay', () => {
    expect([0, 1, 2, 3, 4].map((n) => backoffDelay(n, noJitter, 0))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000]);
  });

  it('honours another factor', () => {
    const policy = { ...noJitter, factor: 3 };
    expect([0, 1, 2].map((n) => backoffDelay(n, policy, 0))).toEqual([1_000, 3_000, 9_000]);
  });

  it('caps at maxDelay, also for huge attempt numbers', () => {
    expect(backoffDelay(6, noJitter, 0)).toBe(60_000);
    expect(backoffDelay(50, noJitter, 0)).toBe(60_000);
    expect(backoffDelay(5_000, noJitter, 0)).toBe(60_000); // factor ** attempt overflows to Infinity
  });

  it('never yields NaN: minDelay 0 with a huge attempt, a NaN attempt or a NaN random', () => {
    const zero = { ...noJitter, minDelayMs: 0 };
    expect(backoffDelay(5_000, zero, 0)).toBe(0); // 0 * Infinity would be NaN
    expect(backoffDelay(5_000, zero, 0, { minIntervalMs: 2_000 })).toBe(2_000);
    expect(backoffDelay(Number.NaN, noJitter, 0)).toBe(1_000);
    expect(backoffDelay(2, { ...noJitter, jitter: 0.5 }, Number.NaN)).toBe(4_000);
  });

  it('treats a negative attempt as the first', () => {
    expect(backoffDelay(-3, noJitter, 0)).toBe(1_000);
  });

  it('takes off at most `jitter` of the delay, random in [0, 1)', () => {
    const policy = { ...noJitter, jitter: 0.25 };
    expect(backoffDelay(2, policy, 0)).toBe(4_000);
    expect(backoffDelay(2, policy, 0.5)).toBe(3_500);
    const nearOne = backoffDelay(2, policy, 0.999_999);
    expect(nearOne).toBeGreaterThan(3_000);
    expect(nearOne).toBeLessThan(3_001);
    for (let seed = 0; seed < 200; seed++) {
      const d = backoffDelay(3, policy, seededRandom(seed, 3));
      expect(d).toBeGreaterThan(8_000 * 0.75);
      expect(d).toBeLessThanOrEqual(8_000);
    }
    // Out-of-range randoms are clamped rather than growing or inverting the delay.
    expect(backoffDelay(2, policy, -5)).toBe(4_000);
    expect(backoffDelay(2, policy, 7)).toBe(3_000);
  });

  it('applies the jitter to the capped delay too', () => {
    const d = backoffDelay(99, { ...noJitter, jitter: 0.5 }, 0.5);
    expect(d).toBe(45_000);
  });

  it('uses Retry-After as a floor, up to its ceiling (maxRetryAfterMs, by default maxDelay)', () => {
    expect(backoffDelay(0, noJitter, 0, { retryAfterMs: 30_000 })).toBe(30_000);
    expect(backoffDelay(0, noJitter, 0, { retryAfterMs: 600_000 })).toBe(noJitter.maxDelayMs);
    expect(backoffDelay(0, { ...noJitter, maxRetryAfterMs: 3_600_000 }, 0, { retryAfterMs: 600_000 })).toBe(600_000);
    expect(backoffDelay(0, { ...noJitter, maxRetryAfterMs: 3_600_000 }, 0, { retryAfterMs: 1e12 })).toBe(3_600_000);
    // A Retry-After shorter than the backoff does not shorten it.
    expect(backoffDelay(4, noJitter, 0, { retryAfterMs: 1_000 })).toBe(16_000);
  });

  it('uses the minimum interval as a floor', () => {
    expect(backoffDelay(0, { ...noJitter, minDelayMs: 100, maxDelayMs: 100 }, 0, { minIntervalMs: 5_000 })).toBe(5_000);
    expect(backoffDelay(5, noJitter, 0, { minIntervalMs: 5_000 })).toBe(32_000);
    expect(backoffDelay(0, noJitter, 0, { minIntervalMs: 5_000, retryAfterMs: 9_000 })).toBe(9_000);
    expect(backoffDelay(0, noJitter, 0, { minIntervalMs: undefined, retryAfterMs: undefined })).toBe(1_000);
  });
});

describe('normalizeRetry', () => {
  it('fills the defaults', () => {
    expect(normalizeRetry()).toEqual(DEFAULT_RETRY);
    expect(normalizeRetry({})).toEqual(DEFAULT_RETRY);
  });

  it('parses durations and keeps the given numbers', () => {
    expect(normalizeRetry({ minDelay: '500ms', maxDelay: '2m', factor: 1.5, jitter: 0 })).toEqual({
      minDelayMs: 500,
      maxDelayMs: 120_000,
      factor: 1.5,
      jitter: 0,
    });
    expect(normalizeRetry({ minDelay: 0, maxDelay: 0, factor: 1, jitter: 1 })).toEqual({
      minDelayMs: 0,
      maxDelayMs: 0,
      factor: 1,
      jitter: 1,
    });
  });

  it.each<[string, RetryOptions]>([
    ['negative minDelay', { minDelay: -1 }],
    ['unparsable minDelay', { minDelay: 'soon' }],
    ['NaN maxDelay', { maxDelay: Number.NaN }],
    ['Infinity maxDelay', { maxDelay: Number.POSITIVE_INFINITY }],
    ['maxDelay below minDelay', { minDelay: '10s', maxDelay: '1s' }],
    ['maxDelay below the default minDelay', { maxDelay: 500 }],
    ['factor below 1', { factor: 0.5 }],
    ['NaN factor', { factor: Number.NaN }],
    ['Infinity factor', { factor: Number.POSITIVE_INFINITY }],
    ['string factor', { factor: '2' as unknown as number }],
    ['negative jitter', { jitter: -0.1 }],
    ['jitter above 1', { jitter: 1.5 }],
    ['NaN jitter', { jitter: Number.NaN }],
  ])('rejects %s with invalid_config', (_, options) => {
    expect(() => normalizeRetry(options)).toThrow(InvalidConfigError);
    try {
      normalizeRetry(options);
    } catch (error) {
      expect((error as InvalidConfigError).code).toBe('invalid_config');
    }
  });
});

describe('seededRandom', () => {
  it('is deterministic for a seed and an attempt', () => {
    for (let seed = 0; seed < 50; seed++) {
      for (let attempt = 0; attempt < 5; attempt++) expect(seededRandom(seed, attempt)).toBe(seededRandom(seed, attempt));
    }
  });

  it('stays in [0, 1) and varies with seed and attempt', () => {
    const values: number[] = [];
    // Seeds are taken as 32-bit integers (ToInt32), so pick distinct ones.
    for (const seed of [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 123_456_789, 0x5bd1e995]) {
      for (let attempt = 0; attempt < 100; attempt++) values.push(seededRandom(seed, attempt));
    }
    for (const v of values) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1);
    }
    expect(new Set(values).size).toBeGreaterThan(values.length * 0.95);
    expect(seededRandom(1, 0)).not.toBe(seededRandom(2, 0));
    expect(seededRandom(1, 0)).not.toBe(seededRandom(1, 1));
  });

  it('spreads roughly uniformly', () => {
    const buckets = new Array<number>(10).fill(0);
    for (let seed = 0; seed < 2_000; seed++) buckets[Math.floor(seededRandom(seed, 0) * 10)]! += 1;
    for (const count of buckets) {
      expect(count).toBeGreaterThan(120);
      expect(count).toBeLessThan(280);
    }
  });
});
