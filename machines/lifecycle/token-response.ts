import { InvalidTokenResponseError, UnsupportedTokenTypeError } from './errors.js';
import type { TokenSet } from './types.js';

/** A validated token set with the moment the request was sent (R12: `expiresAt` counts from it). */
export interface ValidTokens extends TokenSet {
  readonly obtainedAt: number;
}

export type TokenResponseCheck =
  | { readonly ok: true; readonly tokens: ValidTokens }
  /** `refreshToken`: a well-formed rotated refresh token found in an otherwise bad response (R4, R12). */
  | { readonly ok: false; readonly error: InvalidTokenResponseError | UnsupportedTokenTypeError; readonly refreshToken?: string };

/** What the client can do with the token types it receives (R20). */
export interface TokenTypeSupport {
  /** A DPoP key is configured (`oauth2Endpoint({ dpop })`): `token_type: DPoP` is usable. */
  readonly dpop?: boolean;
}

/**
 * R20: a DPoP-bound token is only usable with its key; without one it would go out as if it were
 * Bearer, and fail (or worse, look like it works against a lax server).
 */
function unsupportedType(tokenType: string, support: TokenTypeSupport): UnsupportedTokenTypeError | undefined {
  return tokenType.trim().toLowerCase() === 'dpop' && support.dpop !== true ? new UnsupportedTokenTypeError(tokenType) : undefined;
}

const NUMERIC = /^\d+(?:\.\d+)?$/;
/** The last instant a JS `Date` can hold: a larger `expiresAt` would break `toISOString()` (CLI, status). */
const MAX_EPOCH_MS = 8.64e15;

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/**
 * RFC 6749 Appendix A: access, refresh and ID tokens (A.12-A.17; OIDC's ID token is a JWT) are
 * `1*VSCHAR`, VSCHAR being %x20-7E. Anything else cannot be sent in a header (`Headers` throws) or is
 * not what the server issued (a byte decoded as U+FFFD under a wrong charset): refused at receipt.
 */
const VSCHAR = /^[\x20-\x7E]+$/;

function isToken(value: unknown): value is string {
  return typeof value === 'string' && VSCHAR.test(value);
}

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null;
}

/**
 * Validates a token endpoint response (RFC 6749 §5.1, DESIGN R12). `sentAt` is when the request was
 * sent. Failures name the field, never its value (R13).
 */
export function checkTokenResponse(raw: unknown, sentAt: number, support: TokenTypeSupport = {}): TokenResponseCheck {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return fail('the body is not a JSON object');
  }
  const body = raw as Record<string, unknown>;
  const refresh = body.refresh_token;
  if (!isAbsent(refresh) && !isNonEmptyString(refresh)) return fail('refresh_token is not a non-empty string');
  // A refresh token we could not send is not worth keeping (and not a rotation we can follow).
  if (isNonEmptyString(refresh) && !isToken(refresh)) return fail(notVschar('refresh_token'));
  const salvage = isNonEmptyString(refresh) ? refresh : undefined;
  const failWith = (message: string): TokenResponseCheck => fail(message, salvage);

  if (!isNonEmptyString(body.access_token)) return failWith('access_token is missing or empty');
  if (!isToken(body.access_token)) return failWith(notVschar('access_token'));
  if (!isNonEmptyString(body.token_type)) return failWith('token_type is missing or empty');
  if (!isToken(body.token_type)) return failWith(notVschar('token_type'));
  const unsupported = unsupportedType(body.token_type, support);
  if (unsupported) return fail(unsupported, salvage);

  let expiresAt: number | undefined;
  const expiresIn = body.expires_in;
  if (!isAbsent(expiresIn)) {
    const seconds =
      typeof expiresIn === 'number' ? expiresIn : typeof expiresIn === 'string' && NUMERIC.test(expiresIn) ? Number(expiresIn) : NaN;
    if (!Number.isFinite(seconds) || seconds < 0) return failWith('expires_in is not a finite number ≥ 0');
    // A huge `expires_in` ("never expires") must not overflow to Infinity or past the Date range.
    expiresAt = Math.min(sentAt + seconds * 1000, MAX_EPOCH_MS);
  }
  return finish(
    { accessToken: body.access_token, tokenType: body.token_type, expiresAt, refreshToken: salvage, scope: body.scope, idToken: body.id_token },
    { scope: 'scope', idToken: 'id_token' },
    sentAt,
    failWith,
  );
}

/** Validates a `TokenSet` given to `setToken` (camelCase form); `now` stamps `obtainedAt`. */
export function checkTokenSet(raw: unknown, now: number, support: TokenTypeSupport = {}): TokenResponseCheck {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('the token set is not an object');
  const set = raw as Record<string, unknown>;
  if (!isAbsent(set.refreshToken) && !isNonEmptyString(set.refreshToken)) return fail('refreshToken is not a non-empty string');
  if (isNonEmptyString(set.refreshToken) && !isToken(set.refreshToken)) return fail(notVschar('refreshToken'));
  if (!isNonEmptyString(set.accessToken)) return fail('accessToken is missing or empty');
  if (!isToken(set.accessToken)) return fail(notVschar('accessToken'));
  if (!isNonEmptyString(set.tokenType)) return fail('tokenType is missing or empty');
  if (!isToken(set.tokenType)) return fail(notVschar('tokenType'));
  const unsupported = unsupportedType(set.tokenType, support);
  if (unsupported) return fail(unsupported);
  // Number.isFinite is false for anything but a finite number, a numeric string included.
  if (!isAbsent(set.expiresAt) && !Number.isFinite(set.expiresAt)) {
    return fail('expiresAt is not a finite epoch-milliseconds number');
  }
  return finish(
    {
      accessToken: set.accessToken,
      tokenType: set.tokenType,
      expiresAt: typeof set.expiresAt === 'number' ? Math.min(set.expiresAt, MAX_EPOCH_MS) : undefined,
      refreshToken: isNonEmptyString(set.refreshToken) ? set.refreshToken : undefined,
      scope: set.scope,
      idToken: set.idToken,
    },
    { scope: 'scope', idToken: 'idToken' },
    now,
    fail,
  );
}

/** What both forms share: the optional scope and ID token are checked, then the token set is built. */
function finish(
  parts: {
    accessToken: string;
    tokenType: string;
    expiresAt: number | undefined;
    refreshToken: string | undefined;
    scope: unknown;
    idToken: unknown;
  },
  names: { scope: string; idToken: string },
  obtainedAt: number,
  failWith: (message: string) => TokenResponseCheck,
): TokenResponseCheck {
  const { scope, idToken } = parts;
  if (!isAbsent(scope) && typeof scope !== 'string') return failWith(`${names.scope} is not a string`);
  if (!isAbsent(idToken) && !isNonEmptyString(idToken)) return failWith(`${names.idToken} is not a non-empty string`);
  if (isNonEmptyString(idToken) && !isToken(idToken)) return failWith(notVschar(names.idToken));
  const tokens: ValidTokens = {
    accessToken: parts.accessToken,
    tokenType: parts.tokenType,
    obtainedAt,
    ...(parts.expiresAt === undefined ? {} : { expiresAt: parts.expiresAt }),
    ...(parts.refreshToken === undefined ? {} : { refreshToken: parts.refreshToken }),
    ...(typeof scope === 'string' ? { scope } : {}),
    ...(isNonEmptyString(idToken) ? { idToken } : {}),
  };
  return { ok: true, tokens };
}

/** `setToken` input: a `TokenSet` when it has `accessToken`, else a token endpoint response. */
export function checkTokenInput(raw: unknown, now: number, support: TokenTypeSupport = {}): TokenResponseCheck {
  const looksLikeSet = typeof raw === 'object' && raw !== null && 'accessToken' in raw;
  return looksLikeSet ? checkTokenSet(raw, now, support) : checkTokenResponse(raw, now, support);
}

/** Names the field, never its value (R13). */
function notVschar(field: string): string {
  return `${field} has characters outside VSCHAR (RFC 6749 Appendix A: printable ASCII only)`;
}

function fail(problem: string | InvalidTokenResponseError | UnsupportedTokenTypeError, refreshToken?: string): TokenResponseCheck {
  const error = typeof problem === 'string' ? new InvalidTokenResponseError(problem) : problem;
  return refreshToken === undefined ? { ok: false, error } : { ok: false, error, refreshToken };
}
