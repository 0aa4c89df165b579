import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { oauth2Endpoint, type OAuth2EndpointOptions } from '../../adapters/oauth2/index.js';
import {
  DiscoveryFailedError,
  InsecureEndpointError,
  InvalidClientError,
  InvalidGrantError,
  InvalidTokenResponseError,
  OAuthServerError,
  RefreshFailedError,
  RefreshTokenMissingError,
  RevocationFailedError,
  TokenLifecycleError,
} from '../../machines/lifecycle/errors.js';
import { CLIENTS, startAuthServer, type AuthServer } from '../support/oidc-server.js';

let server: AuthServer;
/** Every secret a test handed to the endpoint, and every error it got back: checked at the end (R13). */
const secrets = new Set<string>([CLIENTS.confidential.clientSecret, CLIENTS.post.clientSecret, CLIENTS.service.clientSecret]);
const errors: unknown[] = [];

beforeAll(async () => {
  server = await startAuthServer();
});
afterAll(async () => {
  await server?.stop();
});
beforeEach(() => server.counts.reset());
afterEach(() => server.clearFaults());

type TokenBody = Record<string, unknown>;

function confidential(extra: Partial<OAuth2EndpointOptions> = {}) {
  return oauth2Endpoint({ tokenUrl: server.tokenUrl, ...CLIENTS.confidential, ...extra });
}

async function mint(clientId: string = CLIENTS.confidential.clientId): Promise<string> {
  const token = await server.mintRefreshToken(clientId);
  secrets.add(token);
  return token;
}

/** The rejection of `promise`, recorded for the secrecy check. */
async function failure(promise: Promise<unknown>): Promise<TokenLifecycleError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (reason: unknown) => reason,
  );
  errors.push(error);
  expect(error).toBeInstanceOf(TokenLifecycleError);
  return error as TokenLifecycleError;
}

async function refreshed(promise: Promise<unknown>): Promise<TokenBody> {
  const body = (await promise) as TokenBody;
  for (const field of ['access_token', 'refresh_token', 'id_token']) {
    if (typeof body[field] === 'string') secrets.add(body[field]);
  }
  return body;
}

describe('refresh_token grant against oidc-provider (RFC 6749 §6)', () => {
  it('client_secret_basic with a secret containing + / : % (form-urlencoded before base64)', async () => {
    const old = await mint();
    const body = await refreshed(confidential().refresh(old));
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 5 });
    expect(body.access_token).toEqual(expect.any(String));
    expect(server.counts.tokenByGrant).toEqual({ refresh_token: 1 });
  });

  it('client_secret_post puts id and secret in the body', async () => {
    const old = await mint(CLIENTS.post.clientId);
    const endpoint = oauth2Endpoint({ tokenUrl: server.tokenUrl, ...CLIENTS.post, authMethod: 'client_secret_post' });
    const body = await refreshed(endpoint.refresh(old));
    expect(body.access_token).toEqual(expect.any(String));
  });

  it('a public client (none) sends client_id only', async () => {
    const old = await mint(CLIENTS.public.clientId);
    const endpoint = oauth2Endpoint({ tokenUrl: server.tokenUrl, clientId: CLIENTS.public.clientId });
    const body = await refreshed(endpoint.refresh(old));
    expect(body.access_token).toEqual(expect.any(String));
  });

  it('rotation: a new refresh token each time; the spent one then gets invalid_grant', async () => {
    const endpoint = confidential();
    const first = await mint();
    const second = (await refreshed(endpoint.refresh(first))).refresh_token;
    expect(second).toEqual(expect.any(String));
    expect(second).not.toBe(first);
    const error = await failure(endpoint.refresh(first));
    expect(error).toBeInstanceOf(InvalidGrantError);
    expect(error).toMatchObject({ code: 'invalid_grant', status: 400, retryable: false });
  });

  it('a grant revoked on the server rejects its refresh token with invalid_grant', async () => {
    const token = await mint();
    await server.revokeGrant(token);
    const error = await failure(confidential().refresh(token));
    expect(error.code).toBe('invalid_grant');
  });

  it('a wrong client secret is invalid_client (401), permanent', async () => {
    const token = await mint();
    const error = await failure(confidential({ clientSecret: 'wrong-secret' }).refresh(token));
    expect(error).toBeInstanceOf(InvalidClientError);
    expect(error).toMatchObject({ code: 'invalid_client', status: 401, retryable: false });
  });

  it('no refresh token: RefreshTokenMissingError and no request at all (R8)', async () => {
    const endpoint = oauth2Endpoint({ issuer: server.issuer, ...CLIENTS.confidential });
    expect(endpoint.canRenewWithoutRefreshToken).toBe(false);
    const error = await failure(endpoint.refresh(undefined));
    expect(error).toBeInstanceOf(RefreshTokenMissingError);
    expect(error.code).toBe('refresh_token_missing');
    expect(server.counts.byPath).toEqual({});
  });
});

describe('client_credentials grant (RFC 6749 §4.4)', () => {
  it('renews without a refresh token, with scope', async () => {
    const endpoint = oauth2Endpoint({ tokenUrl: server.tokenUrl, ...CLIENTS.service, grant: 'client_credentials', scope: 'api' });
    expect(endpoint.canRenewWithoutRefreshToken).toBe(true);
    const body = await refreshed(endpoint.refresh(undefined));
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'api', expires_in: 5 });
    expect(body.refresh_token).toBeUndefined();
    expect(server.counts.tokenByGrant).toEqual({ client_credentials: 1 });
  });
});

describe('discovery (RFC 8414, then OpenID Connect Discovery)', () => {
  const RFC8414 = '/.well-known/oauth-authorization-server';
  const OIDC = '/.well-known/openid-configuration';

  it('is made once, on first need: not at construction, shared by concurrent first calls', async () => {
    const endpoint = oauth2Endpoint({ issuer: server.issuer, ...CLIENTS.confidential });
    expect(server.counts.discovery).toBe(0);
    const [a, b] = await Promise.all([mint(), mint()]);
    await Promise.all([refreshed(endpoint.refresh(a)), refreshed(endpoint.refresh(b))]);
    expect(server.counts.byPath).toEqual({ [RFC8414]: 1, '/token': 2 });
    await refreshed(endpoint.refresh(await mint()));
    await endpoint.revoke(await mint(), { hint: 'refresh_token' });
    expect(server.counts.discovery).toBe(1);
  });

  it('an explicit tokenUrl wins: no discovery for refresh, discovery only for revocation', async () => {
    const endpoint = oauth2Endpoint({ issuer: server.issuer, tokenUrl: server.tokenUrl, ...CLIENTS.confidential });
    await refreshed(endpoint.refresh(await mint()));
    expect(server.counts.discovery).toBe(0);
    await endpoint.revoke(await mint());
    expect(server.counts.discovery).toBe(1);
    expect(server.counts.revocation).toBe(1);
  });

  it('falls back to the OpenID location when the RFC 8414 one has no document', async () => {
    server.injectFault(RFC8414, { status: 404, body: 'not here' });
    const endpoint = oauth2Endpoint({ issuer: server.issuer, ...CLIENTS.confidential });
    await refreshed(endpoint.refresh(await mint()));
    expect(server.counts.byPath).toMatchObject({ [RFC8414]: 1, [OIDC]: 1, '/token': 1 });
  });

  it('a failed discovery is retryable and not cached: the next call tries again', async () => {
    server.injectFault(RFC8414, { status: 503, headers: { 'retry-after': '3' } });
    const endpoint = oauth2Endpoint({ issuer: server.issuer, ...CLIENTS.confidential });
    const token = await mint();
    const error = await failure(endpoint.refresh(token));
    expect(error).toBeInstanceOf(DiscoveryFailedError);
    expect(error).toMatchObject({ code: 'discovery_failed', retryable: true, status: 503, retryAfter: 3000 });
    expect(server.counts.token).toBe(0);
    await refreshed(endpoint.refresh(token));
    expect(server.counts.discovery).toBe(2);
  });

  it('an unreachable issuer is discovery_failed, retryable', async () => {
    await server.pause();
    try {
      const error = await failure(oauth2Endpoint({ issuer: server.issuer, ...CLIENTS.confidential }).refresh('x'));
      expect(error).toMatchObject({ code: 'discovery_failed', retryable: true });
    } finally {
      await server.resume();
    }
  });

  it('a document naming another issuer is refused (RFC 8414 §3.3), the token endpoint untouched', async () => {
    server.injectFault(RFC8414, {
      status: 200,
      body: { issuer: `${server.issuer}/other`, token_endpoint: server.tokenUrl },
    });
    const error = await failure(oauth2Endpoint({ issuer: server.issuer, ...CLIENTS.confidential }).refresh(await mint()));
    expect(error).toBeInstanceOf(DiscoveryFailedError);
    expect(error).toMatchObject({ code: 'discovery_failed', retryable: false });
    expect(server.counts.token).toBe(0);
  });

  it('a document without token_endpoint is discovery_failed', async () => {
    server.injectFault(RFC8414, { status: 200, body: { issuer: server.issuer } });
    const error = await failure(oauth2Endpoint({ issuer: server.issuer, ...CLIENTS.confidential }).refresh('x'));
    expect(error.code).toBe('discovery_failed');
  });

  it('a discovered http:// token endpoint on a non-loopback host is insecure_endpoint', async () => {
    server.injectFault(RFC8414, {
      status: 200,
      body: { issuer: server.issuer, token_endpoint: 'http://auth.example.com/token' },
    });
    const error = await failure(oauth2Endpoint({ issuer: server.issuer, ...CLIENTS.confidential }).refresh('x'));
    expect(error).toBeInstanceOf(InsecureEndpointError);
    expect(error.code).toBe('insecure_endpoint');
    expect(server.counts.token).toBe(0);
  });
});

describe('revocation (RFC 7009)', () => {
  it('revokes a refresh token; it is then rejected', async () => {
    const endpoint = confidential({ revocationUrl: server.revocationUrl });
    const token = await mint();
    await endpoint.revoke(token, { hint: 'refresh_token' });
    expect(server.counts.revocation).toBe(1);
    const error = await failure(endpoint.refresh(token));
    expect(error.code).toBe('invalid_grant');
  });

  it('an unknown token is a success (200)', async () => {
    await expect(confidential({ revocationUrl: server.revocationUrl }).revoke('never-issued')).resolves.toBeUndefined();
  });

  it('a public client revokes with client_id in the body', async () => {
    const token = await mint(CLIENTS.public.clientId);
    const endpoint = oauth2Endpoint({ issuer: server.issuer, clientId: CLIENTS.public.clientId });
    await endpoint.revoke(token);
    expect((await failure(endpoint.refresh(token))).code).toBe('invalid_grant');
  });

  it('a refused revocation (wrong secret: 401) is revocation_failed with the status', async () => {
    const endpoint = confidential({ clientSecret: 'wrong', revocationUrl: server.revocationUrl });
    const error = await failure(endpoint.revoke(await mint()));
    expect(error).toBeInstanceOf(RevocationFailedError);
    expect(error).toMatchObject({ code: 'revocation_failed', status: 401, retryable: false });
    expect(error.description).toMatch(/^invalid_client/);
  });

  it('no known revocation endpoint is revocation_failed, without any request', async () => {
    const error = await failure(confidential().revoke(await mint()));
    expect(error.code).toBe('revocation_failed');
    expect(server.counts.byPath).toEqual({});
  });

  it('an unreachable server is revocation_failed, retryable, with the cause', async () => {
    const endpoint = confidential({ revocationUrl: server.revocationUrl });
    const token = await mint();
    await server.pause();
    try {
      const error = await failure(endpoint.revoke(token));
      expect(error).toMatchObject({ code: 'revocation_failed', retryable: true });
      expect(error.cause).toBeInstanceOf(Error);
    } finally {
      await server.resume();
    }
  });
});

describe('transient failures are refresh_failed, retryable', () => {
  it('503 with Retry-After (delta-seconds) and temporarily_unavailable', async () => {
    server.injectFault('/token', {
      status: 503,
      headers: { 'retry-after': '7' },
      body: { error: 'temporarily_unavailable' },
    });
    const error = await failure(confidential().refresh(await mint()));
    expect(error).toBeInstanceOf(RefreshFailedError);
    expect(error).toMatchObject({
      code: 'refresh_failed', retryable: true, status: 503, retryAfter: 7000, description: 'temporarily_unavailable',
    });
  });

  it('429 with Retry-After as an HTTP-date', async () => {
    const at = new Date(Date.now() + 60_000);
    server.injectFault('/token', { status: 429, headers: { 'retry-after': at.toUTCString() } });
    const error = await failure(confidential().refresh(await mint()));
    expect(error).toMatchObject({ code: 'refresh_failed', status: 429 });
    expect(error.retryAfter).toBeGreaterThan(55_000);
    expect(error.retryAfter).toBeLessThanOrEqual(60_000);
  });

  it('500 without a body', async () => {
    server.injectFault('/token', { status: 500 });
    const error = await failure(confidential().refresh(await mint()));
    expect(error).toMatchObject({ code: 'refresh_failed', status: 500, retryable: true });
    expect(error.retryAfter).toBeUndefined();
  });

  it('a server that does not answer in time (200 ms timeout)', async () => {
    server.injectFault('/token', { delayMs: 5_000 });
    const started = performance.now();
    const error = await failure(confidential({ timeout: '200ms' }).refresh(await mint()));
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(error).toMatchObject({ code: 'refresh_failed', retryable: true });
    expect(error.message).toMatch(/200 ms/);
  });

  it('a body that stalls after the headers also times out', async () => {
    server.injectFault('/token', { hangBody: true });
    const started = performance.now();
    const error = await failure(confidential({ timeout: 200 }).refresh(await mint()));
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(error).toMatchObject({ code: 'refresh_failed', retryable: true });
  });

  it('a reset connection', async () => {
    server.injectFault('/token', { reset: true });
    const error = await failure(confidential().refresh(await mint()));
    expect(error).toMatchObject({ code: 'refresh_failed', retryable: true });
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('connection refused during an outage, then recovery', async () => {
    const endpoint = confidential();
    const token = await mint();
    await server.pause();
    try {
      const error = await failure(endpoint.refresh(token));
      expect(error).toMatchObject({ code: 'refresh_failed', retryable: true });
      // ECONNREFUSED, or a socket error when a pooled keep-alive connection was the one cut.
      expect(error.message).toMatch(/fetch failed \((?:ECONNREFUSED|UND_ERR_SOCKET)\)/);
      expect(error.cause).toBeInstanceOf(Error);
    } finally {
      await server.resume();
    }
    await refreshed(endpoint.refresh(token));
  });

  it('an HTML page behind a 200 is invalid_token_response', async () => {
    server.injectFault('/token', { status: 200, body: '<html><body>Maintenance</body></html>' });
    const error = await failure(confidential().refresh(await mint()));
    expect(error).toBeInstanceOf(InvalidTokenResponseError);
    expect(error).toMatchObject({ code: 'invalid_token_response', retryable: true });
  });
});

describe('permanent failures', () => {
  it('a §5.2 code on 400 is that code (invalid_scope), with the description', async () => {
    const error = await failure(confidential({ scope: 'not-a-scope' }).refresh(await mint()));
    expect(error).toBeInstanceOf(OAuthServerError);
    expect(error).toMatchObject({ code: 'invalid_scope', status: 400, retryable: false });
  });

  it('401 without a code is invalid_client', async () => {
    server.injectFault('/token', { status: 401 });
    const error = await failure(confidential().refresh(await mint()));
    expect(error).toMatchObject({ code: 'invalid_client', status: 401, retryable: false });
  });

  it('another 4xx without a code is unexpected_response', async () => {
    server.injectFault('/token', { status: 404, body: 'Not Found' });
    const error = await failure(confidential().refresh(await mint()));
    expect(error).toMatchObject({ code: 'unexpected_response', status: 404, retryable: false });
  });
});

describe('configuration', () => {
  it.each([
    ['tokenUrl', { tokenUrl: 'http://auth.example.com/token' }],
    ['issuer', { issuer: 'http://auth.example.com' }],
    ['revocationUrl', { tokenUrl: 'https://auth.example.com/token', revocationUrl: 'http://auth.example.com/revoke' }],
  ])('http:// to a non-loopback host in %s is insecure_endpoint at construction', (_, urls) => {
    let thrown: unknown;
    try {
      oauth2Endpoint({ clientId: 'x', ...urls });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InsecureEndpointError);
    expect(thrown).toMatchObject({ code: 'insecure_endpoint' });
  });
});

describe('aborting', () => {
  it('rejects with the abort reason, unconverted', async () => {
    server.injectFault('/token', { delayMs: 5_000 });
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    const pending = confidential().refresh(await mint(), { signal: controller.signal });
    setTimeout(() => controller.abort(reason), 50);
    await expect(pending).rejects.toBe(reason);
  });

  it('an abort while the body stalls rejects with the reason at once, not at the timeout', async () => {
    server.injectFault('/token', { hangBody: true });
    const controller = new AbortController();
    const reason = new Error('caller gave up mid-body');
    const started = performance.now();
    const pending = confidential({ timeout: '10s' }).refresh(await mint(), { signal: controller.signal });
    setTimeout(() => controller.abort(reason), 100);
    await expect(pending).rejects.toBe(reason);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('a caller aborting while discovery runs ends only its own wait', async () => {
    server.injectFault('/.well-known/oauth-authorization-server', { delayMs: 300 });
    const endpoint = oauth2Endpoint({ issuer: server.issuer, ...CLIENTS.confidential });
    const controller = new AbortController();
    const aborted = endpoint.refresh(await mint(), { signal: controller.signal });
    const other = endpoint.refresh(await mint());
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    await refreshed(other);
    expect(server.counts.discovery).toBe(1);
    expect(server.counts.token).toBe(1);
  });
});

describe('secrets stay secret (R13)', () => {
  it('no refresh token, access token or client secret in any error seen above', () => {
    expect(errors.length).toBeGreaterThan(20);
    for (const error of errors) {
      const views = [String(error), inspect(error, { depth: 8 }), JSON.stringify(error)];
      for (const secret of secrets) {
        for (const view of views) expect(view).not.toContain(secret);
      }
    }
  });
});
