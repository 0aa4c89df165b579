/**
 * `authFetch(manager)`: a `fetch` that attaches the access token and applies R10 on 401: one renewal
 * (the manager decides: the current token if the request carried an older one, else one single-flight
 * refresh) and one retry; whatever the retry answers goes back to the caller. Never a loop.
 */
import { discardBody } from './cancel.js';
import { asksForDpopNonce, isRenewable } from './challenge.js';
import { applyToken, carriedToken, requestMethod, requestUrl, type TokenView } from './dpop.js';
import { DEFAULT_KEY, type AuthFetchOptions, type FetchInput, type FetchLike, type HttpTokenSource } from './options.js';
import { snapshotBody } from './replay.js';
import type { TokenSet } from '../../machines/lifecycle/types.js';

/**
 * For a caller that attaches the token before this fetch runs (`kyAuth`'s `beforeRequest` hook), so
 * the header is not set twice and the one retry is counted per call rather than per fetch.
 */
export interface AttachedToken {
  /** The access token `input` already carries, or undefined: then this fetch gets one and sets it. */
  carried(input: FetchInput): string | undefined;
  /** Takes the call's one R10 retry; false when an earlier attempt of the same call had it. */
  claimRetry(input: FetchInput): boolean;
}

export function authFetch(manager: HttpTokenSource, options: AuthFetchOptions = {}): FetchLike {
  return tokenFetch(manager, options);
}

/** `authFetch`, optionally after a hook that has attached the token already (see `AttachedToken`). */
export function tokenFetch(manager: HttpTokenSource, options: AuthFetchOptions, attached?: AttachedToken): FetchLike {
  const key = options.key ?? DEFAULT_KEY;
  const send: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  return async function fetchWithToken(input: FetchInput, init?: RequestInit): Promise<Response> {
    const request = input instanceof Request ? input : undefined;
    const signal = init?.signal ?? request?.signal ?? undefined;
    const waitOptions = signal ? { signal } : undefined;
    // The token the first send carries: attached already (a string), or from the manager.
    const token: TokenSet | string = attached?.carried(input) ?? (await manager.getToken(key, waitOptions));

    // `init.headers` replaces a Request's headers (Fetch §5.4), so start from whichever applies.
    const baseHeaders = init?.headers !== undefined ? init.headers : request?.headers;
    const hasInitBody = init?.body !== undefined && init.body !== null;
    const snapshot = snapshotBody(init?.body);
    // A Request's body is replayed from a clone taken before sending (a tee, as `Request.clone()`
    // and ky do). A Request without a body can be sent twice as it is: no clone.
    const spare = request && request.body !== null && snapshot.replayable ? request.clone() : undefined;
    if (spare && hasInitBody) discardBody(spare); // init.body wins; the clone's body is unused

    const { dpop } = manager;
    const method = requestMethod(input, init);
    const url = requestUrl(input);
    // Each send gets its own headers: Authorization, and for a DPoP token a fresh proof (R20).
    const initFor = async (t: TokenView): Promise<RequestInit> => {
      const headers = new Headers(baseHeaders);
      await applyToken(headers, t, method, url, dpop);
      return { ...init, ...(hasInitBody && snapshot.replayable ? { body: snapshot.body } : {}), headers };
    };

    let first: Response;
    try {
      first = await send(input, typeof token === 'string' ? init : await initFor(token));
      // RFC 9449 §9: one more send with the nonce the resource server asks for, same token.
      const freshNonce = dpop?.rememberNonce(url, first.headers) === true;
      const carried = typeof token === 'string' ? carriedToken(input) : token;
      if (freshNonce && carried && asksForDpopNonce(first) && snapshot.replayable) {
        discardBody(first);
        first = await send(spare ? spare.clone() : input, await initFor(carried));
        dpop?.rememberNonce(url, first.headers);
      }
    } catch (error) {
      discardBody(spare);
      throw error;
    }
    if (!isRenewable(first) || (attached !== undefined && !attached.claimRetry(input))) {
      discardBody(spare);
      return first;
    }

    let renewed: TokenSet | undefined;
    try {
      const rejected = typeof token === 'string' ? token : token.accessToken;
      renewed = await manager.renewAfterUnauthorized(key, rejected, waitOptions);
    } catch (error) {
      discardBody(spare);
      discardBody(first);
      throw error;
    }
    // No token to retry with, or a one-shot stream body: the 401 goes back to the caller. (A stream
    // caller who sends again gets the renewed token.)
    if (!renewed || !snapshot.replayable) {
      discardBody(spare);
      return first;
    }
    discardBody(first);
    let retryInit: RequestInit;
    try {
      retryInit = await initFor(renewed);
    } catch (error) {
      discardBody(spare);
      throw error;
    }
    const retried = await send(spare ?? input, retryInit);
    dpop?.rememberNonce(url, retried.headers);
    return retried;
  };
}
