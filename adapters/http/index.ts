// token-lifecycle/adapters/http: ky options (kyAuth), ky hooks and a fetch wrapper that attach the
// access token and refresh once on 401 (R10). Guide: docs/http.md.
export { kyAuth, type KyAuth } from './ky-auth.js';
export { kyHooks, type KyAuthHooks } from './ky-hooks.js';
export { authFetch } from './auth-fetch.js';
export { authorizationHeader } from './authorization.js';
export { isInsufficientScope } from './challenge.js';
export type { AuthFetchOptions, FetchInput, FetchLike, HttpTokenSource, KyAuthOptions, KyHooksOptions } from './options.js';
