/**
 * What counts as an OAuth error code (RFC 6749 §5.2: `error = 1*( %x20-21 / %x23-5B / %x5D-7E )`),
 * bounded in length. The manager's core checks a custom endpoint's codes with this alone; text from
 * a server goes through server-text.ts, which also refuses a code holding a secret.
 */

/** Longest `error` code kept (registered codes are at most 30 characters). */
export const MAX_ERROR_CODE_LENGTH = 64;

const ERROR_CODE = /^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/;

/** The codes of RFC 6749 §5.2, RFC 6750 §3.1, RFC 7009 §2.2.1 and RFC 8628 §3.5: codes whatever a short client secret spells. */
const REGISTERED = new Set([
  'invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope',
  'access_denied', 'server_error', 'temporarily_unavailable', 'invalid_token', 'insufficient_scope', 'unsupported_token_type',
  'authorization_pending', 'slow_down', 'expired_token',
]);

/** RFC 6749 §5.2's characters, 1 to 64 of them. */
export function isErrorCode(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ERROR_CODE_LENGTH && ERROR_CODE.test(value);
}

/** A code in the registries: a code, whatever a short client secret happens to spell. */
export function isRegisteredCode(value: string): boolean {
  return REGISTERED.has(value);
}
