/**
 * The realistic way to a first refresh token (~80 ms): the examples' browserless login
 * (examples/support/login.ts: authorization_code + PKCE through oidc-provider's devInteractions),
 * with the test server's redirect URI and the account `alice` by default. Tests mostly mint through
 * the model API instead (AuthServer.mintRefreshToken).
 */
import { loginWithAuthCode, type LoginOptions } from '../../examples/support/login.js';

export type AuthCodeOptions = Omit<LoginOptions, 'redirectUri'> & {
  /** Default: the redirect URI every test client registers (`http://127.0.0.1:1/cb`). */
  redirectUri?: string;
};

/** The raw token endpoint response (RFC 6749 §5.1). */
export type TokenEndpointResponse = Record<string, unknown>;

export function obtainTokensViaAuthCode(options: AuthCodeOptions): Promise<TokenEndpointResponse> {
  return loginWithAuthCode({ ...options, redirectUri: options.redirectUri ?? 'http://127.0.0.1:1/cb', login: options.login ?? 'alice' });
}
