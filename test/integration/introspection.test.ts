/**
 * RFC 7662 token introspection against oidc-provider (`features.introspection`), the endpoint found by
 * discovery and the client authenticated as for its token requests: private_key_jwt (a client
 * registered with a JWKS, one fresh assertion per request) and tls_client_auth over HTTPS (the
 * certificate-bound token's `cnf.x5t#S256` reported). An active access token and refresh token, then
 * the same refresh token revoked: inactive. A refusal is typed; the token is in no error.
 */
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mtlsTransport, oauth2Endpoint, privateKeyJwt, tokenIntrospection } from '../../adapters/oauth2-node/index.js';
import { MTLS_CLIENTS, startMtlsAuthServer } from '../support/mtls-server.js';
import { startAuthServer, type AuthServer } from '../support/oidc-server.js';
import { makeTestPki } from '../support/test-pki.js';
import type { ClientMetadata } from 'oidc-provider';

const GRANTS = { grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], redirect_uris: ['http://127.0.0.1:1/cb'] };
const INTROSPECTION_PATH = '/token/introspection';

describe('introspection with private_key_jwt (RFC 7662, RFC 7523)', () => {
  let server: AuthServer;
  let keys: CryptoKeyPair;
  const assertions: string[] = [];
  const recording: typeof fetch = (input, init) => {
    const assertion = new URLSearchParams(String(init?.body ?? '')).get('client_assertion');
    if (assertion) assertions.push(assertion);
    return fetch(input, init);
  };

  beforeAll(async () => {
    keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', keys.publicKey);
    const client: ClientMetadata = {
      client_id: 'pkjwt-introspect',
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks: { keys: [{ kty, crv, x, y, kid: 'k1', alg: 'ES256', use: 'sig' } as never] },
      ...GRANTS,
    };
    server = await startAuthServer({ clients: [client] });
  });
  afterAll(async () => {
    await server?.stop();
  });

  const endpoint = (key?: CryptoKey) =>
    oauth2Endpoint({
      issuer: server.issuer,
      clientId: 'pkjwt-introspect',
      clientAssertion: privateKeyJwt({ key: key ?? keys.privateKey, kid: 'k1' }),
      fetch: recording,
      introspection: tokenIntrospection(),
    });

  it('an active access token and refresh token, then the revoked refresh token inactive; one fresh assertion per request', async () => {
    const refreshToken = await server.mintRefreshToken('pkjwt-introspect');
    const ep = endpoint();
    const tokens = (await ep.refresh(refreshToken)) as { access_token: string; refresh_token: string };
    server.counts.reset();
    const before = assertions.length;

    const access = await ep.introspect(tokens.access_token, { tokenTypeHint: 'access_token' });
    expect(access).toMatchObject({ active: true, client_id: 'pkjwt-introspect', sub: 'alice', token_type: 'Bearer' });
    expect(access.exp).toBeGreaterThan(Date.now() / 1000);
    expect(access.scope).toContain('openid');

    expect(await ep.introspect(tokens.refresh_token, { tokenTypeHint: 'refresh_token' })).toMatchObject({ active: true, client_id: 'pkjwt-introspect' });

    await ep.revoke(tokens.refresh_token, { hint: 'refresh_token' });
    expect(await ep.introspect(tokens.refresh_token, { tokenTypeHint: 'refresh_token' })).toEqual({ active: false });
    expect(await ep.introspect('not-a-token-the-server-issued')).toEqual({ active: false });

    expect(server.counts.byPath[INTROSPECTION_PATH]).toBe(4);
    const sent = assertions.slice(before);
    expect(sent).toHaveLength(5); // 4 introspections + 1 revocation
    const jtis = sent.map((jwt) => (JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti);
    expect(new Set(jtis).size).toBe(5);
  });

  it('an assertion signed with another key is invalid_client, with neither the token nor the assertion in the error', async () => {
    const refreshToken = await server.mintRefreshToken('pkjwt-introspect');
    const other = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as CryptoKeyPair;
    const before = assertions.length;
    const error: unknown = await endpoint(other.privateKey).introspect(refreshToken).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_client', status: 401 });
    const shown = `${inspect(error, { depth: 8, showHidden: true })} ${JSON.stringify(error)}`;
    expect(shown).not.toContain(refreshToken);
    for (const assertion of assertions.slice(before)) for (const part of assertion.split('.')) expect(shown).not.toContain(part);
  });
});

describe('introspection with tls_client_auth over HTTPS (RFC 7662, RFC 8705)', () => {
  it('a certificate-bound access token is active with its cnf.x5t#S256; a certificate it does not know is refused', async () => {
    const pki = makeTestPki();
    const server = await startMtlsAuthServer(pki);
    const tls = await mtlsTransport({ cert: pki.client.cert, key: pki.client.key, ca: pki.ca });
    const stranger = await mtlsTransport({ cert: pki.stranger.cert, key: pki.stranger.key, ca: pki.ca });
    try {
      const ep = (transport: typeof tls) =>
        oauth2Endpoint({ issuer: server.issuer, clientId: MTLS_CLIENTS.pki, authMethod: 'tls_client_auth', tls: transport, introspection: tokenIntrospection() });
      const tokens = (await ep(tls).refresh(await server.mintRefreshToken(MTLS_CLIENTS.pki))) as { access_token: string };
      server.counts.reset();
      const result = await ep(tls).introspect(tokens.access_token);
      expect(result).toMatchObject({ active: true, client_id: MTLS_CLIENTS.pki, cnf: { 'x5t#S256': tls.thumbprint } });
      expect(server.counts.byPath[INTROSPECTION_PATH]).toBe(1);

      const error: unknown = await ep(stranger).introspect(tokens.access_token).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'invalid_client' });
      expect((error as Error).message).toMatch(/tls_client_auth/);
      expect(inspect(error, { depth: 8 })).not.toContain(tokens.access_token);
    } finally {
      await Promise.all([tls.close(), stranger.close()]);
      await server.stop();
    }
  });
});
