import { useCallback, useEffect, useState } from 'react';
import {
  completeLoginOnce,
  pendingCallbackUrl,
  startRedirectLogin,
  type RedirectLoginStatus,
  type UseRedirectLoginOptions,
} from '../redirect-completion.js';
import { useTokenManager } from './context.js';

export type { UseRedirectLoginOptions } from '../redirect-completion.js';

export interface RedirectLoginState {
  /** `completing` while a callback URL is being exchanged; `done` once its tokens are set. */
  readonly status: RedirectLoginStatus;
  readonly error?: unknown;
  /** Starts a login (navigates away). */
  login(): Promise<void>;
}

/**
 * Redirect login for a React app: `login()` starts it; on the redirect URI's page the hook completes
 * the callback exactly once (StrictMode or not: a second effect run joins the first's exchange) and
 * stores the tokens with `setToken`. Pass options that do not change between renders (a module
 * constant or `useMemo`).
 */
export function useRedirectLogin(options: UseRedirectLoginOptions): RedirectLoginState {
  const manager = useTokenManager();
  const url = pendingCallbackUrl(options);
  const [state, setState] = useState<Pick<RedirectLoginState, 'status' | 'error'>>({ status: url ? 'completing' : 'idle' });

  useEffect(() => {
    if (url === undefined) return;
    let active = true;
    completeLoginOnce(manager, options, url).then(
      () => active && setState({ status: 'done' }),
      (error: unknown) => active && setState({ status: 'error', error }),
    );
    return () => {
      active = false;
    };
    // The options are read once per callback URL: a completion is not redone when they change.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [manager, url]);

  const login = useCallback(() => startRedirectLogin(options), [options]);

  return { ...state, login };
}
