/**
 * Mutual-TLS client authentication (RFC 8705) against oidc-provider over HTTPS, the server asking for
 * client certificates (a CA, server and client certificates made by the test): `tls_client_auth` and
 * `self_signed_tls_client_auth` through a manager, each round trip counted at the server; access
 * tokens bound to the certificate (`cnf.x5t#S256`) reaching a resource server that checks the
 * thumbprint, through authFetch and kyAuth given the same transport; a missing, untrusted or
 * unregistered certificate refused as a clear typed error; key and certificate in no error, event,
 * status or rendering of what we hand out.
 */
import ky from 'ky';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authFetch, kyAuth } from '../../adapters/http/index.js';
import { loopbackLogin, mtlsTransport, oauth2Endpoint, type MtlsTransport, type OAuth2EndpointOptions } from '../../adapters/oauth2-node/index.js';
import { createTokenManager } from '../../machines/manager/manager.js';
import type { AuthServer } from '../support/oidc-server.js';
import { actAsUser, type UserOutcome } from '../support/login-user.js';
import { MTLS_CLIENTS, startBoundResourceServer, startMtlsAuthServer, type BoundResourceServer } from '../support/mtls-server.js';
import { EmissionLog } from '../support/secret-scan.js';
import { makeTestPki, pemBody, pemLines, type TestPki } from '../support/test-pki.js';

let pki: TestPki;
let server: AuthServer;
let api: BoundResourceServer;
const transports: MtlsTransport[] = [];
const emitted = new EmissionLog();
/** Key material, certificates and every token handed out: none may appear in what we emit. */
const secrets = new Map<string, string>();

async function transport(pair: { cert: string; key: string }): Promise<MtlsTransport> {
  const made = await mtlsTransport({ cert: pair.cert, key: pair.key, ca: pki.ca });
  transports.push(made);
  return made;
}

function endpoint(tls: MtlsTransport, extra: Partial<OAuth2EndpointOptions> = {}) {
  return oauth2Endpoint({ issuer: server.issuer, clientId: MTLS_CLIENTS.pki, authMethod: 'tls_client_auth', tls, ...extra });
}

function remember(tokens: { accessToken?: string; refreshToken?: string | undefined } | Record<string, unknown>, name: string): void {
  for (const [field, value] of Object.entries(tokens)) {
    if (typeof value === 'string' && /token/i.test(field) && value.length > 8) secrets.set(`${name}.${field}`, value);
  }
}

/**
 * A manager over `tokenEndpoint`, logged in with `refreshToken` and refreshed twice: each refresh
 * rotates (2 token requests at the server). Its events and tokens go to the leak scan.
 */
async function refreshedTwice(tokenEndpoint: ReturnType<typeof oauth2Endpoint>, refreshToken: string, label: string) {
  const manager = createTokenManager({ endpoint: tokenEndpoint });
  manager.subscribe((event) => emitted.add('event', event));
  server.counts.reset();
  await manager.setToken('default', { access_token: 'initial-access', token_type: 'Bearer', expires_in: 1, refresh_token: refreshToken });
  const first = await manager.refresh('default');
  const second = await manager.refresh('default');
  remember(first, `${label}first`);
  remember(second, `${label}second`);
  expect(second.refreshToken).not.toBe(first.refreshToken);
  expect(server.counts.tokenByGrant).toEqual({ refresh_token: 2 });
  return { manager, first, second };
}

beforeAll(async () => {
  pki = makeTestPki();
  for (const [name, pair] of Object.entries({ client: pki.client, selfSigned: pki.selfSigned, stranger: pki.stranger })) {
    secrets.set(`${name}.key`, pair.key);
    secrets.set(`${name}.keyBody`, pemBody(pair.key));
    // Each line of the key too: a part of it is a leak as well.
    pemLines(pair.key).forEach((line, i) => secrets.set(`${name}.keyLine${i}`, line));
    secrets.set(`${name}.certBody`, pemBody(pair.cert));
  }
  server = await startMtlsAuthServer(pki);
  api = await startBoundResourceServer(pki, server);
});
afterAll(async () => {
  await Promise.all(transports.map((t) => t.close()));
  await api?.stop();
  await server?.stop();
  expect(emitted.size).toBeGreaterThan(10);
  const leaks = emitted.leaks(secrets);
  expect(leaks, JSON.stringify(leaks, null, 2)).toEqual([]);
});

describe('tls_client_auth against oidc-provider over HTTPS (RFC 8705)', () => {
  it('refresh with rotation, bound tokens at the API through authFetch and kyAuth, revocation: counted at the server', async () => {
    const tls = await transport(pki.client);
    expect(tls.thumbprint).toBe(pki.client.thumbprint);
    const refreshToken = await server.mintRefreshToken(MTLS_CLIENTS.pki);
    secrets.set('minted', refreshToken);
    const { manager, first, second } = await refreshedTwice(endpoint(tls), refreshToken, '');
    expect(first.refreshToken).not.toBe(refreshToken);

    // The access token is bound to the client certificate (cnf.x5t#S256, RFC 8705 §3.1).
    const stored = (await server.provider.AccessToken.find(second.accessToken)) as unknown as Record<string, unknown>;
    expect(stored['x5t#S256']).toBe(pki.client.thumbprint);

    // The API takes it over the same certificate: authFetch and kyAuth given the transport's fetch.
    const viaFetch = await authFetch(manager, { fetch: tls.fetch })(api.url);
    expect(viaFetch.status).toBe(200);
    expect(await viaFetch.json()).toEqual({ ok: true, bound: pki.client.thumbprint });
    const viaKy = await ky.create({ ...kyAuth(manager, { fetch: tls.fetch }), retry: 0 }).get(api.url).json();
    expect(viaKy).toEqual({ ok: true, bound: pki.client.thumbprint });
    // Over another certificate the same token is refused (a stolen token is worth nothing).
    const other = await transport(pki.stranger);
    const stolen = await other.fetch(api.url, { headers: { authorization: `Bearer ${second.accessToken}` } });
    expect(stolen.status).toBe(401);
    expect(api.outcomes).toMatchObject({ ok: 2, 'wrong-certificate': 1 });
    // No refresh was needed for the API calls.
    expect(server.counts.tokenByGrant).toEqual({ refresh_token: 2 });

    emitted.add('status', manager.status('default'));
    await manager.remove('default');
    expect(server.counts.revocation).toBe(1);
    // The grant is dead at the server.
    const dead = await endpoint(tls).refresh(second.refreshToken).catch((error: unknown) => error);
    expect(dead).toMatchObject({ code: 'invalid_grant' });
    emitted.add('error', dead);
    emitted.add('transport', tls);
    await manager.stop();
  });

  it('a certificate from a CA the server does not trust: invalid_client, saying the certificate was refused', async () => {
    const stranger = await transport(pki.stranger);
    const refreshToken = await server.mintRefreshToken(MTLS_CLIENTS.pki);
    secrets.set('minted-stranger', refreshToken);
    const error = await endpoint(stranger).refresh(refreshToken).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_client', status: 401, retryable: false });
    expect((error as Error).message).toMatch(/TLS certificate \(tls_client_auth, RFC 8705\).*not issued by a CA it trusts/);
    emitted.add('error', error);
    const revokeError = await endpoint(stranger).revoke(refreshToken).catch((e: unknown) => e);
    expect(revokeError).toMatchObject({ code: 'revocation_failed', status: 401 });
    expect((revokeError as Error).message).toMatch(/tls_client_auth/);
    emitted.add('error', revokeError);
  });

  it('no certificate at all: invalid_client', async () => {
    const { Agent } = await import('undici');
    const agent = new Agent({ connect: { ca: pki.ca } });
    // A transport that trusts the server but presents no certificate (the notes of a real one).
    const { alias, explain, closedNote } = await transport(pki.client);
    const bare: MtlsTransport = {
      ...(alias ? { alias } : {}),
      ...(explain ? { explain } : {}),
      ...(closedNote ? { closedNote } : {}),
      kind: 'mtls',
      thumbprint: 'none',
      fetch: (input, init) => fetch(input, { ...init, dispatcher: agent } as RequestInit),
      close: () => agent.close(),
    };
    transports.push(bare);
    const refreshToken = await server.mintRefreshToken(MTLS_CLIENTS.pki);
    secrets.set('minted-bare', refreshToken);
    const error = await endpoint(bare).refresh(refreshToken).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_client', status: 401 });
    expect((error as Error).message).toMatch(/none sent/);
    emitted.add('error', error);
  });

  it('a server that requires the certificate in the handshake: an untrusted one fails the connection, as a typed refresh_failed', async () => {
    const strict = await startMtlsAuthServer(pki, { requireCertificate: true });
    try {
      const stranger = await transport(pki.stranger);
      const refreshToken = await strict.mintRefreshToken(MTLS_CLIENTS.pki);
      secrets.set('minted-strict', refreshToken);
      const ep = oauth2Endpoint({ tokenUrl: strict.tokenUrl, clientId: MTLS_CLIENTS.pki, tls: stranger });
      const error = await ep.refresh(refreshToken).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'refresh_failed', retryable: true });
      expect((error as Error).message).toMatch(/^Token request failed: fetch failed \(UND_ERR_SOCKET\); the request went over a client certificate/);
      emitted.add('error', error);
      // The trusted certificate goes through the same server.
      const ok = oauth2Endpoint({ tokenUrl: strict.tokenUrl, clientId: MTLS_CLIENTS.pki, tls: await transport(pki.client) });
      const tokens = (await ok.refresh(refreshToken)) as Record<string, unknown>;
      remember(tokens, 'strict');
      expect(tokens).toMatchObject({ token_type: 'Bearer' });
    } finally {
      await strict.stop();
    }
  });
});

describe('self_signed_tls_client_auth against oidc-provider (RFC 8705 §2.2)', () => {
  it('refresh with rotation and revocation through a manager; the token bound to the self-signed certificate', async () => {
    const tls = await transport(pki.selfSigned);
    const refreshToken = await server.mintRefreshToken(MTLS_CLIENTS.selfSigned);
    secrets.set('minted-self', refreshToken);
    const { manager } = await refreshedTwice(
      oauth2Endpoint({ issuer: server.issuer, clientId: MTLS_CLIENTS.selfSigned, authMethod: 'self_signed_tls_client_auth', tls }),
      refreshToken,
      'self-',
    );
    const response = await authFetch(manager, { fetch: tls.fetch })(api.url);
    expect(await response.json()).toEqual({ ok: true, bound: pki.selfSigned.thumbprint });
    emitted.add('status', manager.status('default'));
    await manager.remove('default');
    expect(server.counts.revocation).toBe(1);
    await manager.stop();
  });

  it('a certificate not in the client\'s registered keys: invalid_client, saying so', async () => {
    const refreshToken = await server.mintRefreshToken(MTLS_CLIENTS.selfSigned);
    secrets.set('minted-self-wrong', refreshToken);
    const ep = oauth2Endpoint({
      issuer: server.issuer,
      clientId: MTLS_CLIENTS.selfSigned,
      authMethod: 'self_signed_tls_client_auth',
      tls: await transport(pki.client),
    });
    const error = await ep.refresh(refreshToken).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_client', status: 401 });
    expect((error as Error).message).toMatch(/self_signed_tls_client_auth.*registered keys/);
    emitted.add('error', error);
  });
});

describe('loopbackLogin over the client certificate (RFC 8705 with RFC 8252)', () => {
  it('the code exchange authenticates with tls_client_auth, the tokens are bound to the certificate and refresh through a manager', async () => {
    const tls = await transport(pki.client);
    const { Agent } = await import('undici');
    // The person's browser trusts the test CA and has no client certificate.
    const browserAgent = new Agent({ connect: { ca: pki.ca } });
    const browser = (url: URL, init: RequestInit) => fetch(url, { ...init, dispatcher: browserAgent } as RequestInit);
    server.counts.reset();
    let acted: Promise<UserOutcome> | undefined;
    try {
      const tokens = await loopbackLogin({
        issuer: server.issuer,
        clientId: MTLS_CLIENTS.native,
        authMethod: 'tls_client_auth',
        tls,
        scope: 'openid offline_access',
        authorizationParams: { prompt: 'consent' },
        onAuthorizationUrl(url) {
          acted = actAsUser(url, server.issuer, { fetch: browser });
        },
      });
      expect((await acted)?.text).toContain('You are logged in');
      remember(tokens, 'loopback');
      expect(tokens).toMatchObject({ token_type: 'Bearer', refresh_token: expect.any(String) });
      const bound = (await server.provider.AccessToken.find(String(tokens.access_token))) as unknown as Record<string, unknown>;
      expect(bound['x5t#S256']).toBe(pki.client.thumbprint);

      const manager = createTokenManager({ endpoint: endpoint(tls, { clientId: MTLS_CLIENTS.native }) });
      manager.subscribe((event) => emitted.add('event', event));
      await manager.setToken('default', tokens);
      const refreshed = await manager.refresh('default');
      remember(refreshed, 'loopback-refreshed');
      expect((await authFetch(manager, { fetch: tls.fetch })(api.url)).status).toBe(200);
      expect(server.counts.tokenByGrant).toEqual({ authorization_code: 1, refresh_token: 1 });
      await manager.stop();
    } finally {
      await browserAgent.close();
    }
  });
});
