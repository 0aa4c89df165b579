/**
 * `authFetch(manager)`: a `fetch` that attaches the access token and applies R10 on 401: one renewal
 * (the manager decides: the current token if the request carried an older one, else one single-flight
 * refresh) and one retry; whatever the retry answers goes back to the caller. Never a loop.
 */
import { authorizationHeader } from './authorization.js';
import { discardBody } from './cancel.js';
import { isRenewable } from './challenge.js';
import { DEFAULT_KEY, type AuthFetchOptions, type FetchLike, type HttpTokenSource } from './options.js';
import { snapshotBody } from './replay.js';
import type { TokenSet } from '../../machines/types.js';

function withAuthorization(base: HeadersInit | undefined, token: TokenSet): Headers {
  const headers = new Headers(base);
  headers.set('authorization', authorizationHeader(token));
  return headers;
}

export function authFetch(manager: HttpTokenSource, options: AuthFetchOptions = {}): FetchLike {
  const key = options.key ?? DEFAULT_KEY;
  const send: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  return async function fetchWithToken(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const request = input instanceof Request ? input : undefined;
    const signal = init?.signal ?? request?.signal ?? undefined;
    const waitOptions = signal ? { signal } : undefined;
    const token = await manager.getToken(key, waitOptions);

    // `init.headers` replaces a Request's headers (Fetch §5.4), so start from whichever applies.
    const baseHeaders = init?.headers !== undefined ? init.headers : request?.headers;
    const hasInitBody = init?.body !== undefined && init.body !== null;
    const snapshot = snapshotBody(init?.body);
    // A Request's body is replayed from a clone taken before sending (a tee, as `Request.clone()`
    // and ky do); without a body the clone is free.
    const spare = request && snapshot.replayable ? request.clone() : undefined;
    if (spare && hasInitBody) discardBody(spare); // init.body wins; the clone's body is unused

    const initFor = (t: TokenSet): RequestInit => ({
      ...init,
      ...(hasInitBody && snapshot.replayable ? { body: snapshot.body } : {}),
      headers: withAuthorization(baseHeaders, t),
    });

    let first: Response;
    try {
      first = await send(input, initFor(token));
    } catch (error) {
      discardBody(spare);
      throw error;
    }
    if (!isRenewable(first)) {
      discardBody(spare);
      return first;
    }

    let renewed: TokenSet | undefined;
    try {
      renewed = await manager.renewAfterUnauthorized(key, token.accessToken, waitOptions);
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
    return send(spare ?? input, initFor(renewed));
  };
}
