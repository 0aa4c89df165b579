/** R22: `oauth2Endpoint(...).tokenExchange()`: the RFC 8693 request, the strict response check, typed and redacted errors. */
import { inspect } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { oauth2Endpoint, TOKEN_EXCHANGE_GRANT, TOKEN_TYPES, tokenExchangeGrant, type OAuth2EndpointOptions } from '../../../adapters/oauth2/index.js';
import { checkExchangeResponse } from '../../../machines/lifecycle/exchange-response.js';
import type { TokenExchangeRequest } from '../../../machines/lifecycle/types.js';

const TOKEN_URL = 'https://as.example/token';
const SUBJECT = 'subject-access-token-0123456789';
const OK = { access_token: 'child-at', issued_token_type: TOKEN_TYPES.accessToken, token_type: 'Bearer', expires_in: 60 };

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

function fakeServer(...answers: Array<Response | Error>) {
  const seen: Array<{ headers: Headers; body: URLSearchParams }> = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(input, init);
    seen.push({ headers: request.headers, body: new URLSearchParams(await request.text()) });
    const answer = answers.shift() ?? json(OK);
    if (answer instanceof Error) throw answer;
    return answer;
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, seen, calls: fetch };
}

function endpoint(fetch: typeof globalThis.fetch, options: Partial<OAuth2EndpointOptions> = {}) {
  return oauth2Endpoint({ tokenUrl: TOKEN_URL, clientId: 'client', clientSecret: 'secret', fetch, ...options, tokenExchange: tokenExchangeGrant() });
}

const request: TokenExchangeRequest = { subjectToken: SUBJECT, subjectTokenType: TOKEN_TYPES.accessToken };

describe('tokenExchange is a plug-in', () => {
  it('an endpoint made without tokenExchangeGrant() has no tokenExchange', () => {
    const plain = oauth2Endpoint({ tokenUrl: TOKEN_URL, clientId: 'client' });
    expect('tokenExchange' in plain).toBe(false);
  });

  it('anything else given as tokenExchange is invalid_config', () => {
    expect(() => oauth2Endpoint({ tokenUrl: TOKEN_URL, clientId: 'client', tokenExchange: true as never })).toThrow(/tokenExchangeGrant/);
  });
});

describe('tokenExchange: the request (RFC 8693 §2.1)', () => {
  it('sends the grant, the subject token and its type, with the client authenticated as for a refresh', async () => {
    const server = fakeServer();
    const response = await endpoint(server.fetch).tokenExchange(request);
    expect(response).toEqual(OK);
    const [sent] = server.seen;
    expect(sent?.headers.get('authorization')).toBe(`Basic ${btoa('client:secret')}`);
    expect([...(sent?.body ?? [])]).toEqual([
      ['grant_type', TOKEN_EXCHANGE_GRANT],
      ['subject_token', SUBJECT],
      ['subject_token_type', TOKEN_TYPES.accessToken],
    ]);
  });

  it('every audience and resource as its own parameter, then scope, requested type and the actor', async () => {
    const server = fakeServer();
    await endpoint(server.fetch).tokenExchange({
      ...request,
      audience: ['orders', 'billing'],
      resource: 'https://api.example/orders',
      scope: 'orders:read',
      requestedTokenType: TOKEN_TYPES.accessToken,
      actorToken: 'actor-token',
      actorTokenType: TOKEN_TYPES.jwt,
    });
    const body = server.seen[0]?.body;
    expect(body?.getAll('audience')).toEqual(['orders', 'billing']);
    expect(body?.getAll('resource')).toEqual(['https://api.example/orders']);
    expect(body?.get('scope')).toBe('orders:read');
    expect(body?.get('requested_token_type')).toBe(TOKEN_TYPES.accessToken);
    expect(body?.get('actor_token')).toBe('actor-token');
    expect(body?.get('actor_token_type')).toBe(TOKEN_TYPES.jwt);
  });

  it('a public client sends its client_id in the body', async () => {
    const server = fakeServer();
    await endpoint(server.fetch, { clientSecret: undefined }).tokenExchange(request);
    expect(server.seen[0]?.body.get('client_id')).toBe('client');
    expect(server.seen[0]?.headers.get('authorization')).toBeNull();
  });

  it.each([
    ['no subject token', { subjectToken: '', subjectTokenType: TOKEN_TYPES.accessToken }],
    ['no subject token type', { subjectToken: SUBJECT }],
    ['an actor token without its type', { ...request, actorToken: 'actor' }],
    ['an actor token type without the token', { ...request, actorTokenType: TOKEN_TYPES.jwt }],
    ['a resource that is not an absolute URI', { ...request, resource: 'orders' }],
    ['an empty audience', { ...request, audience: [''] }],
  ])('%s is invalid_config and nothing is sent', async (_name, bad) => {
    const server = fakeServer();
    await expect(endpoint(server.fetch).tokenExchange(bad as TokenExchangeRequest)).rejects.toMatchObject({ code: 'invalid_config' });
    expect(server.calls).not.toHaveBeenCalled();
  });
});

describe('tokenExchange: the response (RFC 8693 §2.2.1)', () => {
  it.each([
    ['no issued_token_type', { access_token: 'x', token_type: 'Bearer' }, /issued_token_type is missing/],
    ['an issued_token_type that is not a URI', { ...OK, issued_token_type: 'access token' }, /not a token type URI/],
    ['no access_token', { ...OK, access_token: undefined }, /access_token is missing/],
    ['no token_type', { ...OK, token_type: undefined }, /token_type is missing/],
    ['token_type N_A for an access token', { ...OK, token_type: 'N_A' }, /not an access token/],
    ['a negative expires_in', { ...OK, expires_in: -1 }, /expires_in/],
  ])('%s is invalid_token_response (retryable)', async (_name, body, message) => {
    const server = fakeServer(json(body));
    const error = await endpoint(server.fetch).tokenExchange(request).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_token_response', retryable: true });
    expect((error as Error).message).toMatch(message);
  });

  it('a type other than the requested one is refused', async () => {
    const server = fakeServer(json({ ...OK, issued_token_type: TOKEN_TYPES.jwt }));
    await expect(endpoint(server.fetch).tokenExchange({ ...request, requestedTokenType: TOKEN_TYPES.accessToken })).rejects.toMatchObject({
      code: 'invalid_token_response',
      message: expect.stringMatching(/not the requested_token_type/),
    });
  });

  it('an ID token (token_type N_A) is what it is when nothing else was asked for', async () => {
    const body = { access_token: 'id.token.jwt', issued_token_type: TOKEN_TYPES.idToken, token_type: 'N_A' };
    const server = fakeServer(json(body));
    await expect(endpoint(server.fetch).tokenExchange(request)).resolves.toEqual(body);
  });

  it('the pure check refuses N_A when the token is to be used as an access token', () => {
    const body = { access_token: 'x', issued_token_type: TOKEN_TYPES.jwt, token_type: 'N_A' };
    expect(checkExchangeResponse(body, 0).ok).toBe(true);
    expect(checkExchangeResponse(body, 0, { usableAsAccessToken: true }).ok).toBe(false);
  });

  it('a body that is not JSON is invalid_token_response', async () => {
    const server = fakeServer(new Response('<html>', { status: 200 }));
    await expect(endpoint(server.fetch).tokenExchange(request)).rejects.toMatchObject({ code: 'invalid_token_response' });
  });
});

describe('tokenExchange: errors are typed and redacted', () => {
  it('a refused subject token is the server’s invalid_grant (permanent), its description redacted of the subject token', async () => {
    const server = fakeServer(json({ error: 'invalid_grant', error_description: `subject ${SUBJECT} is not active` }, 400));
    const error = await endpoint(server.fetch).tokenExchange(request).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_grant', retryable: false, status: 400 });
    const shown = inspect(error, { depth: 10 }) + JSON.stringify(error);
    expect(shown).not.toContain(SUBJECT);
    expect((error as { description?: string }).description).toMatch(/is not active/);
  });

  it('an audience the server does not serve is invalid_target', async () => {
    const server = fakeServer(json({ error: 'invalid_target' }, 400));
    await expect(endpoint(server.fetch).tokenExchange({ ...request, audience: 'nowhere' })).rejects.toMatchObject({ code: 'invalid_target', retryable: false });
  });

  it('a 503 with Retry-After is refresh_failed, retryable, with the wait', async () => {
    const server = fakeServer(json({ error: 'temporarily_unavailable' }, 503, { 'retry-after': '7' }));
    await expect(endpoint(server.fetch).tokenExchange(request)).rejects.toMatchObject({ code: 'refresh_failed', retryable: true, retryAfter: 7000 });
  });

  it('an error field holding the subject token is not shown as a code', async () => {
    const server = fakeServer(json({ error: SUBJECT }, 400));
    const error = await endpoint(server.fetch).tokenExchange(request).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'unexpected_response' });
    expect(inspect(error, { depth: 10 })).not.toContain(SUBJECT);
  });

  it('a network failure is refresh_failed (retryable) and names no URL or token', async () => {
    const server = fakeServer(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }));
    const error = await endpoint(server.fetch).tokenExchange(request).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'refresh_failed', retryable: true });
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    expect(inspect(error, { depth: 10 })).not.toContain(SUBJECT);
  });
});
