/**
 * Output shapes. `token get --json` has exactly `access_token`, `token_type`, `expires_at` (RFC 3339
 * UTC or null), `expired` (inclusive at the expiry instant, R1) and `scope`: never the refresh or ID
 * token (R13). Status output carries no token value at all.
 */
import { isExpired } from '../../machines/lifecycle/refresh-policy.js';
import { rfc3339 } from './offline.js';

export interface TokenView {
  readonly accessToken: string;
  readonly tokenType: string;
  readonly expiresAt?: number | undefined;
  readonly scope?: string | undefined;
}

export function formatToken(token: TokenView, json: boolean, now: number): string {
  if (!json) return `${token.accessToken}\n`;
  const body = {
    access_token: token.accessToken,
    token_type: token.tokenType,
    expires_at: token.expiresAt === undefined ? null : rfc3339(token.expiresAt),
    expired: isExpired({ expiresAt: token.expiresAt, obtainedAt: 0 }, now),
    scope: token.scope ?? null,
  };
  return `${JSON.stringify(body)}\n`;
}

/** `1h 5m`, `42s`, `3d 2h`: a human rendering of a positive duration. */
export function humanDuration(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const parts: Array<[number, string]> = [
    [Math.floor(s / 86_400), 'd'],
    [Math.floor((s % 86_400) / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'm'],
    [s % 60, 's'],
  ];
  const shown = parts.filter(([n]) => n > 0).slice(0, 2);
  return shown.length === 0 ? '0s' : shown.map(([n, unit]) => `${n}${unit}`).join(' ');
}

/** `2025-01-01T00:00:00.000Z (in 5m 3s)` or `(4s ago)`. */
export function instant(ms: number, now: number): string {
  const relative = ms >= now ? `in ${humanDuration(ms - now)}` : `${humanDuration(now - ms)} ago`;
  return `${rfc3339(ms)} (${relative})`;
}
