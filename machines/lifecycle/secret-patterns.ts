/**
 * Secrets inside free text, found by their shape: JWTs, HTTP credentials after their scheme, and
 * values after a secret name in any of the ways logs and echoing servers write pairs: `name=value`
 * (also percent-encoded: `refresh%5Ftoken%3Dv`), `name: value` (YAML, headers), `"name": "value"`,
 * `'name': 'value'`, and JSON inside a JSON string (`\"name\":\"value\"`). A safety net for text
 * whose secrets we do not know by value (see secret-values.ts for those). Pure string work.
 */
import { isSecretKey, normalizeKey } from './secret-keys.js';

export const REDACTED = '[redacted]';

/**
 * A compact JWS/JWE (RFC 7515 §7.1, RFC 7516 §7.1): 3 to 5 base64url parts. The first part is the
 * base64url of a JSON object, so it starts with `ey` (`{"`) or `ew` (`{` and a line break).
 */
const COMPACT_JOSE = /(?<![A-Za-z0-9_-])e[wy][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){2,4}/g;

/**
 * An HTTP credential after its scheme (RFC 9110 §11.4), the scheme separated by blanks, `+` or `%20`
 * (form- or URL-encoded). The credential runs to the next blank, quote or backslash: a token may
 * hold `%`, `,` or `)` (VSCHAR), so stopping early would leave its tail behind.
 */
const AUTH_SCHEME = /\b(Bearer|Basic|DPoP|Token|Digest|Negotiate|MAC|ApiKey)((?:[ \t]|\+|%20)+)(?![ \t])[^\s"'\\]+/gi;

/** A name followed by `=`, `:` or `%3D` (after the closing quote of a quoted name). */
const NAMED = /([A-Za-z][A-Za-z0-9_.%-]*)((?:\\*["'])?)[ \t]*(=|:|%3D)[ \t]*/gi;

const ALREADY_SCRUBBED = /^[A-Za-z]+[ \t]+\[redacted\]$/;

/** Header names whose value is a whole line (a scheme, a blank and the credential; cookies). */
const LINE_VALUED = new Set(['authorization', 'proxyauthorization', 'cookie', 'setcookie']);

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

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

/**
 * The closing quote of a value opened by `open` (a quote after k backslashes: `"`, or `\"` in JSON
 * inside a JSON string): the same quote after exactly k backslashes. An escaped quote inside has
 * more; when unsure, the value runs on (redacting too much, never too little).
 */
function closingQuote(text: string, from: number, open: string): number {
  const quote = open[open.length - 1] as string;
  const slashes = open.length - 1;
  for (let i = text.indexOf(quote, from); i >= 0; i = text.indexOf(quote, i + 1)) {
    let run = 0;
    while (run < i - from + 1 && text[i - 1 - run] === '\\') run++;
    if (run === slashes && i - slashes >= from) return i - slashes;
  }
  return -1;
}

/** Where the value that starts at `from` ends: a quoted value at its closing quote, else at a separator. */
function valueEnd(text: string, from: number, wholeLine: boolean): { start: number; end: number; closeLength: number } {
  const quote = /^\\*["']/.exec(text.slice(from, from + 8));
  if (quote) {
    const open = quote[0];
    const close = closingQuote(text, from + open.length, open);
    return { start: from + open.length, end: close < 0 ? text.length : close, closeLength: close < 0 ? 0 : open.length };
  }
  const stop = wholeLine ? /[\r\n"'\\]|\\[rn]/ : /[\s&#;,"'<>\\)\]}]/;
  const rest = text.slice(from);
  const at = rest.search(stop);
  return { start: from, end: at < 0 ? text.length : from + at, closeLength: 0 };
}

/** `name=value`, `name: value`, `"name": "value"` and their escaped and encoded forms. */
function scrubPairs(text: string): string {
  let out = '';
  let copied = 0;
  NAMED.lastIndex = 0;
  for (let match = NAMED.exec(text); match; match = NAMED.exec(text)) {
    const [whole, rawName = '', , separator = ''] = match;
    const before = text[match.index - 1];
    if (before !== undefined && /[A-Za-z0-9_]/.test(before)) continue;
    const name = decodeName(rawName);
    // `code=` is a secret in a query (RFC 6749 §4.1.2) but also every error's code: only after ?, & or at the start.
    const queryLike = separator !== ':' && (before === undefined || before === '?' || before === '&');
    if (!(isSecretKey(name) || (queryLike && name.toLowerCase() === 'code'))) continue;
    const from = match.index + whole.length;
    if (from < copied) continue;
    const wholeLine = LINE_VALUED.has(normalizeKey(name));
    const { start, end, closeLength } = valueEnd(text, from, wholeLine);
    // `Authorization: Bearer [redacted]` keeps its scheme: the credential is gone already.
    if (end === start || (wholeLine && ALREADY_SCRUBBED.test(text.slice(start, end)))) continue;
    out += text.slice(copied, start) + REDACTED;
    copied = end;
    NAMED.lastIndex = end + closeLength;
  }
  return out + text.slice(copied);
}

/** The string with every secret it contains, by shape, replaced by `[redacted]`. */
export function scrubString(text: string): string {
  let out = text.replace(COMPACT_JOSE, (match) => (isJoseHeader(match.slice(0, match.indexOf('.'))) ? REDACTED : match));
  out = out.replace(AUTH_SCHEME, (_match, scheme: string, space: string) => `${scheme}${space}${REDACTED}`);
  return scrubPairs(out);
}
