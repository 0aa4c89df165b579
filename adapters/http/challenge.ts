/**
 * When a 401 is worth a refresh (R10). A `WWW-Authenticate` challenge with
 * `error="insufficient_scope"` (RFC 6750 §3.1; also DPoP, RFC 9449 §7.1) says the token is fine but
 * lacks a scope: a new token from the same grant would not help, so the response goes back unchanged.
 */

import { serverErrorCode } from '../../machines/lifecycle/server-text.js';

// RFC 9110 §5.6.2 tchar.
const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;

type Item = { kind: 'token' | 'quoted'; text: string } | { kind: '=' | ',' };

/** Splits a challenge list into tokens, quoted strings, `=` and `,` (RFC 9110 §11.6.1). */
function tokenize(header: string): Item[] {
  const items: Item[] = [];
  let i = 0;
  while (i < header.length) {
    const c = header[i] as string;
    if (c === '"') {
      let text = '';
      i++;
      while (i < header.length && header[i] !== '"') {
        if (header[i] === '\\') i++;
        text += header[i] ?? '';
        i++;
      }
      i++;
      items.push({ kind: 'quoted', text });
    } else if (c === '=' || c === ',') {
      items.push({ kind: c });
      i++;
    } else {
      TOKEN.lastIndex = i;
      const match = TOKEN.exec(header);
      if (match) {
        items.push({ kind: 'token', text: match[0] });
        i += match[0].length;
      } else {
        i++; // whitespace, or a token68 character such as `/`
      }
    }
  }
  return items;
}

/** The `name=value` auth-params of all challenges in a `WWW-Authenticate` value. */
export function authParams(header: string): Array<[name: string, value: string]> {
  const items = tokenize(header);
  const params: Array<[string, string]> = [];
  for (let i = 0; i + 2 < items.length; i++) {
    const [name, eq, value] = [items[i], items[i + 1], items[i + 2]];
    if (name?.kind === 'token' && eq?.kind === '=' && (value?.kind === 'token' || value?.kind === 'quoted')) {
      params.push([name.text.toLowerCase(), value.text]);
      i += 2;
    }
  }
  return params;
}

export function isInsufficientScope(response: Response): boolean {
  const header = response.headers.get('www-authenticate');
  if (!header) return false;
  // The server's `error` is read as a code only through server-text.ts, like every server text.
  return authParams(header).some(([name, value]) => name === 'error' && serverErrorCode(value) === 'insufficient_scope');
}

/**
 * RFC 9449 §9: a resource server asking for a DPoP nonce answers 401 with a `DPoP` challenge whose
 * `error` is `use_dpop_nonce` (and the nonce in `DPoP-Nonce`). The token is fine: the same request
 * goes again with a proof carrying the nonce.
 */
export function asksForDpopNonce(response: Response): boolean {
  if (response.status !== 401) return false;
  const header = response.headers.get('www-authenticate');
  if (!header || !/(^|[\s,])dpop(\s|$)/i.test(header)) return false;
  return authParams(header).some(([name, value]) => name === 'error' && value === 'use_dpop_nonce');
}

/**
 * R10: a 401 triggers one renewal and one retry, unless the server says the scope is the problem, or
 * asks for a DPoP nonce (a new token would not help; the nonce does).
 */
export function isRenewable(response: Response): boolean {
  return response.status === 401 && !isInsufficientScope(response) && !asksForDpopNonce(response);
}
