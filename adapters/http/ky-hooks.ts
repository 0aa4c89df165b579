/**
 * `kyHooks(manager)`: hooks for `ky.extend({ hooks })`. `beforeRequest` attaches the access token;
 * `afterResponse` applies R10 to a 401: one renewal through the manager and one re-send done here
 * (not via `ky.retry()`, so it works with `retry: 0` and costs none of the caller's retries). The
 * response to the re-send goes back to ky as is: a second 401 reaches the caller.
 */
import type { AfterResponseHook, BeforeRequestHook, NormalizedOptions } from 'ky';
import { credentialsOf } from './authorization.js';
import { asksForDpopNonce, isRenewable } from './challenge.js';
import { applyToken, carriedToken } from './dpop.js';
import { resend } from './ky-resend.js';
import { DEFAULT_KEY, type HttpTokenSource, type KyHooksOptions } from './options.js';

export interface KyAuthHooks {
  beforeRequest: BeforeRequestHook[];
  afterResponse: AfterResponseHook[];
}

/** A `beforeRequest` hook setting the credential's `Authorization` header (shared with `kyAuth`). */
export function tokenHook(
  manager: HttpTokenSource,
  key: string,
  onAttached?: (request: Request, kyOptions: NormalizedOptions) => void,
): BeforeRequestHook {
  return async (request, kyOptions) => {
    const token = await manager.getToken(key, { signal: request.signal });
    await applyToken(request.headers, token, request.method, request.url, manager.dpop);
    onAttached?.(request, kyOptions);
  };
}

export function kyHooks(manager: HttpTokenSource, options: KyHooksOptions = {}): KyAuthHooks {
  const key = options.key ?? DEFAULT_KEY;
  // One 401 retry per ky call, also across ky's own retries of that call: the call is identified by
  // the abort signal ky creates for it (stable across its attempts), else by the request.
  const retriedCalls = new WeakSet<object>();
  const nonceRetriedCalls = new WeakSet<object>();
  const { dpop } = manager;

  const attachToken = tokenHook(manager, key);

  const renewOnUnauthorized: AfterResponseHook = async (request, kyOptions, response) => {
    const freshNonce = dpop?.rememberNonce(request.url, response.headers) === true;
    const carried = carriedToken(request);
    const nonceCall: object = kyOptions.signal ?? request;
    // RFC 9449 §9: the resource server wants a DPoP nonce: the same token, a proof with it, once per call.
    if (freshNonce && carried && asksForDpopNonce(response) && !nonceRetriedCalls.has(nonceCall)) {
      nonceRetriedCalls.add(nonceCall);
      return resend(request, kyOptions, (headers) => applyToken(headers, carried, request.method, request.url, dpop));
    }
    if (!isRenewable(response)) return;
    const call: object = kyOptions.signal ?? request;
    if (retriedCalls.has(call)) return;
    // The token this attempt carried (ky hands the hook a clone of the request that was sent).
    const rejected = credentialsOf(request.headers.get('authorization'));
    if (rejected === undefined) return;
    const renewed = await manager.renewAfterUnauthorized(key, rejected, { signal: request.signal });
    if (!renewed) return;
    retriedCalls.add(call);
    return resend(request, kyOptions, (headers) => applyToken(headers, renewed, request.method, request.url, dpop));
  };

  return { beforeRequest: [attachToken], afterResponse: [renewOnUnauthorized] };
}
