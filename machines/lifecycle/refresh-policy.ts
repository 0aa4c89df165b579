/**
 * When a token must be refreshed and when it is expired (DESIGN R1). Pure functions of the token's
 * times and `now`, so a restarted process or another host computes the same moments.
 */

/** The times of a token that the rules need; no secrets. */
export interface TokenTimes {
  /** Epoch ms; undefined = unknown expiry (valid until a 401 forces a refresh). */
  readonly expiresAt?: number | undefined;
  /** Epoch ms at which the token request was sent. */
  readonly obtainedAt: number;
}

/**
 * `refreshAt = expiresAt - min(threshold, lifetime / 2)`, then moved earlier by `jitterMs` (fleet
 * spreading, never before `obtainedAt`). Undefined when the expiry is unknown (infinite lifetime).
 */
export function refreshAt(token: TokenTimes, thresholdMs: number, jitterMs = 0): number | undefined {
  if (token.expiresAt === undefined) return undefined;
  const lifetime = Math.max(0, token.expiresAt - token.obtainedAt);
  const moment = token.expiresAt - Math.min(thresholdMs, lifetime / 2);
  // Jitter only ever moves the moment earlier, and not before `obtainedAt` (nor later than `moment`
  // when the token arrived already past its expiry).
  return jitterMs > 0 ? Math.min(moment, Math.max(token.obtainedAt, moment - jitterMs)) : moment;
}

/** Expired ⇔ `now >= expiresAt` (inclusive at the expiry instant). Unknown expiry never expires. */
export function isExpired(token: TokenTimes, now: number): boolean {
  return token.expiresAt !== undefined && now >= token.expiresAt;
}

/** `needsRefresh` ⇔ the access token is empty, or `now >= refreshAt` (inclusive). */
export function needsRefresh(
  token: TokenTimes & { readonly hasAccessToken: boolean },
  now: number,
  thresholdMs: number,
  jitterMs = 0,
): boolean {
  if (!token.hasAccessToken) return true;
  const moment = refreshAt(token, thresholdMs, jitterMs);
  return moment !== undefined && now >= moment;
}

/** 32-bit FNV-1a: a stable hash, so every process derives the same jitter for a key. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Deterministic fleet jitter for a key (DESIGN §6): a share in [0, fraction) of the refresh window,
 * the same in every process.
 */
export function refreshJitterFor(key: string, token: TokenTimes, thresholdMs: number, fraction: number): number {
  // `!(fraction > 0)` also catches NaN, which would otherwise turn every refresh moment into NaN.
  if (!(fraction > 0) || token.expiresAt === undefined) return 0;
  const lifetime = Math.max(0, token.expiresAt - token.obtainedAt);
  const window = Math.min(thresholdMs, lifetime / 2);
  const spread = Math.max(0, Math.min(lifetime - window, window * fraction));
  return (fnv1a(key) / 0x1_0000_0000) * spread;
}
