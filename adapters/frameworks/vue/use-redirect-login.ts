import { onScopeDispose, shallowRef, toRef, type Ref } from 'vue';
import type { TokenManager } from '../../../machines/manager/api-types.js';
import {
  completeLoginOnce,
  pendingCallbackUrl,
  startRedirectLogin,
  type RedirectLoginStatus,
  type UseRedirectLoginOptions,
} from '../redirect-completion.js';
import { isServer, useTokenManager } from './context.js';

export type { UseRedirectLoginOptions, RedirectLoginStatus } from '../redirect-completion.js';

export interface RedirectLoginRefs {
  /** `completing` while a callback URL is being exchanged; `done` once its tokens are set. */
  readonly status: Readonly<Ref<RedirectLoginStatus>>;
  readonly error: Readonly<Ref<unknown>>;
  /** Starts a login (navigates away). */
  login(): Promise<void>;
}

/**
 * Redirect login for a Vue app: `login()` starts it; on the redirect URI's page the composable
 * completes the callback exactly once per page (a component set up again, or two using it, join
 * the first exchange) and stores the tokens with `setToken`. Nothing happens on the server.
 */
export function useRedirectLogin(options: UseRedirectLoginOptions, manager: TokenManager = useTokenManager()): RedirectLoginRefs {
  const url = isServer() ? undefined : pendingCallbackUrl(options);
  const state = shallowRef<{ readonly status: RedirectLoginStatus; readonly error?: unknown }>({ status: url ? 'completing' : 'idle' });
  if (url !== undefined) {
    let active = true;
    onScopeDispose(() => (active = false));
    completeLoginOnce(manager, options, url).then(
      () => active && (state.value = { status: 'done' }),
      (error: unknown) => active && (state.value = { status: 'error', error }),
    );
  }
  return {
    status: toRef(() => state.value.status),
    error: toRef(() => state.value.error),
    login: () => startRedirectLogin(options),
  };
}
