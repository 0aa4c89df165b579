import { describe, expect, it } from 'vitest';
import { isExpired, needsRefresh, refreshAt, refreshJitterFor } from '../../../machines/lifecycle/refresh-policy.js';
import { checkTokenResponse } from '../../../machines/lifecycle/token-response.js';

const S = 1_000;
const MIN = 60 * S;
const H = 60 * MIN;
const D = 24 * H;
const T0 = 1_700_000_000_000; // a fixed epoch ms
const FIVE_MIN = 5 * MIN;

const token = (lifetimeMs: number | undefined, obtainedAt = T0) => ({
  obtainedAt,
  ...(lifetimeMs === undefined ? {} : { expiresAt: obtainedAt + lifetimeMs }),
});
const held = (lifetimeMs: number | undefined, obtainedAt = T0) => ({ ...token(lifetimeMs, obtainedAt), hasAccessToken: true });

describe('refreshAt / needsRefresh (R1)', () => {
  it('refreshes exactly at refreshAt (inclusive) and not 1 ms before', () => {
    const t = held(H);
    const at = refreshAt(t, FIVE_MIN);
    expect(at).toBe(T0 + H - FIVE_MIN);
    expect(needsRefresh(t, at!, FIVE_MIN)).toBe(true);
    expect(needsRefresh(t, at! - 1, FIVE_MIN)).toBe(false);
    expect(needsRefresh(t, at! + 1, FIVE_MIN)).toBe(true);
  });

  it('is expired exactly at expiresAt (inclusive) and not 1 ms before', () => {
    const t = token(H);
    expect(isExpired(t, T0 + H)).toBe(true);
    expect(isExpired(t, T0 + H - 1)).toBe(false);
    expect(isExpired(t, T0 + H + 1)).toBe(true);
  });

  it('threshold 0 refreshes at the expiry instant', () => {
    const t = held(H);
    expect(refreshAt(t, 0)).toBe(T0 + H);
    expect(needsRefresh(t, T0 + H - 1, 0)).toBe(false);
    expect(needsRefresh(t, T0 + H, 0)).toBe(true);
  });

  it('caps the threshold at half the lifetime: a 5-minute token under a 5-minute threshold refreshes after 150 s', () => {
    const t = held(FIVE_MIN);
    expect(refreshAt(t, FIVE_MIN)).toBe(T0 + 150 * S);
    expect(needsRefresh(t, T0, FIVE_MIN)).toBe(false); // not on every call
    expect(needsRefresh(t, T0 + 150 * S - 1, FIVE_MIN)).toBe(false);
    expect(needsRefresh(t, T0 + 150 * S, FIVE_MIN)).toBe(true);
  });

  it('caps an enormous threshold at half the lifetime too (no upper cap on the setting)', () => {
    expect(refreshAt(token(10 * MIN), 365 * D)).toBe(T0 + 5 * MIN);
    expect(refreshAt(token(10 * MIN), Number.POSITIVE_INFINITY)).toBe(T0 + 5 * MIN);
  });

  it('leaves a 1 h threshold uncapped on a 24 h token', () => {
    expect(refreshAt(token(D), H)).toBe(T0 + D - H);
  });

  it('uses the stored obtainedAt, so a later process computes the same moment', () => {
    const t = token(H, T0);
    expect(refreshAt(t, FIVE_MIN)).toBe(refreshAt({ ...t }, FIVE_MIN));
    // The lifetime is counted from obtainedAt, not from "now": a restart 50 min later changes nothing.
    expect(refreshAt(token(FIVE_MIN, T0), FIVE_MIN)).toBe(T0 + 150 * S);
  });

  it('never refreshes a token of unknown lifetime unless its access token is empty', () => {
    const t = held(undefined);
    expect(refreshAt(t, FIVE_MIN)).toBeUndefined();
    expect(needsRefresh(t, T0 + 1000 * D, FIVE_MIN)).toBe(false);
    expect(isExpired(t, Number.MAX_SAFE_INTEGER)).toBe(false);
    expect(needsRefresh({ ...t, hasAccessToken: false }, T0, FIVE_MIN)).toBe(true);
  });

  it('always refreshes when the access token is empty, even far from expiry', () => {
    const t = { ...token(D), hasAccessToken: false };
    expect(needsRefresh(t, T0, FIVE_MIN)).toBe(true);
    expect(needsRefresh(t, T0 - D, 0)).toBe(true);
  });

  it('computes a 40-day token exactly (beyond the 2^31-1 ms setTimeout range)', () => {
    const forty = 40 * D;
    expect(forty).toBeGreaterThan(2 ** 31 - 1);
    const t = held(forty);
    expect(refreshAt(t, FIVE_MIN)).toBe(T0 + forty - FIVE_MIN);
    expect(needsRefresh(t, T0 + forty - FIVE_MIN - 1, FIVE_MIN)).toBe(false);
    expect(needsRefresh(t, T0 + forty - FIVE_MIN, FIVE_MIN)).toBe(true);
  });

  it('treats an `expires_in: 0` token as expired and due at once', () => {
    const check = checkTokenResponse({ access_token: 'a', token_type: 'Bearer', expires_in: 0 }, T0);
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    const t = { ...check.tokens, hasAccessToken: true };
    expect(t.expiresAt).toBe(T0);
    expect(isExpired(t, T0)).toBe(true);
    expect(refreshAt(t, FIVE_MIN)).toBe(T0);
    expect(needsRefresh(t, T0, FIVE_MIN)).toBe(true);
  });

  it('a token whose expiry precedes obtainedAt is due and expired at once', () => {
    const t = { obtainedAt: T0, expiresAt: T0 - MIN, hasAccessToken: true };
    expect(refreshAt(t, FIVE_MIN)).toBe(T0 - MIN);
    expect(needsRefresh(t, T0, FIVE_MIN)).toBe(true);
    expect(isExpired(t, T0)).toBe(true);
  });
});

describe('refreshJitterFor (fleet spreading, DESIGN §6)', () => {
  const keys = Array.from({ length: 200 }, (_, i) => `user-${i}@example.com`);

  it('is deterministic per key', () => {
    const t = token(H);
    for (const key of keys.slice(0, 20)) {
      expect(refreshJitterFor(key, t, FIVE_MIN, 0.5)).toBe(refreshJitterFor(key, { ...t }, FIVE_MIN, 0.5));
    }
  });

  it('stays within [0, fraction * window) and actually spreads keys', () => {
    const t = token(H);
    const fraction = 0.3;
    const window = FIVE_MIN; // min(threshold, lifetime / 2)
    const values = keys.map((key) => refreshJitterFor(key, t, FIVE_MIN, fraction));
    for (const v of values) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(fraction * window);
    }
    expect(new Set(values).size).toBeGreaterThan(150);
    // Roughly uniform: some in the lower and some in the upper half of the range.
    expect(values.filter((v) => v < (fraction * window) / 2).length).toBeGreaterThan(50);
    expect(values.filter((v) => v >= (fraction * window) / 2).length).toBeGreaterThan(50);
  });

  it('uses the capped window for short tokens', () => {
    const t = token(FIVE_MIN); // window = 150 s
    for (const key of keys) expect(refreshJitterFor(key, t, FIVE_MIN, 0.5)).toBeLessThan(75 * S);
  });

  it('is 0 for fraction 0, a negative or NaN fraction, and an unknown lifetime', () => {
    for (const key of keys.slice(0, 10)) {
      expect(refreshJitterFor(key, token(H), FIVE_MIN, 0)).toBe(0);
      expect(refreshJitterFor(key, token(H), FIVE_MIN, -1)).toBe(0);
      expect(refreshJitterFor(key, token(H), FIVE_MIN, Number.NaN)).toBe(0);
      expect(refreshJitterFor(key, token(undefined), FIVE_MIN, 0.5)).toBe(0);
    }
  });

  it('moves refreshAt earlier but never before obtainedAt, even with fraction 1 and threshold 0 lifetimes', () => {
    for (const lifetime of [0, 1, 10 * S, FIVE_MIN, H, 40 * D]) {
      for (const threshold of [0, S, FIVE_MIN, H, 365 * D]) {
        const t = token(lifetime);
        for (const key of keys.slice(0, 25)) {
          const jitter = refreshJitterFor(key, t, threshold, 1);
          const at = refreshAt(t, threshold, jitter)!;
          expect(at).toBeGreaterThanOrEqual(T0);
          expect(at).toBeLessThanOrEqual(refreshAt(t, threshold)!);
        }
      }
    }
  });

  it('refreshAt with an oversized jitter stops at obtainedAt', () => {
    expect(refreshAt(token(H), FIVE_MIN, 10 * H)).toBe(T0);
  });

  it('jitter never moves refreshAt later (expiry before obtainedAt)', () => {
    const t = { obtainedAt: T0, expiresAt: T0 - MIN };
    expect(refreshAt(t, FIVE_MIN, 1_000)).toBe(T0 - MIN);
  });

  it('needsRefresh honours the jitter (inclusive)', () => {
    const t = held(H);
    const at = refreshAt(t, FIVE_MIN, 30 * S)!;
    expect(at).toBe(T0 + H - FIVE_MIN - 30 * S);
    expect(needsRefresh(t, at - 1, FIVE_MIN, 30 * S)).toBe(false);
    expect(needsRefresh(t, at, FIVE_MIN, 30 * S)).toBe(true);
  });
});
