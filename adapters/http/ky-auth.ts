/**
 * `kyAuth(manager)`: ky options `{ hooks: { beforeRequest }, fetch }`, the behaviour of `kyHooks`
 * without an `afterResponse` hook. With any `afterResponse` hook ky clones every response (a body tee)
 * to hand it over, which was nearly all of the integration's cost (docs/performance.md). Here the hook
 * attaches the token, and R10 runs in the `fetch` ky calls for each attempt: `authFetch`, reading the
 * token the hook attached instead of setting it again. Its retry is inside one ky attempt, so ky's
 * retry counter never sees it (works with `retry: 0`).
 */
import type { BeforeRequestHook } from 'ky';
import { tokenFetch } from './auth-fetch.js';
import { credentialsOf } from './authorization.js';
import { tokenHook } from './ky-hooks.js';
import { DEFAULT_KEY, type FetchLike, type HttpTokenSource, type KyAuthOptions } from './options.js';

/** Options for `ky.extend()` / `ky.create()`: spread them into your own (docs/http.md). */
export interface KyAuth {
  hooks: { beforeRequest: BeforeRequestHook[] };
  fetch: FetchLike;
}

export function kyAuth(manager: HttpTokenSource, options: KyAuthOptions = {}): KyAuth {
  const key = options.key ?? DEFAULT_KEY;
  // ky hands `fetch` the very Request its hooks saw. Each is mapped to its ky call, identified (as in
  // kyHooks) by the abort signal ky creates for the call, stable across ky's own retries: one R10
  // retry per call, not per attempt.
  const callOf = new WeakMap<Request, object>();
  const retriedCalls = new WeakSet<object>();

  const attachToken = tokenHook(manager, key, (request, kyOptions) => {
    callOf.set(request, kyOptions.signal ?? request);
  });

  // A request the hook did not see (another hook replaced it, or this fetch is used on its own) gets
  // its token here, as from `authFetch`.
  const fetch = tokenFetch(manager, options, {
    carried: (input) => (input instanceof Request && callOf.has(input) ? credentialsOf(input.headers.get('authorization')) : undefined),
    claimRetry: (input) => {
      const call = input instanceof Request ? callOf.get(input) : undefined;
      if (call === undefined) return true;
      if (retriedCalls.has(call)) return false;
      retriedCalls.add(call);
      return true;
    },
  });

  return { hooks: { beforeRequest: [attachToken] }, fetch };
}
