/**
 * The one place where text a server (or the network below it) gave us becomes something we emit
 * (docs/errors.md, "What a server's text can reach"). Every adapter that reads server text goes
 * through here: the token endpoint, revocation, discovery, the HTTP adapters and the CLI.
 *
 * - An `error` code (RFC 6749 §5.2: `1*( %x20-21 / %x23-5B / %x5D-7E )`) is kept only if it has
 *   those characters, is at most 64 long, and holds no secret (known by value, or by shape):
 *   otherwise it is not a code, and nothing of it is emitted.
 * - A description is redacted (by value and by shape), control characters are escaped, and it is
 *   cut to a bounded length.
 * - A network failure is reported by its error code (`ECONNREFUSED`, `UND_ERR_SOCKET`), never by
 *   its message, which may quote the URL or the bytes the server sent.
 * - An error that we pass on (as a `cause`) is copied with known secrets redacted.
 */
import { isErrorCode, isRegisteredCode } from './error-code.js';
import { scrubString } from './secret-patterns.js';
import { redactValues } from './secret-values.js';

export { isErrorCode, MAX_ERROR_CODE_LENGTH } from './error-code.js';
export { REDACTED } from './secret-patterns.js';
export { redactValues, withoutSecrets } from './secret-values.js';

/** Secrets known by value to the component reading the text (a missing one is skipped). */
export type KnownSecrets = Iterable<string | undefined>;

/** Longest description kept, after redaction and escaping (an ellipsis marks a cut). */
export const MAX_DESCRIPTION_LENGTH = 300;


/** Redacted by value (`secrets`) and by shape (JWTs, credentials, secret-named pairs). */
export function redactSecrets(text: string, secrets: KnownSecrets = []): string {
  return scrubString(redactValues(text, secrets));
}

/** The server's `error` as our code, or undefined when it is not an RFC 6749 §5.2 code we may show. */
export function serverErrorCode(value: unknown, secrets: KnownSecrets = []): string | undefined {
  if (!isErrorCode(value)) return undefined;
  if (isRegisteredCode(value)) return value;
  return redactSecrets(value, secrets) === value ? value : undefined;
}

/** Line breaks, other C0/C1 controls, and Unicode's invisible line and direction controls. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1F\x7F-\x9F\u061C\u200B-\u200F\u2028-\u202E\u2060-\u206F\uFEFF]/g;
const NAMED_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `text` with every control character written as an escape (`\n`, `\u001b`): one line, as data. */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => NAMED_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** At most `max` characters, never splitting a surrogate pair; a cut is marked with `…`. */
export function bounded(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - 1);
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

/** A server's free text (`error_description`, ...) made safe to emit, or undefined when there is none. */
export function serverDescription(value: unknown, secrets: KnownSecrets = [], max: number = MAX_DESCRIPTION_LENGTH): string | undefined {
  if (typeof value !== 'string') return undefined;
  // Bounded before the patterns run too (a megabyte of description is not read in full), with
  // margin so that a secret cut at the edge is still recognised by value.
  const text = bounded(escapeControls(redactSecrets(value.slice(0, 16 * max), secrets)), max);
  return text.trim() === '' ? undefined : text;
}

/** Server text as a quoted, escaped, bounded literal: how the CLI prints what it did not write itself. */
export function quoted(text: string, max: number = MAX_DESCRIPTION_LENGTH): string {
  return JSON.stringify(bounded(escapeControls(text), max)).replace(CONTROL, (c) => escapeControls(c));
}

const SYSTEM_CODE = /^[A-Z][A-Z0-9_]{1,47}$/;

/**
 * A network failure in words we chose: the error's name and the system or undici code found on it or
 * its causes (`fetch failed (ECONNREFUSED)`), never a message: those quote URLs (credentials
 * included) and, for a response that is not HTTP, the bytes the server sent.
 */
export function networkFailureText(error: unknown): string {
  const codes: string[] = [];
  let link: unknown = error;
  for (let depth = 0; typeof link === 'object' && link !== null && depth < 8; depth++) {
    const code = (link as { code?: unknown }).code;
    if (typeof code === 'string' && SYSTEM_CODE.test(code) && !codes.includes(code)) codes.push(code);
    link = (link as { cause?: unknown }).cause;
  }
  const what = error instanceof TypeError ? 'fetch failed' : 'the connection failed';
  return codes.length === 0 ? what : `${what} (${codes.join(', ')})`;
}
