import type { TokenManager } from '../../machines/manager/api-types.js';

/**
 * A `fetch`-compatible function. The input is spelled out (the DOM lib's `RequestInfo | URL`) because
 * `RequestInfo` is DOM-only: a Node project without the DOM lib must type-check against these types.
 */
export type FetchLike = (input: FetchInput, init?: RequestInit) => Promise<Response>;

/** What `fetch` takes as its first argument, in the DOM lib and in @types/node alike. */
export type FetchInput = string | URL | Request;

/** The part of the manager the HTTP adapters use; `dpop` (R20) when its endpoint binds tokens to a key. */
export type HttpTokenSource = Pick<TokenManager, 'getToken' | 'renewAfterUnauthorized' | 'dpop'>;

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
