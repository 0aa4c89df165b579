/**
 * `redirectLogin(options)` / `completeRedirectLogin(options)`: authorization code + PKCE S256 by a
 * full-page redirect, for browser apps (R17, RFC 6749 §4.1, RFC 7636). Browser-safe (R16): WebCrypto
 * through pkce.ts, no Node built-in.
 *
 * `redirectLogin` keeps the pending login (state, PKCE verifier, redirect URI) in sessionStorage, so
 * it survives the round trip in this tab only, and navigates to the authorization endpoint. The page
 * at the redirect URI calls `completeRedirectLogin`, which checks `state`, takes the pending login out
 * (before anything is awaited, so two completions in one tab cannot both get it) and exchanges the
 * code once; a second completion of the same redirect is `login_already_completed`.
 */
import {
  InvalidConfigError,
  LoginAlreadyCompletedError,
  LoginFailedError,
  oauthError,
} from '../../machines/lifecycle/errors.js';
import { authorizationUrl } from './authorization-url.js';
import { loginClient, type LoginClientOptions, type LoginTokenResponse } from './login-client.js';
import { createPkce, createState, stateMatches } from './pkce.js';
import {
  completedBefore,
  markCompleted,
  readPending,
  resolveStore,
  writePending,
  type RedirectLoginStore,
} from './redirect-store.js';
import { requireSecureUrl } from './secure-url.js';

export type { RedirectLoginStore } from './redirect-store.js';

interface PendingStoreOptions {
  /**
   * Where the pending login waits for the redirect back (default `sessionStorage`: this tab only,
   * gone with the tab). Anything with `getItem`/`setItem`/`removeItem`.
   */
  store?: RedirectLoginStore;
  /** Name of the entry in `store` (default `token-lifecycle:redirect-login`): one per concurrent login. */
  storeKey?: string;
}

export interface RedirectLoginOptions extends LoginClientOptions, PendingStoreOptions {
  /** The app's page that completes the login (registered with the server): https, or http on loopback. */
  redirectUri: string;
  /** Authorization endpoint; default: discovered (`authorization_endpoint`). */
  authorizationUrl?: string;
  /** More authorization request parameters (e.g. `{ prompt: 'consent' }`); not the ones set here. */
  authorizationParams?: Record<string, string>;
  /** Goes to the authorization URL (default `location.assign`); tests and routers pass their own. */
  navigate?: (url: string) => void;
}

/** The same options as `redirectLogin` do (`redirectUri` and `navigate` are not needed). */
export interface CompleteRedirectLoginOptions extends LoginClientOptions, PendingStoreOptions {
  /** The URL the server redirected to (default `location.href`). */
  url?: string;
}

const DEFAULT_STORE_KEY = 'token-lifecycle:redirect-login';
const RESERVED = new Set(['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'dpop_jkt']);
// RFC 6749 §4.1.2.1: an error code is printable ASCII without `"` and `\`.
const ERROR_CODE = /^[\x20-\x21\x23-\x5B\x5D-\x7E]{1,64}$/;

interface BrowserGlobals {
  location?: { href: string; assign(url: string): void };
}
const browser = globalThis as BrowserGlobals;

/**
 * Starts the login: keeps `state` and the PKCE verifier in the store, then navigates to the
 * authorization endpoint. Resolves to the authorization URL once navigation is asked for (the page
 * then unloads). Rejects before navigating with `invalid_config`, `insecure_endpoint` or discovery
 * errors.
 */
export async function redirectLogin(options: RedirectLoginOptions): Promise<string> {
  if (typeof options !== 'object' || options === null) throw new InvalidConfigError('redirectLogin needs options');
  const redirectUri = requireSecureUrl(String(options.redirectUri), 'redirectUri').href;
  for (const name of Object.keys(options.authorizationParams ?? {})) {
    if (RESERVED.has(name)) throw new InvalidConfigError(`authorizationParams may not set ${name}: the login sets it`);
  }
  const navigate = options.navigate ?? defaultNavigate();
  const store = resolveStore(options.store);
  const storeKey = options.storeKey ?? DEFAULT_STORE_KEY;
  const client = loginClient(options);
  options.signal?.throwIfAborted();
  const endpoint = await client.endpointUrl('authorization_endpoint', options.authorizationUrl, options.signal);

  const pkce = await createPkce();
  const state = createState();
  const url = await authorizationUrl(endpoint, { ...options, redirectUri, state, pkce });

  writePending(store, storeKey, { state, verifier: pkce.verifier, redirectUri, clientId: options.clientId, createdAt: Date.now() });
  navigate(url.href);
  return url.href;
}

/** True when `url` (default `location.href`) carries an authorization response (`code`, `error` or `state`). */
export function hasRedirectLoginResponse(url: string = currentUrl()): boolean {
  const params = new URL(url).searchParams;
  return params.has('code') || params.has('error') || params.has('state');
}

/**
 * Finishes the login on the redirect URI's page: resolves to the token response, ready for
 * `manager.setToken`. Rejects with `login_failed` (no pending login in this tab, a wrong `state`,
 * a wrong `iss`, no code), `login_already_completed` (this redirect was completed before; nothing
 * is sent), the server's error code (`access_denied`, ...), or the token endpoint's errors.
 * Remove the code from the address bar afterwards (`history.replaceState`): docs/browser.md.
 */
export async function completeRedirectLogin(options: CompleteRedirectLoginOptions): Promise<LoginTokenResponse> {
  if (typeof options !== 'object' || options === null) throw new InvalidConfigError('completeRedirectLogin needs options');
  const store = resolveStore(options.store);
  const storeKey = options.storeKey ?? DEFAULT_STORE_KEY;
  const client = loginClient(options);
  const params = new URL(options.url ?? currentUrl()).searchParams;
  const state = params.get('state');
  if (state === null) throw new LoginFailedError('the URL carries no authorization response (no state)');

  // Everything up to the exchange runs before the first await: a second completion, even one
  // started in the same tick, finds the login spent.
  if (completedBefore(store, storeKey, state)) throw new LoginAlreadyCompletedError();
  const pending = readPending(store, storeKey);
  if (!pending) throw new LoginFailedError('no redirect login is pending in this tab (started in another tab, or its storage was cleared)');
  if (!stateMatches(pending.state, state)) throw new LoginFailedError('the state does not match the login started in this tab');
  if (pending.clientId !== options.clientId) throw new InvalidConfigError('completeRedirectLogin has another clientId than the login it completes');
  markCompleted(store, storeKey, state);

  // RFC 9207: a server that names itself must be the one we asked (mix-up defence).
  const iss = params.get('iss');
  if (iss !== null && options.issuer !== undefined && iss !== options.issuer) {
    throw new LoginFailedError('the redirect came from another issuer than the configured one (RFC 9207)');
  }
  const error = params.get('error');
  // The error code only; the description is the server's text, not shown.
  if (error !== null) throw oauthError(ERROR_CODE.test(error) ? error : 'invalid_request', { retryable: false });
  const code = params.get('code');
  if (!code) throw new LoginFailedError('the redirect carried no authorization code');
  return client.requestToken(
    new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: pending.redirectUri, code_verifier: pending.verifier }),
    options.signal,
  );
}

function defaultNavigate(): (url: string) => void {
  const location = browser.location;
  if (!location) throw new InvalidConfigError('redirectLogin needs a navigate function outside a browser');
  return (url) => location.assign(url);
}

function currentUrl(): string {
  const href = browser.location?.href;
  if (href === undefined) throw new InvalidConfigError('completeRedirectLogin needs a url outside a browser');
  return href;
}
