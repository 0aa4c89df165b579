/**
 * Which property names hold secrets. Names are compared case-insensitively and without `_`, `-`,
 * `.` or spaces, so `access_token`, `accessToken` and `Access-Token` are one name.
 */

/** Names that are secrets as a whole (RFC 6749 §5.1, §2.3.1; RFC 7523 §2.2; RFC 7636 §4.1; RFC 8628 §3.2; HTTP). */
const EXACT = new Set([
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'passwd',
  'passphrase',
  'codeverifier',
  'authorizationcode',
  'devicecode',
  'privatekey',
]);

/**
 * Endings that make a name secret: `token` covers access/refresh/id/subject/session tokens,
 * `secret` covers `client_secret`, `assertion` covers `client_assertion`.
 * `token_type`, `tokenUrl` or `hasRefreshToken` do not end so, or carry no string (see redact.ts).
 * `code` alone is deliberately absent: it is also every error's `code` (`invalid_grant`, ...), which
 * inspectors and logs need; an authorization code in a URL query is still caught (secret-strings.ts).
 */
const SUFFIXES = ['token', 'secret', 'password', 'assertion', 'apikey'];

export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[\s_.-]/g, '');
}

export function isSecretKey(key: string): boolean {
  const name = normalizeKey(key);
  // Plurals too: a `refreshTokens` set or a `clientSecrets` list holds secrets as much as one does.
  return EXACT.has(name) || SUFFIXES.some((suffix) => name.endsWith(suffix) || name.endsWith(`${suffix}s`));
}
