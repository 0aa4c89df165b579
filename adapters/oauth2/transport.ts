import { networkFailureText } from '../../machines/lifecycle/server-text.js';
import { readLimitedText } from './read-body.js';

/** A response read in full: status, headers and the body as text. */
export interface RawResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/**
 * The request never got a complete response: the network failed or the timeout struck. Internal:
 * each caller turns it into its own typed error (refresh_failed, discovery_failed, revocation_failed).
 * No cause is kept: undici's errors hold the URL (credentials and all) and, for a response that
 * is not HTTP, the bytes the server sent (R13); nothing holding the `Request` (with the client's
 * `Authorization` header) either. The message names the failure's code only (server-text.ts).
 */
export class TransportError extends Error {
  readonly kind: 'timeout' | 'network';
  constructor(kind: 'timeout' | 'network', message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'TransportError';
    this.kind = kind;
  }
}

/**
 * What `oauth2Endpoint({ ky })` needs of a ky instance: callable with a URL and options. Structural,
 * so this adapter's types do not need ky installed (ky is an optional peer dependency).
 */
export type KyLike = (url: URL, options: KyRequestOptions) => PromiseLike<Response>;
export interface KyRequestOptions extends RequestInit {
  retry: number;
  throwHttpErrors: boolean;
  timeout: false;
}

export interface TransportOptions {
  readonly timeoutMs: number;
  /** Bodies larger than this are refused (`ResponseTooLargeError`), read no further. */
  readonly maxResponseBytes: number;
  readonly fetch?: typeof fetch;
  /** Send through this ky instance instead (its hooks see the request); `fetch` is then ignored. */
  readonly ky?: KyLike;
}

export interface SendOptions {
  readonly method: 'GET' | 'POST';
  readonly headers?: Headers;
  readonly body?: URLSearchParams;
  readonly signal?: AbortSignal;
  /**
   * Asks that a request which times out before its answer is kept for one more timeout: the caller
   * is rejected on time as ever, and this receives, at once, the promise of the late answer (or of
   * nothing). A refresh whose server rotated the refresh token has that token only in this answer.
   */
  readonly keepLate?: (answer: Promise<RawResponse | undefined>) => void;
}

export type Send = (url: URL, options: SendOptions) => Promise<RawResponse>;

/**
 * The default transport is plain `fetch`, no retries (the manager owns backoff), statuses mapped by
 * the callers, redirects not followed (a redirect must not carry client credentials elsewhere; see
 * `isNodeFetch`), JSON asked for. One timer bounds the whole exchange, headers and body: it settles at once, even
 * with a `fetch` that ignores its signal, and ends the request: by our abort signal, or on Node's own
 * fetch by undici's per-request timeouts (`undiciTimeouts`) and the body's reader.
 * Aborting the caller's `signal` rejects with its reason, unchanged. Through a user's ky instance
 * the same timer, limits and checks apply: ky's own retries and timeout are turned off for the call.
 */
export function createTransport(options: TransportOptions): Send {
  const { timeoutMs, maxResponseBytes } = options;
  const request = requester(options);
  const nodeFetch = !options.ky && isNodeFetch();
  const redirectMode: RequestRedirect = nodeFetch ? 'error' : 'manual';
  // A request kept for its late answer runs up to two timeouts: undici must not end it at one.
  const undici = nodeFetch && !options.fetch ? { once: undiciTimeouts(timeoutMs), kept: undiciTimeouts(2 * timeoutMs) } : undefined;
  return (url, { method, headers, body, signal, keepLate }) => {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const requestHeaders = headers ?? new Headers();
    requestHeaders.set('accept', 'application/json');
    return new Promise<RawResponse>((resolve, reject) => {
      // Node's own fetch with no caller signal: undici's per-request timeouts end a stalled request,
      // instead of an AbortSignal (see undiciTimeouts). Anything else gets our controller.
      const dispatcher = signal ? undefined : (keepLate ? undici?.kept : undici?.once)?.();
      const controller = dispatcher ? undefined : new AbortController();
      let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
      let settled = false;
      /** Set while a timed-out request is kept for its answer (`keepLate`): ends that wait. */
      let late: ((response: RawResponse | undefined) => void) | undefined;
      const abortRequest = (reason?: unknown): void => {
        controller?.abort(reason);
        if (reader) void reader.cancel().catch(() => undefined);
      };
      const stop = (error: unknown, abortReason?: unknown): void => {
        if (settled) return;
        settled = true;
        finish();
        abortRequest(abortReason);
        reject(error);
      };
      const timedOut = (): void => {
        const error = new TransportError('timeout', `No response within ${timeoutMs} ms`);
        if (!keepLate) return stop(error);
        settled = true;
        finish();
        reject(error);
        keepLate(
          new Promise((resolveLate) => {
            const grace = setTimeout(() => late?.(undefined), timeoutMs);
            late = (response) => {
              late = undefined;
              clearTimeout(grace);
              if (!response) abortRequest();
              resolveLate(response);
            };
          }),
        );
      };
      const succeed = (response: RawResponse): void => {
        if (late) return late(response);
        if (settled) return;
        settled = true;
        finish();
        resolve(response);
      };
      const onAbort = (): void => stop(signal?.reason, signal?.reason);
      const timer = setTimeout(timedOut, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      signal?.addEventListener('abort', onAbort);

      const init: RequestInit & { dispatcher?: unknown } = { method, headers: requestHeaders, redirect: redirectMode };
      if (controller) init.signal = controller.signal;
      else init.dispatcher = dispatcher;
      if (nodeFetch) init.window = null;
      if (body) init.body = body;
      let pending: PromiseLike<Response>;
      try {
        pending = request(url, init);
      } catch (error) {
        pending = Promise.reject(error);
      }
      const fail = (error: unknown): void => {
        if (late) return late(undefined);
        if (settled) return;
        if (isRefusedRedirect(error)) {
          succeed(opaqueRedirect());
          return;
        }
        stop(isTooLarge(error) ? error : new TransportError('network', describe(error)));
      };
      // One hop from the response to the caller: read, then settle (or fail) in the same function.
      const read = async (response: Response): Promise<void> => {
        let text: string;
        try {
          if (settled && !late) {
            // Timed out or aborted before this response came (a fetch that ignores its signal): read nothing.
            void response.body?.cancel().catch(() => undefined);
            return;
          }
          text = await readLimitedText(response, maxResponseBytes, (r) => (reader = r));
        } catch (error) {
          fail(error);
          return;
        }
        succeed({ status: response.status, headers: response.headers, text });
      };
      pending.then(read, fail);
    });
  };
}

/**
 * Redirects are never followed. Node's fetch (undici) copies every request, body stream and all,
 * unless it has no window and its redirect mode is 'error' (Fetch, "HTTP-network-or-cache fetch"
 * step 5): the copy was a tenth of a refresh. So on Node fetch refuses a redirect itself, and we
 * report it as a browser reports one under 'manual': an opaque redirect, status 0, nothing read.
 * Browsers (and ky, which builds its own Request) keep 'manual'. Every caller maps status 0 as any
 * redirect: `unexpected_response`, `discovery_failed`, a permanent revocation failure.
 */
function isNodeFetch(): boolean {
  const runtime = (globalThis as { process?: { versions?: { node?: unknown } } }).process;
  return typeof runtime?.versions?.node === 'string';
}

/** Where every copy of undici keeps the dispatcher Node's `fetch` sends through. */
const UNDICI_DISPATCHER = Symbol.for('undici.globalDispatcher.1');
export interface UndiciDispatcher {
  dispatch(options: { headersTimeout?: number; bodyTimeout?: number }, handler: unknown): boolean;
}

/**
 * Node's `fetch` turns a request's AbortSignal into a WeakRef, a FinalizationRegistry entry and a
 * listener: a twentieth of a refresh. Without one, the request goes through a dispatcher that hands
 * it to undici's own (a user's proxy agent included) with undici's per-request `headersTimeout` and
 * `bodyTimeout` set to ours: undici then ends a stalled request itself and frees its socket, as our
 * abort did (issue 21). Our timer still settles the caller on time and cancels a body being read.
 * Before Node's first `fetch` there is no global dispatcher yet: that request takes a signal.
 */
export function undiciTimeouts(ms: number): () => UndiciDispatcher | undefined {
  const dispatcher: UndiciDispatcher = {
    dispatch(options, handler) {
      options.headersTimeout = options.bodyTimeout = ms;
      return ((globalThis as Record<symbol, UndiciDispatcher>)[UNDICI_DISPATCHER] as UndiciDispatcher).dispatch(options, handler);
    },
  };
  return () => ((globalThis as Record<symbol, unknown>)[UNDICI_DISPATCHER] ? dispatcher : undefined);
}

function opaqueRedirect(): RawResponse {
  return { status: 0, headers: new Headers(), text: '' };
}

/** undici's refusal under redirect 'error': `TypeError('fetch failed', { cause: Error('unexpected redirect') })`. */
function isRefusedRedirect(error: unknown): boolean {
  return error instanceof TypeError && error.cause instanceof Error && error.cause.message === 'unexpected redirect';
}

function requester(options: TransportOptions): (url: URL, init: RequestInit) => PromiseLike<Response> {
  const { ky, fetch: fetchImpl } = options;
  if (ky) return (url, init) => ky(url, { ...init, retry: 0, throwHttpErrors: false, timeout: false });
  if (fetchImpl) return fetchImpl;
  // Looked up per call, so a `fetch` patched after construction (instrumentation) is used.
  return (url, init) => fetch(url, init);
}

function isTooLarge(error: unknown): boolean {
  return error instanceof Error && error.name === 'ResponseTooLargeError';
}

/**
 * A short reason for a network failure: the system or undici code (`ECONNREFUSED`), never a message,
 * which may quote the URL or the server's bytes (server-text.ts).
 */
export function describe(error: unknown): string {
  return networkFailureText(error);
}
