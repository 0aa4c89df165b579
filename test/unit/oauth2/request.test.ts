import { afterEach, describe, expect, it, vi } from 'vitest';
import { oauth2Endpoint, type OAuth2EndpointOptions } from '../../../adapters/oauth2/index.js';

interface Seen {
  url: string;
  method: string;
  headers: Headers;
  body: URLSearchParams;
  redirect: RequestRedirect;
}

/** A fake `fetch` answering from a queue, recording each request as the server would see it. */
function fakeServer(...answers: Array<Response | (() => Promise<Response>) | Error>) {
  const seen: Seen[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(input, init);
    seen.push({
      url: request.url,
      method: request.method,
      headers: request.headers,
      body: new URLSearchParams(await request.text()),
      redirect: request.redirect,
    });
    const answer = answers.shift() ?? json({ access_token: 'at', token_type: 'Bearer' });
    if (answer instanceof Error) throw answer;
    return typeof answer === 'function' ? answer() : answer;
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, seen, calls: fetch };
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

const TOKEN_URL = 'https://as.example/token';

function endpoint(fetch: typeof globalThis.fetch, options: Partial<OAuth2EndpointOptions> = {}) {
  return oauth2Endpoint({ tokenUrl: TOKEN_URL, clientId: 'client', clientSecret: 'secret', fetch, ...options });
}

afterEach(() => {
  vi.useRealTimers();
});

describe('the token request', () => {
  it('refresh_token grant (RFC 6749 §6): POST form, Accept JSON, basic auth by default with a secret', async () => {
    const server = fakeServer();
    await endpoint(server.fetch).refresh('RT-1');
    const [request] = server.seen;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe(TOKEN_URL);
    expect(request?.headers.get('accept')).toBe('application/json');
    expect(request?.headers.get('content-type')).toMatch(/^application\/x-www-form-urlencoded/);
    expect(request?.headers.get('authorization')).toBe(`Basic ${btoa('client:secret')}`);
    expect([...(request?.body ?? [])]).toEqual([['grant_type', 'refresh_token'], ['refresh_token', 'RT-1']]);
  });

  it('redirects are not followed (credentials stay with the configured endpoint)', async () => {
    const server = fakeServer(new Response(null, { status: 302, headers: { location: 'https://elsewhere.example/' } }));
    await expect(endpoint(server.fetch).refresh('RT')).rejects.toMatchObject({ code: 'unexpected_response', status: 302 });
    // On Node fetch refuses it (no request copy, transport.ts); a fetch that returns the 3xx is read as one.
    expect(server.seen[0]?.redirect).toBe('error');
    expect(server.calls).toHaveBeenCalledTimes(1);
  });

  it('scope, every resource (RFC 8707) and extraParams go in the body', async () => {
    const server = fakeServer();
    await endpoint(server.fetch, {
      scope: 'read write',
      resource: ['https://api.example/a', 'https://api.example/b'],
      extraParams: { audience: 'x y' },
    }).refresh('RT');
    expect(server.seen[0]?.body.toString()).toBe(
      'grant_type=refresh_token&refresh_token=RT&scope=read+write' +
        '&resource=https%3A%2F%2Fapi.example%2Fa&resource=https%3A%2F%2Fapi.example%2Fb&audience=x+y',
    );
  });

  it('client_credentials (RFC 6749 §4.4) sends no refresh token, even when given one', async () => {
    const server = fakeServer();
    const cc = endpoint(server.fetch, { grant: 'client_credentials', scope: 'api' });
    await cc.refresh('ignored');
    await cc.refresh(undefined);
    for (const request of server.seen) expect(request.body.toString()).toBe('grant_type=client_credentials&scope=api');
  });

  it('client_secret_post and none put credentials in the body, no Authorization header', async () => {
    const post = fakeServer();
    await endpoint(post.fetch, { authMethod: 'client_secret_post' }).refresh('RT');
    expect(post.seen[0]?.headers.has('authorization')).toBe(false);
    expect(post.seen[0]?.body.get('client_id')).toBe('client');
    expect(post.seen[0]?.body.get('client_secret')).toBe('secret');

    const none = fakeServer();
    await oauth2Endpoint({ tokenUrl: TOKEN_URL, clientId: 'public', fetch: none.fetch }).refresh('RT');
    expect(none.seen[0]?.headers.has('authorization')).toBe(false);
    expect(none.seen[0]?.body.get('client_id')).toBe('public');
    expect(none.seen[0]?.body.has('client_secret')).toBe(false);
  });

  it('an empty refresh token counts as none: refresh_token_missing, no request', async () => {
    const server = fakeServer();
    await expect(endpoint(server.fetch).refresh('')).rejects.toMatchObject({ code: 'refresh_token_missing' });
    expect(server.calls).not.toHaveBeenCalled();
  });
});

describe('the response', () => {
  it('a 2xx JSON body is returned as parsed, unjudged (the manager validates it, R12)', async () => {
    const server = fakeServer(json({ unexpected: true }), json([1, 2]));
    const e = endpoint(server.fetch);
    await expect(e.refresh('RT')).resolves.toEqual({ unexpected: true });
    await expect(e.refresh('RT')).resolves.toEqual([1, 2]);
  });

  it.each([
    ['HTML', new Response('<!doctype html><p>Sign in</p>', { status: 200, headers: { 'content-type': 'text/html' } })],
    ['an empty 200', new Response('', { status: 200 })],
    ['a 204', new Response(null, { status: 204 })],
  ])('%s is invalid_token_response, retryable', async (_, answer) => {
    const server = fakeServer(answer);
    await expect(endpoint(server.fetch).refresh('RT')).rejects.toMatchObject({
      code: 'invalid_token_response',
      retryable: true,
    });
  });

  it('a network error from fetch is refresh_failed with the cause', async () => {
    const failure = new TypeError('fetch failed', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) });
    const server = fakeServer(failure);
    const error = await endpoint(server.fetch).refresh('RT').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'refresh_failed', retryable: true });
    expect((error as Error).message).toContain('ECONNRESET');
    expect((error as Error).cause).toBeInstanceOf(Error);
  });
});

describe('abort and timeout', () => {
  it('an already aborted signal rejects with its reason and sends nothing', async () => {
    const server = fakeServer();
    const reason = new Error('stop');
    await expect(endpoint(server.fetch).refresh('RT', { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(server.calls).not.toHaveBeenCalled();
  });

  it('the default timeout is 10 s; it becomes refresh_failed, retryable', async () => {
    vi.useFakeTimers();
    const never = fakeServer(() => new Promise<Response>(() => {}));
    const pending = endpoint(never.fetch).refresh('RT').catch((e: unknown) => e);
    let settled = false;
    void pending.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(9_999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await pending).toMatchObject({ code: 'refresh_failed', retryable: true });
  });
});

describe('revocation request (RFC 7009 §2.1)', () => {
  const REVOKE = 'https://as.example/revoke';

  it('posts token and token_type_hint with client auth', async () => {
    const server = fakeServer(new Response(null, { status: 200 }));
    await endpoint(server.fetch, { revocationUrl: REVOKE }).revoke('RT', { hint: 'refresh_token' });
    expect(server.seen[0]?.url).toBe(REVOKE);
    expect(server.seen[0]?.body.toString()).toBe('token=RT&token_type_hint=refresh_token');
    expect(server.seen[0]?.headers.get('authorization')).toMatch(/^Basic /);
  });

  it('503 with Retry-After is revocation_failed, retryable, with retryAfter', async () => {
    const server = fakeServer(json({ error: 'temporarily_unavailable' }, 503, { 'retry-after': '2' }));
    await expect(endpoint(server.fetch, { revocationUrl: REVOKE }).revoke('RT')).rejects.toMatchObject({
      code: 'revocation_failed', status: 503, retryable: true, retryAfter: 2000, description: 'temporarily_unavailable',
    });
  });

  it('400 unsupported_token_type is revocation_failed, permanent', async () => {
    const server = fakeServer(json({ error: 'unsupported_token_type' }, 400));
    await expect(endpoint(server.fetch, { revocationUrl: REVOKE }).revoke('RT')).rejects.toMatchObject({
      code: 'revocation_failed', status: 400, retryable: false,
    });
  });

  it('an empty token is revocation_failed without a request', async () => {
    const server = fakeServer();
    await expect(endpoint(server.fetch, { revocationUrl: REVOKE }).revoke('')).rejects.toMatchObject({ code: 'revocation_failed' });
    expect(server.calls).not.toHaveBeenCalled();
  });
});
