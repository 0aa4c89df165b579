/**
 * Reads a response body as UTF-8 text, at most `maxBytes` of it (hostile or broken servers cannot
 * make us hold a 50 MB body): a `Content-Length` over the limit is refused before any byte is read,
 * and a body without one is streamed with a byte counter and cancelled as soon as it passes the limit.
 * Web streams and TextDecoder only (browser-safe).
 */
export class ResponseTooLargeError extends Error {
  readonly status: number;
  readonly maxBytes: number;
  constructor(status: number, maxBytes: number) {
    super(`the response body is larger than ${maxBytes} bytes (HTTP ${status})`);
    this.name = 'ResponseTooLargeError';
    this.status = status;
    this.maxBytes = maxBytes;
  }
}

/** Stateless between calls (no `stream` option), so one serves every response. */
const utf8 = new TextDecoder();

/** `onReader` hands the reader to a caller that may need to cancel it (a timeout, an abort). */
export async function readLimitedText(
  response: Response,
  maxBytes: number,
  onReader?: (reader: ReadableStreamDefaultReader<Uint8Array>) => void,
): Promise<string> {
  const declared = response.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) {
    void response.body?.cancel().catch(() => undefined);
    throw new ResponseTooLargeError(response.status, maxBytes);
  }
  const stream = response.body;
  if (!stream) return '';
  const reader = stream.getReader();
  onReader?.(reader);
  // The chunks are kept and decoded once at the end (a token response is one chunk, decoded as it
  // came): a multi-byte character split across chunks is decoded whole.
  let first: Uint8Array | undefined;
  let more: Uint8Array[] | undefined;
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      void reader.cancel().catch(() => undefined);
      throw new ResponseTooLargeError(response.status, maxBytes);
    }
    if (first === undefined) first = value;
    else (more ??= []).push(value);
  }
  if (first === undefined) return '';
  if (more === undefined) return utf8.decode(first);
  const whole = new Uint8Array(bytes);
  whole.set(first, 0);
  let at = first.byteLength;
  for (const chunk of more) {
    whole.set(chunk, at);
    at += chunk.byteLength;
  }
  return utf8.decode(whole);
}
