/**
 * Redirect login for the framework bindings (React's `useRedirectLogin`, Vue's): the callback of a
 * page is completed exactly once, however often a component asks (StrictMode mounts twice; two
 * components may use the hook; a Vue component may be set up again), and its tokens stored with
 * `setToken`.
 */
import {
  completeRedirectLogin,
  hasRedirectLoginResponse,
  redirectLogin,
  type CompleteRedirectLoginOptions,
  type RedirectLoginOptions,
} from '../oauth2/redirect-login.js';
import type { TokenResponse } from '../../machines/lifecycle/types.js';
import type { TokenManager } from '../../machines/manager/api-types.js';

export interface UseRedirectLoginOptions extends RedirectLoginOptions {
  /** The credential the login's tokens are stored under (default `'default'`). */
  readonly key?: string;
  /** The page to complete on (default `location.href`). */
  readonly url?: string;
}

/** `completing` while a callback URL is being exchanged; `done` once its tokens are set. */
export type RedirectLoginStatus = 'idle' | 'completing' | 'done' | 'error';

const completions = new Map<string, Promise<void>>();

/** The page's URL when it holds a login response (a code or an error) to complete, else nothing. */
export function pendingCallbackUrl(options: UseRedirectLoginOptions): string | undefined {
  const url = options.url ?? (globalThis as { location?: { href: string } }).location?.href;
  return url !== undefined && hasRedirectLoginResponse(url) ? url : undefined;
}

/** Completes the callback at `url` into `manager`: the first call exchanges the code, later ones join it. */
export function completeLoginOnce(manager: TokenManager, options: UseRedirectLoginOptions, url: string): Promise<void> {
  let completion = completions.get(url);
  if (!completion) {
    const { key = 'default', url: _url, ...rest } = options;
    const completeOptions: CompleteRedirectLoginOptions = { ...rest, url };
    completion = completeRedirectLogin(completeOptions).then((response) => manager.setToken(key, response as unknown as TokenResponse)).then(() => undefined);
    completions.set(url, completion);
  }
  return completion;
}

/** Starts a login: navigates away to the authorization server. */
export function startRedirectLogin(options: UseRedirectLoginOptions): Promise<void> {
  const { key: _key, url: _url, ...rest } = options;
  return redirectLogin(rest).then(() => undefined);
}
