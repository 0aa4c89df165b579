/**
 * Typed errors with stable `code` strings (DESIGN §4). Messages never contain token values (R13).
 */

export type ErrorCode =
  | 'reauth_required'
  | 'refresh_token_missing'
  | 'invalid_grant'
  | 'invalid_client'
  | 'unauthorized_client'
  | 'refresh_failed'
  | 'invalid_token_response'
  | 'storage_failed'
  | 'storage_corrupt'
  | 'storage_conflict'
  | 'storage_sealed'
  | 'not_found'
  | 'invalid_config'
  | 'insecure_endpoint'
  | 'discovery_failed'
  | 'revocation_failed'
  | 'introspection_failed'
  | 'stopped'
  | 'unsupported_token_type'
  | 'access_denied'
  | 'expired_token'
  | 'login_failed'
  | 'login_timeout'
  | 'login_already_completed'
  // Any other RFC 6749 §5.2 code the server gave (`invalid_request`, `invalid_scope`, ...).
  | (string & {});

export interface TokenLifecycleErrorOptions {
  cause?: unknown;
  /** HTTP status of the response that caused it, when there was one. */
  status?: number;
  /** The server's own `error_description` (RFC 6749 §5.2), when given. */
  description?: string;
  /** Milliseconds the server asked us to wait (`Retry-After`). */
  retryAfter?: number;
  /** True for failures worth retrying later (network, 5xx, 429, malformed 200). */
  retryable?: boolean;
  /** For `reauth_required`: the cause (`invalid_grant`, `refresh_token_missing`, ...). */
  reason?: string;
  key?: string;
}

export class TokenLifecycleError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  // `declare`: no own property unless set (ES2022 class fields would add `status: undefined`, ...).
  declare readonly status?: number;
  declare readonly description?: string;
  declare readonly retryAfter?: number;
  declare readonly reason?: string;
  declare readonly key?: string;

  constructor(code: ErrorCode, message: string, options: TokenLifecycleErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    if (options.status !== undefined) this.status = options.status;
    if (options.description !== undefined) this.description = options.description;
    if (options.retryAfter !== undefined) this.retryAfter = options.retryAfter;
    if (options.reason !== undefined) this.reason = options.reason;
    if (options.key !== undefined) this.key = options.key;
  }
}

type Opts = TokenLifecycleErrorOptions;

/** No usable token without a new login (R6). `reason` names why. */
export class ReauthRequiredError extends TokenLifecycleError {
  constructor(reason: string, options: Opts = {}) {
    super('reauth_required', `Re-authentication required (${reason})`, { ...options, reason });
  }
}

/** A refresh was needed but no refresh token is held (R8). */
export class RefreshTokenMissingError extends TokenLifecycleError {
  constructor(options: Opts = {}) {
    super('refresh_token_missing', 'No refresh token is available', options);
  }
}

/**
 * An RFC 6749 §5.2 error response: `code` is the server's own error code. Permanent on a 400/401
 * (R6); `oauthError` marks `temporarily_unavailable` and 408/429/5xx responses retryable.
 */
export class OAuthServerError extends TokenLifecycleError {
  constructor(code: string, options: Opts = {}) {
    super(code, `The token endpoint answered ${code}${options.status ? ` (HTTP ${options.status})` : ''}`, options);
  }
}

export class InvalidGrantError extends OAuthServerError {
  constructor(options: Opts = {}) {
    super('invalid_grant', options);
  }
}

export class InvalidClientError extends OAuthServerError {
  constructor(options: Opts = {}) {
    super('invalid_client', options);
  }
}

export class UnauthorizedClientError extends OAuthServerError {
  constructor(options: Opts = {}) {
    super('unauthorized_client', options);
  }
}

/** A transient failure: network, timeout, 408, 429, 5xx. Retryable. */
export class RefreshFailedError extends TokenLifecycleError {
  constructor(message = 'Token refresh failed', options: Opts = {}) {
    super('refresh_failed', message, { retryable: true, ...options });
  }
}

/** A 2xx token response that breaks RFC 6749 §5.1 (R12). Transient: the old token is kept. */
export class InvalidTokenResponseError extends TokenLifecycleError {
  constructor(message: string, options: Opts = {}) {
    super('invalid_token_response', `Invalid token response: ${message}`, { retryable: true, ...options });
  }
}

export class StorageFailedError extends TokenLifecycleError {
  constructor(message = 'Token storage failed', options: Opts = {}) {
    super('storage_failed', message, { retryable: true, ...options });
  }
}

export class StorageCorruptError extends TokenLifecycleError {
  constructor(message = 'Token storage is corrupt', options: Opts = {}) {
    super('storage_corrupt', message, options);
  }
}

export class StorageConflictError extends TokenLifecycleError {
  constructor(message = 'Stored version differs from the expected version', options: Opts = {}) {
    super('storage_conflict', message, options);
  }
}

/**
 * A sealed record (R18) that cannot be opened: sealed with a key that is not configured, or a key
 * with that id but other material, or tampered with. The record is left exactly as it is.
 */
export class StorageSealedError extends TokenLifecycleError {
  constructor(message = 'Stored record cannot be unsealed', options: Opts = {}) {
    super('storage_sealed', message, options);
  }
}

export class NotFoundError extends TokenLifecycleError {
  constructor(key: string, options: Opts = {}) {
    super('not_found', `No token stored for key "${key}"`, { ...options, key });
  }
}

export class InvalidConfigError extends TokenLifecycleError {
  constructor(message: string, options: Opts = {}) {
    super('invalid_config', message, options);
  }
}

export class InsecureEndpointError extends TokenLifecycleError {
  constructor(url: string, options: Opts = {}) {
    super('insecure_endpoint', `Refusing plain http:// to a non-loopback host: ${url}`, options);
  }
}

export class DiscoveryFailedError extends TokenLifecycleError {
  constructor(message: string, options: Opts = {}) {
    super('discovery_failed', `Discovery failed: ${message}`, options);
  }
}

export class RevocationFailedError extends TokenLifecycleError {
  constructor(message = 'Token revocation failed', options: Opts = {}) {
    super('revocation_failed', message, options);
  }
}

export class StoppedError extends TokenLifecycleError {
  constructor(options: Opts = {}) {
    super('stopped', 'The token manager is stopped', options);
  }
}

/**
 * R20: a `token_type` this client cannot use correctly (e.g. `DPoP` without a DPoP key configured).
 * Never sent as if it were Bearer.
 */
export class UnsupportedTokenTypeError extends TokenLifecycleError {
  constructor(tokenType: string, options: Opts = {}) {
    super('unsupported_token_type', `Token type ${describeTokenType(tokenType)} cannot be used here: ${
      tokenType.toLowerCase() === 'dpop' ? 'configure a DPoP key (oauth2Endpoint({ dpop: createDpopProver({ keyPair }) }))' : 'only Bearer and DPoP are supported'
    }`, options);
  }
}

/** A token type is a short scheme name; anything else is not echoed (it could be a pasted token). */
function describeTokenType(tokenType: string): string {
  return /^[A-Za-z][A-Za-z0-9_-]{0,31}$/.test(tokenType) ? `"${tokenType}"` : '(unrecognised)';
}

/** A login the user refused (RFC 6749 §4.1.2.1, RFC 8628 §3.5 `access_denied`). */
export class AccessDeniedError extends OAuthServerError {
  constructor(options: Opts = {}) {
    super('access_denied', options);
    this.message = `The login was denied${options.status ? ` (HTTP ${options.status})` : ''}`;
  }
}

/** A device code that expired before the user finished (RFC 8628 §3.5 `expired_token`): start again. */
export class ExpiredTokenError extends OAuthServerError {
  constructor(options: Opts = {}) {
    super('expired_token', options);
    this.message = 'The device code expired before the login finished; start a new login';
  }
}

/** A login that cannot finish: a wrong `state`, an error redirect, a missing code, a server without the grant. */
export class LoginFailedError extends TokenLifecycleError {
  constructor(message: string, options: Opts = {}) {
    super('login_failed', `Login failed: ${message}`, options);
  }
}

/** A loopback login whose redirect never came within its timeout. */
export class LoginTimeoutError extends TokenLifecycleError {
  constructor(ms: number, options: Opts = {}) {
    super('login_timeout', `No login completed within ${Math.round(ms / 1000)} s`, options);
  }
}

/**
 * A redirect login's callback that was completed already (`completeRedirectLogin` called twice for
 * one redirect, e.g. a double mount or a reload of the callback URL): the code is not exchanged again.
 * The first completion's tokens are the ones to use.
 */
export class LoginAlreadyCompletedError extends TokenLifecycleError {
  constructor(options: Opts = {}) {
    super('login_already_completed', 'This login redirect was completed already; its code is not exchanged twice', options);
  }
}

// A Map, not an object literal: a server's `error` of "constructor" or "toString" must not find
// Object.prototype members.
const knownOAuthErrors = new Map<string, new (options?: Opts) => OAuthServerError>([
  ['invalid_grant', InvalidGrantError],
  ['invalid_client', InvalidClientError],
  ['unauthorized_client', UnauthorizedClientError],
]);

/**
 * HTTP statuses whose failures are transient whatever error code the body carries (R6): 408, 429 and
 * 5xx. Only the codes of other (400/401) responses are permanent.
 */
export function isTransientStatus(status: unknown): boolean {
  return typeof status === 'number' && (status === 408 || status === 429 || (status >= 500 && status <= 599));
}

/**
 * The typed error for an RFC 6749 §5.2 error code. `retryable` defaults to R6:
 * `temporarily_unavailable` (whatever the status) and 408/429/5xx responses are transient.
 */
export function oauthError(code: string, options: Opts = {}): OAuthServerError {
  const retryable = options.retryable ?? (code === 'temporarily_unavailable' || isTransientStatus(options.status));
  const Known = knownOAuthErrors.get(code);
  const withRetry = { ...options, retryable };
  return Known ? new Known(withRetry) : new OAuthServerError(code, withRetry);
}

/**
 * For the logins: the user's refusal and a dead device code as their classes (RFC 6749 §4.1.2.1,
 * RFC 8628 §3.5), any other error as it is. Apart from `oauthError` so a refresh-only app does not
 * carry the login classes.
 */
export function asLoginError(error: TokenLifecycleError): TokenLifecycleError {
  const options: Opts = {
    ...(error.status === undefined ? {} : { status: error.status }),
    ...(error.description === undefined ? {} : { description: error.description }),
  };
  if (error.code === 'access_denied' && !(error instanceof AccessDeniedError)) return new AccessDeniedError(options);
  if (error.code === 'expired_token' && !(error instanceof ExpiredTokenError)) return new ExpiredTokenError(options);
  return error;
}

export function isTokenLifecycleError(value: unknown): value is TokenLifecycleError {
  return value instanceof TokenLifecycleError;
}
