/**
 * Secrets inside free text: JWTs, `Authorization` credentials, and `name=value` / `"name": "value"`
 * pairs with a secret name. Used on every string that is not already redacted as a whole.
 */
import { isSecretKey } from './secret-keys.js';

export const REDACTED = '[redacted]';

/**
 * A compact JWS/JWE (RFC 7515 §7.1, RFC 7516 §7.1): 3 to 5 base64url parts. The first part is the
 * base64url of a JSON object, so it starts with `ey` (`{"`) or `ew` (`{` and a line break).
 */
const COMPACT_JOSE = /(?<![A-Za-z0-9_-])e[wy][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){2,4}/g;

/** An HTTP credential after its scheme (RFC 9110 §11.4; Bearer: RFC 6750 §2.1, token68 syntax). */
const AUTH_SCHEME = /\b(Bearer|Basic|DPoP)([ \t]+)[A-Za-z0-9\-._~+/]+=*/gi;

/** `name=value` in a query string, form body or log line (RFC 6749 §4.1.2 puts `code` in a query). */
const PAIR = /(^|[?&;,\s])([A-Za-z][\w.-]*)=([^&\s#;,"']*)/g;

/** `"name": "value"` in JSON text (an error message quoting a response body). */
const JSON_PAIR = /("([A-Za-z][\w.-]*)"\s*:\s*)"(?:[^"\\]|\\.)*"/g;

function base64UrlDecode(part: string): string | undefined {
  try {
    const base64 = part.replace(/-/g, '+').replace(/_/g, '/');
    return atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  } catch {
    return undefined;
  }
}

/** True when the first part decodes to a JSON object: a JOSE header (RFC 7515 §4). */
function isJoseHeader(part: string): boolean {
  const decoded = base64UrlDecode(part);
  if (decoded === undefined || !decoded.trimStart().startsWith('{')) return false;
  try {
    const header: unknown = JSON.parse(decoded);
    return typeof header === 'object' && header !== null && !Array.isArray(header);
  } catch {
    return false;
  }
}

function isSecretPairName(name: string, queryLike: boolean): boolean {
  return isSecretKey(name) || (queryLike && name.toLowerCase() === 'code');
}

/** The string with every secret it contains replaced by `[redacted]`. */
export function scrubString(text: string): string {
  let out = text.replace(COMPACT_JOSE, (match) => (isJoseHeader(match.slice(0, match.indexOf('.'))) ? REDACTED : match));
  out = out.replace(AUTH_SCHEME, (_match, scheme: string, space: string) => `${scheme}${space}${REDACTED}`);
  out = out.replace(PAIR, (match, lead: string, name: string) =>
    isSecretPairName(name, lead === '' || lead === '?' || lead === '&') ? `${lead}${name}=${REDACTED}` : match,
  );
  out = out.replace(JSON_PAIR, (match, head: string, name: string) => (isSecretKey(name) ? `${head}"${REDACTED}"` : match));
  return out;
}
