/**
 * The `Authorization` request header for an access token (RFC 6750 §2.1) and the way back: which
 * access token a request carried.
 */
import type { TokenSet } from '../../machines/lifecycle/types.js';

/**
 * `<type> <token>`. Token types are case-insensitive (RFC 6749 §5.1) but some servers match the
 * scheme literally, so `bearer` in any case is sent as RFC 6750 §2.1 spells it: `Bearer`.
 */
export function authorizationHeader(token: Pick<TokenSet, 'accessToken' | 'tokenType'>): string {
  const type = token.tokenType.trim();
  const scheme = type === '' || type.toLowerCase() === 'bearer' ? 'Bearer' : type;
  return `${scheme} ${token.accessToken}`;
}

/** The credentials part of an `Authorization` header (`Bearer abc` → `abc`), or undefined. */
export function credentialsOf(header: string | null | undefined): string | undefined {
  const match = header == null ? null : /^[^\s]+[ \t]+(\S.*?)[ \t]*$/.exec(header);
  return match?.[1];
}
