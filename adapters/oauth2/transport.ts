import ky, { TimeoutError, type KyInstance } from 'ky';

/** A response read in full: status, headers and the body as text. */
export interface RawResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/**
 * The request never got a complete response: the network failed or the timeout struck. Internal:
 * each caller turns it into its own typed error (refresh_failed, discovery_failed, revocation_failed).
 * The cause is the network error only: ky's `TimeoutError` is not kept, as it holds the `Request`
 * (with the client's `Authorization` header).
 */
export class TransportError extends Error {
  readonly kind: 'timeout' | 'network';
  constructor(kind: 'timeout' | 'network', message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'TransportError';
    this.kind = kind;
  }
}

export interface TransportOptions {
  readonly timeoutMs: number;
  readonly fetch?: typeof fetch;
}

export interface SendOptions {
  readonly method: 'GET' | 'POST';
  readonly headers?: Headers;
  readonly body?: URLSearchParams;
  readonly signal?: AbortSignal;
}

export type Send = (url: URL, options: SendOptions) => Promise<RawResponse>;

/**
 * One ky instance, configured once: no retries (the manager owns backoff), statuses mapped by the
 * callers, redirects not followed (a redirect must not carry client credentials elsewhere), JSON asked for.
 * ky's `timeout` bounds the wait for the headers; the rest of the same budget bounds the body, so a
 * server that stalls mid-body still times out. Aborting `signal` rejects with its reason, unchanged.
 * No signal of our own is passed to ky: combining signals (`AbortSignal.any`) costs more per request
 * than the rest of this function; the body deadline cancels the body's reader instead.
 */
export function createTransport(options: TransportOptions): Send {
  const client: KyInstance = ky.create({
    retry: 0,
    throwHttpErrors: false,
    timeout: options.timeoutMs,
    redirect: 'manual',
    headers: { accept: 'application/json' },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });

  return async (url, { method, headers, body, signal }) => {
    signal?.throwIfAborted();
    const startedAt = performance.now();
    try {
      const response = await client(url, { method, headers, body, ...(signal ? { signal } : {}) });
      const remaining = Math.max(0, options.timeoutMs - (performance.now() - startedAt));
      const text = await readText(response, remaining);
      return { status: response.status, headers: response.headers, text };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof TimeoutError || error instanceof BodyTimeout) {
        throw new TransportError('timeout', `No response within ${options.timeoutMs} ms`);
      }
      throw new TransportError('network', describe(error), error);
    }
  };
}

class BodyTimeout extends Error {}

/** The body as UTF-8 text, within `ms`: past it, the reader is cancelled (closing the stream) and BodyTimeout thrown. */
async function readText(response: Response, ms: number): Promise<string> {
  const stream = response.body;
  if (!stream) return '';
  const reader = stream.getReader();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void reader.cancel().catch(() => undefined);
  }, ms);
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (timedOut) throw new BodyTimeout();
      if (done) return text + decoder.decode();
      text += decoder.decode(value, { stream: true });
    }
  } catch (error) {
    // Our cancel can also surface as a read error. An abort of the caller's signal errors the stream
    // too: the transport turns that into the signal's reason.
    if (timedOut) throw new BodyTimeout();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** A short reason for a network failure: undici wraps the system error (`ECONNREFUSED`) as `cause`. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown error';
  const cause = error.cause;
  if (!(cause instanceof Error)) return error.message;
  const code = (cause as { code?: unknown }).code;
  return `${error.message} (${typeof code === 'string' ? code : cause.message})`;
}
