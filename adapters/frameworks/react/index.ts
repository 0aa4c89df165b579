// token-lifecycle/react: React bindings over a TokenManager (DESIGN §9). Peer: react ≥ 18.
export { TokenManagerProvider, useTokenManager, type TokenManagerProviderProps } from './context.js';
export { useTokenState } from './use-token-state.js';
export { useAuthFetch } from './use-auth-fetch.js';
export { useAccessToken, type AccessTokenState } from './use-access-token.js';
export { useRedirectLogin, type RedirectLoginState, type UseRedirectLoginOptions } from './use-redirect-login.js';
export type { TokenStateView } from '../token-view.js';
