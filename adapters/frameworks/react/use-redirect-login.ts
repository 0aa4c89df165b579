import { useCallback, useEffect, useState } from 'react';
import {
  completeRedirectLogin,
  hasRedirectLoginResponse,
  redirectLogin,
  type CompleteRedirectLoginOptions,
  type RedirectLoginOptions,
} from '../../oauth2/redirect-login.js';
import type { TokenResponse } from '../../../machines/lifecycle/types.js';
import { useTokenManager } from './context.js';

export interface UseRedirectLoginOptions extends RedirectLoginOptions {
  /** The credential the login's tokens are stored under (default `'default'`). */
  readonly key?: string;
  /** The page to complete on (default `location.href`). */
  readonly url?: string;
}

export interface RedirectLoginState {
  /** `completing` while a callback URL is being exchanged; `done` once its tokens are set. */
  readonly status: 'idle' | 'completing' | 'done' | 'error';
  readonly error?: unknown;
  /** Starts a login (navigates away). */
  login(): Promise<void>;
}

/**
 * One completion per callback URL in this page, however often an effect runs (StrictMode mounts
 * twice; two components may use the hook): the second run joins the first's promise instead of
 * exchanging the code again.
 */
const completions = new Map<string, Promise<void>>();

function completeOnce(url: string, run: () => Promise<void>): Promise<void> {
  let completion = completions.get(url);
  if (!completion) {
    completion = run();
    completions.set(url, completion);
  }
  return completion;
}

function currentUrl(options: UseRedirectLoginOptions): string | undefined {
  return options.url ?? (globalThis as { location?: { href: string } }).location?.href;
}

/**
 * Redirect login for a React app: `login()` starts it; on the redirect URI's page the hook completes
 * the callback exactly once and stores the tokens with `setToken`. Pass options that do not change
 * between renders (a module constant or `useMemo`).
 */
export function useRedirectLogin(options: UseRedirectLoginOptions): RedirectLoginState {
  const manager = useTokenManager();
  const url = currentUrl(options);
  const pendingCallback = url !== undefined && hasRedirectLoginResponse(url);
  const [state, setState] = useState<Pick<RedirectLoginState, 'status' | 'error'>>({ status: pendingCallback ? 'completing' : 'idle' });

  useEffect(() => {
    if (!pendingCallback || url === undefined) return;
    let active = true;
    const { key = 'default', ...rest } = options;
    const completeOptions: CompleteRedirectLoginOptions = { ...rest, url };
    completeOnce(url, async () => {
      const response = await completeRedirectLogin(completeOptions);
      await manager.setToken(key, response as unknown as TokenResponse);
    }).then(
      () => active && setState({ status: 'done' }),
      (error: unknown) => active && setState({ status: 'error', error }),
    );
    return () => {
      active = false;
    };
    // The options are read once per callback URL: a completion is not redone when they change.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [manager, url, pendingCallback]);

  const login = useCallback(async () => {
    const { key: _key, url: _url, ...rest } = options;
    await redirectLogin(rest);
  }, [options]);

  return { ...state, login };
}
