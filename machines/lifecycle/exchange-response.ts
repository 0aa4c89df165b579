/**
 * R22: what an RFC 8693 token exchange response must look like (§2.2.1), on top of R12's token
 * response rules (token-response.ts). Pure: the endpoint adapter and the manager's derived
 * credentials check with the same function. Failures name the field, never its value (R13).
 */
import { InvalidTokenResponseError } from './errors.js';
import { checkTokenResponse, type TokenResponseCheck, type TokenTypeSupport, type ValidTokens } from './token-response.js';

/** RFC 8693 §3 token type identifiers. */
export const TOKEN_TYPES = {
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  refreshToken: 'urn:ietf:params:oauth:token-type:refresh_token',
  idToken: 'urn:ietf:params:oauth:token-type:id_token',
  saml1: 'urn:ietf:params:oauth:token-type:saml1',
  saml2: 'urn:ietf:params:oauth:token-type:saml2',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
} as const;

/** RFC 8693 §2.1. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** RFC 8693 §2.2.1: `token_type` when the issued token is not an access token. */
const NOT_APPLICABLE = 'n_a';

/** A token type identifier is a URI (RFC 8693 §3): a scheme, a colon, printable ASCII without spaces. */
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7E]+$/;

export interface ExchangeExpectations extends TokenTypeSupport {
  /** The `requested_token_type` sent: the server must issue that type. */
  readonly requestedTokenType?: string;
  /** The caller will use the token as an access token (a derived credential): `token_type: N_A` is refused. */
  readonly usableAsAccessToken?: boolean;
}

export type ExchangeResponseCheck =
  | { readonly ok: true; readonly tokens: ValidTokens; readonly issuedTokenType: string }
  | Extract<TokenResponseCheck, { ok: false }>;

/**
 * Validates a token exchange response: R12 (a non-empty `access_token`, a `token_type`, a sound
 * `expires_in`), then RFC 8693 §2.2.1: `issued_token_type` is required and is a URI; it is the
 * requested type when one was requested; and `token_type: N_A` (not an access token) is refused when
 * the token is to be used as one. `sentAt` is when the request was sent.
 */
export function checkExchangeResponse(raw: unknown, sentAt: number, expect: ExchangeExpectations = {}): ExchangeResponseCheck {
  const checked = checkTokenResponse(raw, sentAt, expect);
  if (!checked.ok) return checked;
  const issued = (raw as Record<string, unknown>).issued_token_type;
  if (typeof issued !== 'string' || issued.length === 0) return fail('issued_token_type is missing or empty (RFC 8693 §2.2.1)');
  if (!URI.test(issued)) return fail('issued_token_type is not a token type URI (RFC 8693 §3)');
  if (expect.requestedTokenType !== undefined && issued !== expect.requestedTokenType) {
    return fail('issued_token_type is not the requested_token_type');
  }
  const notAnAccessToken = checked.tokens.tokenType.trim().toLowerCase() === NOT_APPLICABLE;
  if (notAnAccessToken && (expect.usableAsAccessToken === true || issued === TOKEN_TYPES.accessToken)) {
    return fail('token_type is N_A: the issued token is not an access token');
  }
  return { ok: true, tokens: checked.tokens, issuedTokenType: issued };
}

function fail(message: string): ExchangeResponseCheck {
  return { ok: false, error: new InvalidTokenResponseError(message) };
}
