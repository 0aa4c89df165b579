import type { TokenManager } from '../../machines/manager/api-types.js';

/** A `fetch`-compatible function. */
export type FetchLike = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

/** The part of the manager the HTTP adapters use. */
export type HttpTokenSource = Pick<TokenManager, 'getToken' | 'renewAfterUnauthorized'>;

export interface KyHooksOptions {
  /** Credential key (default `'default'`). */
  key?: string;
}

export interface AuthFetchOptions extends KyHooksOptions {
  /** The fetch to wrap (default `globalThis.fetch`): proxies, custom CAs, tests. */
  fetch?: FetchLike;
}

export const DEFAULT_KEY = 'default';

/** `kyAuth` options: `fetch` is what its fetch sends with (pass yours here, not to ky: docs/http.md). */
export type KyAuthOptions = AuthFetchOptions;
