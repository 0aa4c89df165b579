/**
 * Re-sends a request from inside a ky `afterResponse` hook with plain fetch: not through ky again, so
 * no hook runs twice and ky's retry counter is untouched (with `retry: 0`, `ky.retry()` would throw
 * instead of retrying; recipes/toolchain.md). What ky would apply per attempt is applied here too:
 * its `fetch` option, its `timeout` (rejecting with ky's `TimeoutError`), the abort signal, and the
 * fetch-only options ky forwards (e.g. undici's `dispatcher`).
 * ky is an optional peer dependency: its `TimeoutError` class is loaded only when a timeout strikes
 * (this code runs inside a ky hook, so ky is installed then), and this module imports ky's types only.
 */
import type { NormalizedOptions } from 'ky';
import type { FetchLike } from './options.js';

/** What ky 1.14 keeps in the options it hands to hooks beyond the typed `NormalizedOptions`. */
interface KyRuntimeOptions {
  fetch?: FetchLike;
  timeout?: number | false;
}

// ky's own option names and the RequestInit members ky applies to the Request itself
// (ky 1.14 core/constants.js; not exported): the rest are fetch-only options, forwarded as ky does.
const NOT_FOR_FETCH = new Set([
  'json', 'parseJson', 'stringifyJson', 'searchParams', 'prefixUrl', 'retry', 'timeout', 'hooks',
  'throwHttpErrors', 'onDownloadProgress', 'onUploadProgress', 'fetch', 'context',
  'method', 'headers', 'body', 'mode', 'credentials', 'cache', 'redirect', 'referrer', 'referrerPolicy',
  'integrity', 'keepalive', 'signal', 'window', 'duplex',
]);

function fetchOnlyOptions(request: Request, options: NormalizedOptions): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options)) {
    if (!NOT_FOR_FETCH.has(name) && !(name in request)) extra[name] = value;
  }
  return extra;
}

/**
 * Sends a copy of `request` (left unread for ky) with the headers `authorize` sets (the Authorization
 * header, and a fresh DPoP proof for a DPoP token) replacing its own.
 */
export async function resend(request: Request, options: NormalizedOptions, authorize: (headers: Headers) => Promise<void>): Promise<Response> {
  const runtime = options as NormalizedOptions & KyRuntimeOptions;
  const send: FetchLike = runtime.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const headers = new Headers(request.headers);
  await authorize(headers);
  // The clone carries the same body bytes (ky's request is itself a tee'd clone) and ky's signal.
  const retry = new Request(request.clone(), { headers });
  const timeout = runtime.timeout;
  const sending = send(retry, fetchOnlyOptions(retry, options));
  if (typeof timeout !== 'number') return sending;
  return new Promise<Response>((resolve, reject) => {
    const timer = setTimeout(() => {
      import('ky').then(({ TimeoutError }) => reject(new TimeoutError(retry)), reject);
    }, timeout);
    sending.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}
