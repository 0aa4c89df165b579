/**
 * Redirects from the authorization server are never followed (client credentials and refresh tokens
 * stay with the configured endpoint), over Node's real fetch: the token, revocation and discovery
 * requests each reach the server once, nothing goes to the redirect's target, and each reports the
 * redirect as the permanent failure it is (transport.ts: refused by fetch, seen as status 0).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { oauth2Endpoint } from '../../adapters/oauth2/index.js';
import { startHostileServer, type HostileServer } from '../support/hostile-server.js';

let server: HostileServer;
beforeAll(async () => {
  server = await startHostileServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
  server.answer = (request, response) => {
    if (request.path === '/elsewhere') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token":"followed","token_type":"Bearer"}');
      return;
    }
    response.writeHead(307, { location: `${server.origin}/elsewhere` }).end();
  };
});

const paths = (): string[] => server.requests.map((r) => r.path);

describe('a redirecting authorization server', () => {
  it('token request: unexpected_response, permanent; the redirect is not followed', async () => {
    const endpoint = oauth2Endpoint({ tokenUrl: server.tokenUrl, clientId: 'client', clientSecret: 'secret' });
    const error = await endpoint.refresh('RT-redirected').then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'unexpected_response', retryable: false });
    expect(paths()).toEqual(['/token']);
  });

  it('revocation: a permanent revocation_failed; not followed', async () => {
    const endpoint = oauth2Endpoint({ tokenUrl: server.tokenUrl, revocationUrl: server.revocationUrl, clientId: 'client', clientSecret: 'secret' });
    await expect(endpoint.revoke('RT-redirected')).rejects.toMatchObject({ code: 'revocation_failed', retryable: false });
    expect(paths()).toEqual(['/revoke']);
  });

  it('discovery: discovery_failed; not followed', async () => {
    const endpoint = oauth2Endpoint({ issuer: server.origin, clientId: 'client', clientSecret: 'secret' });
    await expect(endpoint.refresh('RT-redirected')).rejects.toMatchObject({ code: 'discovery_failed' });
    expect(paths().length).toBeGreaterThan(0);
    for (const path of paths()) expect(path).toMatch(/^\/\.well-known\//);
  });
});
