/**
 * private_key_jwt (RS256, PS256, ES256) and client_secret_jwt (HS256) against oidc-provider, clients
 * registered with a JWKS or a secret: each algorithm's refresh with rotation and its revocation through
 * a manager, each round trip counted at the server; a replayed assertion (same jti) refused by the
 * server and reported clearly; the key and the assertions in no error, event or status.
 */
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSecretJwt, oauth2Endpoint, privateKeyJwt, type ClientAssertionAlgorithm, type OAuth2EndpointOptions } from '../../adapters/oauth2/index.js';
import { createTokenManager } from '../../machines/manager/manager.js';
import { startAuthServer, type AuthServer } from '../support/oidc-server.js';
import type { ClientMetadata } from 'oidc-provider';

const subtle = globalThis.crypto.subtle;
const RSA = { modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
const GENERATE: Record<ClientAssertionAlgorithm, RsaHashedKeyGenParams | EcKeyGenParams> = {
  RS256: { name: 'RSASSA-PKCS1-v1_5', ...RSA },
  PS256: { name: 'RSA-PSS', ...RSA },
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
};
const ALGS = ['RS256', 'PS256', 'ES256'] as const;
const JWT_SECRET = 'jwt+secret/value:%that-is-long-enough-for-hs256';
const GRANTS = { grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], redirect_uris: ['http://127.0.0.1:1/cb'] };

let server: AuthServer;
const keys = {} as Record<ClientAssertionAlgorithm, CryptoKeyPair>;
/** A fetch that records each assertion it sends (for the secrecy scan). */
const recording: typeof fetch = (input, init) => {
  const assertion = new URLSearchParams(String(init?.body ?? '')).get('client_assertion');
  if (assertion) assertionsSeen.push(assertion);
  return fetch(input, init);
};
/** Every assertion sent, and every secret handed out: none may appear in what we report. */
const assertionsSeen: string[] = [];
const secrets: string[] = [JWT_SECRET];

beforeAll(async () => {
  const clients: ClientMetadata[] = [];
  for (const alg of ALGS) {
    keys[alg] = (await subtle.generateKey(GENERATE[alg], true, ['sign', 'verify'])) as CryptoKeyPair;
    const jwk = { ...(await subtle.exportKey('jwk', keys[alg].publicKey)), kid: `key-${alg}`, alg, use: 'sig' };
    delete (jwk as { key_ops?: unknown }).key_ops;
    delete (jwk as { ext?: unknown }).ext;
    clients.push({
      client_id: `pkjwt-${alg}`,
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: alg,
      jwks: { keys: [jwk as never] },
      ...GRANTS,
    });
    secrets.push(JSON.stringify(await subtle.exportKey('jwk', keys[alg].privateKey)));
  }
  clients.push({ client_id: 'secret-jwt', client_secret: JWT_SECRET, token_endpoint_auth_method: 'client_secret_jwt', ...GRANTS });
  server = await startAuthServer({ clients });
});
afterAll(async () => {
  await server?.stop();
});

function endpointFor(alg: ClientAssertionAlgorithm | 'HS256', extra: Partial<OAuth2EndpointOptions> = {}) {
  const client: OAuth2EndpointOptions =
    alg === 'HS256'
      ? { issuer: server.issuer, clientId: 'secret-jwt', clientSecret: JWT_SECRET, clientAssertion: clientSecretJwt() }
      : { issuer: server.issuer, clientId: `pkjwt-${alg}`, clientAssertion: privateKeyJwt({ key: keys[alg].privateKey, kid: `key-${alg}` }) };
  return oauth2Endpoint({ ...client, fetch: recording, ...extra });
}

/** Nothing we report may hold an assertion, a private key, the secret or a token. */
function expectNoSecrets(reported: unknown): void {
  const text = `${inspect(reported, { depth: 8, showHidden: true })} ${JSON.stringify(reported) ?? ''}`;
  for (const value of [...assertionsSeen, ...secrets]) expect(text).not.toContain(value);
  for (const part of assertionsSeen.flatMap((jwt) => jwt.split('.'))) expect(text).not.toContain(part);
}

describe('client assertions against oidc-provider (RFC 7523)', () => {
  for (const alg of [...ALGS, 'HS256'] as const) {
    it(`${alg}: refresh with rotation and revocation through a manager; one assertion per round trip`, async () => {
      const clientId = alg === 'HS256' ? 'secret-jwt' : `pkjwt-${alg}`;
      const refreshToken = await server.mintRefreshToken(clientId);
      secrets.push(refreshToken);
      const manager = createTokenManager({ endpoint: endpointFor(alg) });
      const events: unknown[] = [];
      manager.subscribe((event) => events.push(event));
      server.counts.reset();
      const seenBefore = assertionsSeen.length;

      await manager.setToken('default', { access_token: 'initial-access', token_type: 'Bearer', expires_in: 1, refresh_token: refreshToken });
      const first = await manager.refresh('default');
      const second = await manager.refresh('default');
      secrets.push(first.accessToken, second.accessToken, first.refreshToken!, second.refreshToken!);
      // Rotation: each refresh gave a new refresh token, and the server took the rotated one.
      expect(first.refreshToken).not.toBe(refreshToken);
      expect(second.refreshToken).not.toBe(first.refreshToken);
      expect(server.counts.tokenByGrant).toEqual({ refresh_token: 2 });

      await manager.remove('default');
      expect(server.counts.revocation).toBe(1);
      // The revoked grant is dead at the server: the last refresh token no longer works.
      await expect(endpointFor(alg).refresh(second.refreshToken)).rejects.toMatchObject({ code: 'invalid_grant' });

      // One fresh assertion per request (2 refreshes + 1 revocation + the check), each jti once.
      const sent = assertionsSeen.slice(seenBefore);
      expect(sent).toHaveLength(4);
      const jtis = sent.map((jwt) => (JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti);
      expect(new Set(jtis).size).toBe(4);
      const header = JSON.parse(Buffer.from(sent[0]!.split('.')[0]!, 'base64url').toString()) as { alg: string };
      expect(header.alg).toBe(alg);

      expectNoSecrets(events);
      expectNoSecrets(manager.status('default'));
      await manager.stop();
    });
  }

  it('a replayed assertion (same jti) is refused by the server and reported as a clear invalid_client', async () => {
    let first: string | undefined;
    // A fetch that sends the first assertion again in place of the second (a replay on the wire).
    const replaying: typeof fetch = async (input, init) => {
      if (init?.body === undefined) return recording(input, init);
      const body = new URLSearchParams(String(init?.body ?? ''));
      const assertion = body.get('client_assertion');
      if (assertion !== null) {
        if (first === undefined) first = assertion;
        else body.set('client_assertion', first);
      }
      return recording(input, { ...init, body });
    };
    const serverReasons: string[] = [];
    server.provider.on('grant.error', (_ctx: unknown, error: unknown) => {
      serverReasons.push(String((error as { error_detail?: string }).error_detail));
    });
    const endpoint = endpointFor('ES256', { fetch: replaying });
    const refreshToken = await server.mintRefreshToken('pkjwt-ES256');
    secrets.push(refreshToken);
    const ok = (await endpoint.refresh(refreshToken)) as { refresh_token: string; access_token: string };
    secrets.push(ok.refresh_token, ok.access_token);

    const error = await endpoint.refresh(ok.refresh_token).then(
      () => expect.fail('the replay was accepted'),
      (reason: unknown) => reason as Error & { code: string; status: number },
    );
    expect(error).toMatchObject({ code: 'invalid_client', status: 401 });
    expect(error.message).toMatch(/client assertion \(RFC 7523\) was sent.*replayed jti/);
    // The server's own (hidden) reason is the replay.
    expect(serverReasons).toContain('client assertion tokens must only be used once');
    expectNoSecrets(error);
    // The refresh token was not spent: a fresh assertion still refreshes with it.
    await expect(endpointFor('ES256').refresh(ok.refresh_token)).resolves.toMatchObject({ token_type: 'Bearer' });
  });

  it('a key the server does not know for the client is refused, the revocation too, without leaking the assertion', async () => {
    const stranger = (await subtle.generateKey(GENERATE.ES256, false, ['sign', 'verify'])) as CryptoKeyPair;
    const endpoint = oauth2Endpoint({ issuer: server.issuer, clientId: 'pkjwt-ES256', clientAssertion: privateKeyJwt({ key: stranger.privateKey, kid: 'key-ES256' }) });
    const refreshToken = await server.mintRefreshToken('pkjwt-ES256');
    secrets.push(refreshToken);
    const refused = await endpoint.refresh(refreshToken).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'invalid_client' });
    expectNoSecrets(refused);
    const revokeRefused = await endpoint.revoke(refreshToken).catch((error: unknown) => error);
    expect(revokeRefused).toMatchObject({ code: 'revocation_failed', status: 401 });
    expect((revokeRefused as Error).message).toMatch(/client assertion/);
    expectNoSecrets(revokeRefused);
  });
});
