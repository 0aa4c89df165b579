/** RFC 7662: `oauth2Endpoint({ introspection: tokenIntrospection() }).introspect()`: the request, the strict answer check, typed and redacted errors. */
import { inspect } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { oauth2Endpoint, tokenIntrospection, type OAuth2EndpointOptions, type TokenIntrospectionOptions } from '../../../adapters/oauth2/index.js';
import { TokenLifecycleError } from '../../../machines/lifecycle/errors.js';

const TOKEN_URL = 'https://as.example/token';
const INTROSPECTION_URL = 'https://as.example/introspect';
const TOKEN = 'introspected-access-token-0123456789';

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

function fakeServer(...answers: Array<Response | Error>) {
  const seen: Array<{ url: string; headers: Headers; body: URLSearchParams }> = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(input, init);
    seen.push({ url: request.url, headers: request.headers, body: new URLSearchParams(await request.text()) });
    const answer = answers.shift() ?? json({ active: false });
    if (answer instanceof Error) throw answer;
    return answer;
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, seen };
}

function endpoint(
  fetch: typeof globalThis.fetch,
  options: Partial<OAuth2EndpointOptions> = {},
  plugin: TokenIntrospectionOptions = { introspectionUrl: INTROSPECTION_URL },
) {
  return oauth2Endpoint({ tokenUrl: TOKEN_URL, clientId: 'client', clientSecret: 'secret', fetch, ...options, introspection: tokenIntrospection(plugin) });
}

async function rejection(promise: Promise<unknown>): Promise<TokenLifecycleError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof TokenLifecycleError)) throw new Error(`expected a TokenLifecycleError, got ${String(error)}`);
  return error;
}

function expectNoToken(error: TokenLifecycleError): void {
  const shown = `${error.message} ${error.description ?? ''} ${inspect(error, { depth: 5 })} ${JSON.stringify(error)}`;
  expect(shown).not.toContain(TOKEN);
}

describe('introspection is a plug-in', () => {
  it('an endpoint made without tokenIntrospection() has no introspect', () => {
    expect('introspect' in oauth2Endpoint({ tokenUrl: TOKEN_URL, clientId: 'client' })).toBe(false);
  });

  it('an http introspectionUrl off loopback is refused when the plug-in is made', () => {
    expect(() => tokenIntrospection({ introspectionUrl: 'http://as.example/introspect' })).toThrow(
      expect.objectContaining({ code: 'insecure_endpoint' }),
    );
  });
});

describe('introspect: the request (RFC 7662 §2.1)', () => {
  it('posts the token and its hint to the introspection URL, the client authenticated as for a refresh (basic)', async () => {
    const server = fakeServer(json({ active: true }));
    await endpoint(server.fetch).introspect(TOKEN, { tokenTypeHint: 'refresh_token' });
    const [sent] = server.seen;
    expect(sent?.url).toBe(INTROSPECTION_URL);
    expect(sent?.headers.get('authorization')).toBe(`Basic ${btoa('client:secret')}`);
    expect([...(sent?.body ?? [])]).toEqual([
      ['token', TOKEN],
      ['token_type_hint', 'refresh_token'],
    ]);
  });

  it('client_secret_post puts the credentials in the body, as for a refresh', async () => {
    const server = fakeServer(json({ active: true }));
    await endpoint(server.fetch, { authMethod: 'client_secret_post' }).introspect(TOKEN);
    expect(server.seen[0]?.headers.get('authorization')).toBeNull();
    expect(server.seen[0]?.body.get('client_id')).toBe('client');
    expect(server.seen[0]?.body.get('client_secret')).toBe('secret');
  });

  it('without introspectionUrl, the introspection_endpoint of discovery is used', async () => {
    const metadata = { issuer: 'https://as.example', token_endpoint: TOKEN_URL, introspection_endpoint: 'https://as.example/oauth/introspect' };
    const server = fakeServer(json(metadata), json({ active: true }));
    const plain = oauth2Endpoint({ issuer: 'https://as.example', clientId: 'client', clientSecret: 'secret', fetch: server.fetch, introspection: tokenIntrospection() });
    await plain.introspect(TOKEN);
    expect(server.seen.at(-1)?.url).toBe('https://as.example/oauth/introspect');
  });

  it.each([
    ['an http one off loopback', 'http://as.example/oauth/introspect', 'insecure_endpoint'],
    ['one that is not a URL', 'not a url', 'discovery_failed'],
    ['one that is not a string', 42, 'discovery_failed'],
  ])('a discovered introspection_endpoint that is %s: %s, as for the token endpoint, and nothing is sent there', async (_name, value, code) => {
    const metadata = { issuer: 'https://as.example', token_endpoint: TOKEN_URL, introspection_endpoint: value };
    const server = fakeServer(json(metadata));
    const plain = oauth2Endpoint({ issuer: 'https://as.example', clientId: 'client', clientSecret: 'secret', fetch: server.fetch, introspection: tokenIntrospection() });
    expect((await rejection(plain.introspect(TOKEN))).code).toBe(code);
    expect(server.seen).toHaveLength(1);
  });

  it('no URL configured and none discovered is invalid_config, and nothing is sent', async () => {
    const server = fakeServer();
    const error = await rejection(endpoint(server.fetch, {}, {}).introspect(TOKEN));
    expect(error.code).toBe('invalid_config');
    expect(server.seen).toHaveLength(0);
  });
});

describe('introspect: the answer (RFC 7662 §2.2)', () => {
  it('an active token: active true and its claims, type-checked; other members dropped', async () => {
    const claims = {
      active: true,
      scope: 'read write',
      client_id: 'client',
      token_type: 'Bearer',
      exp: 1_900_000_000,
      iat: 1_800_000_000,
      sub: 'user-1',
      aud: ['api'],
      cnf: { 'x5t#S256': 'abc' },
    };
    const server = fakeServer(json({ ...claims, extension: 'dropped' }));
    expect(await endpoint(server.fetch).introspect(TOKEN)).toEqual(claims);
  });

  it('an inactive token: { active: false } and nothing else, whatever else the server said', async () => {
    const server = fakeServer(json({ active: false, sub: 'user-1' }));
    expect(await endpoint(server.fetch).introspect(TOKEN)).toEqual({ active: false });
  });

  it.each([
    ['active as a string', { active: 'true' }],
    ['no active', { scope: 'read' }],
    ['exp as a string', { active: true, exp: '1900000000' }],
    ['aud as a number', { active: true, aud: 7 }],
    ['cnf as a string', { active: true, cnf: 'x' }],
    ['an array', [true]],
  ])('%s is introspection_failed (retryable), naming no value', async (_, body) => {
    const error = await rejection(endpoint(fakeServer(json(body)).fetch).introspect(TOKEN));
    expect(error).toMatchObject({ code: 'introspection_failed', retryable: true, status: 200 });
    expect(error.message).toMatch(/RFC 7662 §2\.2/);
  });

  it('a body that is not JSON is introspection_failed', async () => {
    const error = await rejection(endpoint(fakeServer(new Response('<html>ok</html>')).fetch).introspect(TOKEN));
    expect(error.code).toBe('introspection_failed');
  });

  it('a body over maxResponseBytes is introspection_failed and is not read', async () => {
    const big = JSON.stringify({ active: true, scope: 'x'.repeat(2_000) });
    const error = await rejection(endpoint(fakeServer(new Response(big)).fetch, { maxResponseBytes: 1_000 }).introspect(TOKEN));
    expect(error).toMatchObject({ code: 'introspection_failed', retryable: true });
    expect(error.message).toMatch(/larger than 1000 bytes/);
  });
});

describe('introspect: errors are typed and never show the token', () => {
  it('401 invalid_client is invalid_client; the token the server echoed is redacted', async () => {
    const server = fakeServer(json({ error: 'invalid_client', error_description: `bad client for ${TOKEN}` }, 401));
    const error = await rejection(endpoint(server.fetch).introspect(TOKEN));
    expect(error).toMatchObject({ code: 'invalid_client', status: 401 });
    expectNoToken(error);
  });

  it('a 503 is introspection_failed, retryable, with Retry-After', async () => {
    const server = fakeServer(json({ error: 'temporarily_unavailable', error_description: TOKEN }, 503, { 'retry-after': '7' }));
    const error = await rejection(endpoint(server.fetch).introspect(TOKEN));
    expect(error).toMatchObject({ code: 'introspection_failed', status: 503, retryable: true, retryAfter: 7_000 });
    expectNoToken(error);
  });

  it('a network failure is introspection_failed, retryable, without the token', async () => {
    const error = await rejection(endpoint(fakeServer(new TypeError(`fetch failed ${TOKEN}`)).fetch).introspect(TOKEN));
    expect(error).toMatchObject({ code: 'introspection_failed', retryable: true });
    expectNoToken(error);
  });

  it('an error code that holds the token is not shown', async () => {
    const server = fakeServer(json({ error: TOKEN }, 400));
    const error = await rejection(endpoint(server.fetch).introspect(TOKEN));
    expect(error.code).toBe('unexpected_response');
    expectNoToken(error);
  });
});
