/**
 * DPoP at the resource (RFC 9449 §7): a DPoP-bound access token goes out as `Authorization: DPoP
 * <token>` with a fresh proof for this method and URL, holding the token's hash (`ath`). R20: a DPoP
 * token without a key to prove it is refused here too, never sent as if it were Bearer.
 */
import { UnsupportedTokenTypeError } from '../../machines/lifecycle/errors.js';
import type { DpopProver, TokenSet } from '../../machines/lifecycle/types.js';
import { authorizationHeader } from './authorization.js';
import type { FetchInput } from './options.js';

export type TokenView = Pick<TokenSet, 'accessToken' | 'tokenType'>;

export function isDpopToken(token: TokenView): boolean {
  return token.tokenType.trim().toLowerCase() === 'dpop';
}

/** Sets `Authorization` (and, for a DPoP token, `DPoP`: a new proof) on `headers` for one request. */
export async function applyToken(headers: Headers, token: TokenView, method: string, url: string, dpop: DpopProver | undefined): Promise<void> {
  if (!isDpopToken(token)) {
    headers.set('authorization', authorizationHeader(token));
    return;
  }
  if (!dpop) throw new UnsupportedTokenTypeError(token.tokenType);
  headers.set('authorization', `DPoP ${token.accessToken}`);
  headers.set('dpop', await dpop.proof(method, url, { accessToken: token.accessToken }));
}

/** The token a request carries, read back from its `Authorization` header (`kyAuth` attached it). */
export function carriedToken(input: FetchInput): TokenView | undefined {
  const header = input instanceof Request ? input.headers.get('authorization') : null;
  const match = header === null ? null : /^(\S+)[ \t]+(\S.*?)[ \t]*$/.exec(header);
  return match ? { tokenType: match[1] as string, accessToken: match[2] as string } : undefined;
}

/** The absolute URL of a request (a proof's `htu`); a relative one resolves against the page, as fetch does. */
export function requestUrl(input: FetchInput): string {
  const raw = input instanceof Request ? input.url : String(input);
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  return new URL(raw, base).href;
}

export function requestMethod(input: FetchInput, init: RequestInit | undefined): string {
  return (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
}
