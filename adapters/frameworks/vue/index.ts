// token-lifecycle/vue: Vue bindings over a TokenManager (DESIGN §9). Peer: vue ≥ 3.3.
import type { TokenManager } from '../../../machines/manager/api-types.js';
import { authFetch } from '../../http/auth-fetch.js';
import type { FetchLike } from '../../http/options.js';
import { useTokenManager } from './context.js';

export { provideTokenManager, useTokenManager } from './context.js';
export { useTokenState, type TokenStateRefs } from './use-token-state.js';
export { useAccessToken, type AccessTokenRefs } from './use-access-token.js';
export { useRedirectLogin, type RedirectLoginRefs, type RedirectLoginStatus, type UseRedirectLoginOptions } from './use-redirect-login.js';
export type { TokenStateView } from '../token-view.js';

/** A `fetch` that attaches the credential's token (R10 on 401). */
export function useAuthFetch(key = 'default', manager: TokenManager = useTokenManager()): FetchLike {
  return authFetch(manager, { key });
}
