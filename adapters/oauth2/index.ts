// token-lifecycle/adapters/oauth2: the token endpoint over ky (DESIGN §5).
export { oauth2Endpoint, type OAuth2Endpoint, type OAuth2ExchangeEndpoint, type OAuth2IntrospectionEndpoint } from './endpoint.js';
export type { OAuth2EndpointOptions, OAuth2Grant } from './options.js';
export { tokenExchangeGrant, type TokenExchangeGrant, type TokenExchangeResponse } from './token-exchange.js';
export {
  tokenIntrospection,
  IntrospectionFailedError,
  type IntrospectionResult,
  type IntrospectOptions,
  type TokenIntrospection,
  type TokenIntrospectionOptions,
} from './token-introspection.js';
export type { TokenExchangeRequest } from '../../machines/lifecycle/types.js';
export { TOKEN_TYPES, TOKEN_EXCHANGE_GRANT } from '../../machines/lifecycle/exchange-response.js';
export type { ClientAuthMethod } from './client-auth.js';
export type { MtlsFetch, MtlsTransport } from './mtls.js';
export {
  clientSecretJwt,
  privateKeyJwt,
  type ClientAssertion,
  type ClientAssertionAlgorithm,
  type ClientAssertionJwk,
  type ClientAssertionOptions,
} from './client-assertion.js';
export { parseRetryAfter } from './retry-after.js';
export { isLoopbackHost } from './secure-url.js';
export { authorizationServerMetadataUrl, openIdConfigurationUrl, type ServerMetadata } from './discovery.js';
export {
  codeChallengeS256,
  createCodeVerifier,
  createPkce,
  createState,
  stateMatches,
  type Pkce,
} from './pkce.js';
export { deviceLogin, DEVICE_CODE_GRANT, type DeviceLoginOptions, type DevicePrompt } from './device-login.js';
export type { LoginClientOptions, LoginTokenResponse } from './login-client.js';
export {
  createDpopProver,
  dpopThumbprint,
  generateDpopKeyPair,
  type DpopOptions,
  type DpopProofOptions,
  type DpopProver,
} from './dpop.js';
export {
  completeRedirectLogin,
  hasRedirectLoginResponse,
  redirectLogin,
  type CompleteRedirectLoginOptions,
  type RedirectLoginOptions,
  type RedirectLoginStore,
} from './redirect-login.js';
