import { describe, expect, it, vi } from 'vitest';
import { oauth2Endpoint, type OAuth2EndpointOptions } from '../../../adapters/oauth2/index.js';

const TOKEN_URL = 'https://as.example/token';
const ISSUER = 'https://as.example';
const MIB = 1024 * 1024;

/** A body of `chunks` × `chunkBytes` bytes, produced on demand; `pulled` counts the bytes handed out. */
function streamedBody(chunks: number, chunkBytes: number, first = '{"access_token":"') {
  const counter = { pulled: 0 };
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === chunks) return controller.close();
      const chunk = sent === 0 ? new TextEncoder().encode(first.padEnd(chunkBytes, 'a')) : new Uint8Array(chunkBytes).fill(97);
      sent += 1;
      counter.pulled += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return { stream, counter };
}

function answering(response: () => Response): typeof fetch {
  return (async () => response()) as typeof fetch;
}

function endpoint(fetch: typeof globalThis.fetch, options: Partial<OAuth2EndpointOptions> = {}) {
  return oauth2Endpoint({ tokenUrl: TOKEN_URL, clientId: 'client', clientSecret: 'secret', fetch, ...options });
}

describe('token response bodies are bounded by maxResponseBytes (default 1 MiB)', () => {
  it('a streamed body past 1 MiB is invalid_token_response, retryable, and is read no further', async () => {
    const body = streamedBody(64, 64 * 1024); // 4 MiB on offer
    const error = await endpoint(answering(() => new Response(body.stream, { status: 200 })))
      .refresh('RT')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_token_response', retryable: true, status: 200 });
    expect((error as Error).message).toContain(`${MIB} bytes`);
    // The reader stops at the first chunk past the limit (the stream may have one more queued).
    expect(body.counter.pulled).toBeLessThanOrEqual(MIB + 2 * 64 * 1024);
  });

  it('a Content-Length over the limit is refused before any byte is read', async () => {
    const body = streamedBody(64, 64 * 1024);
    const error = await endpoint(
      answering(() => new Response(body.stream, { status: 200, headers: { 'content-length': String(4 * MIB) } })),
    )
      .refresh('RT')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_token_response', retryable: true });
    expect(body.counter.pulled).toBeLessThanOrEqual(64 * 1024);
  });

  it('a body of exactly maxResponseBytes is read; one byte more is not', async () => {
    const json = JSON.stringify({ access_token: 'at', token_type: 'Bearer' });
    const exact = endpoint(answering(() => new Response(json)), { maxResponseBytes: json.length });
    await expect(exact.refresh('RT')).resolves.toEqual({ access_token: 'at', token_type: 'Bearer' });
    const under = endpoint(answering(() => new Response(json)), { maxResponseBytes: json.length - 1 });
    await expect(under.refresh('RT')).rejects.toMatchObject({ code: 'invalid_token_response' });
  });

  it('multi-byte UTF-8 split across chunks is decoded whole', async () => {
    const bytes = new TextEncoder().encode(JSON.stringify({ access_token: 'é€😀', token_type: 'Bearer' }));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const byte of bytes) controller.enqueue(new Uint8Array([byte]));
        controller.close();
      },
    });
    await expect(endpoint(answering(() => new Response(stream))).refresh('RT')).resolves.toMatchObject({ access_token: 'é€😀' });
  });

  it('an error response over the limit is also refused (its code cannot be read)', async () => {
    const body = streamedBody(32, 64 * 1024, '{"error":"invalid_grant","x":"');
    await expect(
      endpoint(answering(() => new Response(body.stream, { status: 400 }))).refresh('RT'),
    ).rejects.toMatchObject({ code: 'invalid_token_response', status: 400 });
  });

  it('a revocation answer over the limit is revocation_failed, retryable', async () => {
    const body = streamedBody(32, 64 * 1024);
    await expect(
      endpoint(answering(() => new Response(body.stream, { status: 200 })), { revocationUrl: `${ISSUER}/revoke` }).revoke('RT'),
    ).rejects.toMatchObject({ code: 'revocation_failed', retryable: true });
  });

  it.each([0, -1, 1.5, Number.NaN, '1000'])('maxResponseBytes %s is invalid_config', (value) => {
    expect(() => endpoint(answering(() => new Response('{}')), { maxResponseBytes: value as number })).toThrow(
      expect.objectContaining({ code: 'invalid_config' }),
    );
  });
});

describe('discovery documents are bounded too', () => {
  it('a metadata document past the limit is discovery_failed, retryable, read no further', async () => {
    const body = streamedBody(64, 64 * 1024, `{"issuer":"${ISSUER}","x":"`);
    const requested: string[] = [];
    const fetch = (async (input: RequestInfo | URL) => {
      requested.push(String(input));
      return new Response(body.stream, { status: 200 });
    }) as typeof globalThis.fetch;
    const error = await oauth2Endpoint({ issuer: ISSUER, clientId: 'client', clientSecret: 'secret', fetch })
      .refresh('RT')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'discovery_failed', retryable: true });
    expect(requested).toHaveLength(1); // not a miss: the second location is not tried
    expect(body.counter.pulled).toBeLessThanOrEqual(MIB + 2 * 64 * 1024);
  });
});

describe('after a timeout nothing more is read', () => {
  it('a response arriving after the timeout is cancelled unread', async () => {
    vi.useFakeTimers();
    try {
      let cancelled = false;
      let pulled = 0;
      let answer!: (response: Response) => void;
      const fetch = (() => new Promise<Response>((resolve) => (answer = resolve))) as typeof globalThis.fetch;
      const pending = endpoint(fetch, { timeout: 1_000 }).refresh('RT').catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(await pending).toMatchObject({ code: 'refresh_failed', retryable: true });
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled += 1;
          controller.enqueue(new Uint8Array(1024));
        },
        cancel() {
          cancelled = true;
        },
      }, { highWaterMark: 0 });
      answer(new Response(stream));
      await vi.advanceTimersByTimeAsync(10);
      expect(cancelled).toBe(true);
      expect(pulled).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
