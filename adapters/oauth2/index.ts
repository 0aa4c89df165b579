// token-lifecycle/adapters/oauth2: the token endpoint over ky (DESIGN §5).
export { oauth2Endpoint, type OAuth2Endpoint } from './endpoint.js';
export type { OAuth2EndpointOptions, OAuth2Grant } from './options.js';
export type { ClientAuthMethod } from './client-auth.js';
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
