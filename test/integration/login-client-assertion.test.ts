/**
 * The logins authenticate the client as oauth2Endpoint does (R21): deviceLogin, loopbackLogin and
 * redirectLogin's code exchange with `private_key_jwt` (and deviceLogin with `client_secret_jwt`)
 * against oidc-provider, a confidential
 * native client registered with a JWKS. Every request the login makes to the server (the device
 * authorization, each poll, the code exchange) carries a fresh assertion, counted at the server by
 * the client authentication method it saw; the tokens then refresh through oauth2Endpoint with the
 * same key. A key the server does not know is `invalid_client`, saying an assertion was sent; no
 * assertion, key or token in what the login reports.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientSecretJwt,
  completeRedirectLogin,
  deviceLogin,
  loopbackLogin,
  oauth2Endpoint,
  privateKeyJwt,
  redirectLogin,
} from '../../adapters/oauth2-node/index.js';
import { LOGIN_SCOPE, startLoginServer, type LoginServer } from '../support/login-server.js';
import { actAsUser, type UserOutcome } from '../support/login-user.js';
import { EmissionLog } from '../support/secret-scan.js';

const PKJWT = 'login-pkjwt';
const SECRET_JWT = 'login-secret-jwt';
const JWT_SECRET = 'login+jwt/secret:%long-enough-for-hs256-signing';
const REDIRECT = 'http://127.0.0.1/callback';
const GRANTS = ['urn:ietf:params:oauth:grant-type:device_code', 'authorization_code', 'refresh_token'];

let server: LoginServer;
let keys: CryptoKeyPair;
/** Server-side: each request the provider handled, as `event client method`. */
const seen: string[] = [];
/** Client-side: every assertion sent (for the scan). */
const assertions: string[] = [];
const emitted = new EmissionLog();
const secrets = new Map<string, string>([['jwt-secret', JWT_SECRET]]);

const recording: typeof fetch = (input, init) => {
  const assertion = new URLSearchParams(typeof init?.body === 'string' || init?.body instanceof URLSearchParams ? init.body : '').get('client_assertion');
  if (assertion) {
    assertions.push(assertion);
    secrets.set(`assertion-${assertions.length}`, assertion);
  }
  return fetch(input, init);
};

interface ProviderContext {
  readonly path: string;
  readonly oidc?: { readonly client?: { readonly clientId: string; readonly clientAuthMethod: string } };
}

beforeAll(async () => {
  keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const jwk = { ...(await crypto.subtle.exportKey('jwk', keys.publicKey)), kid: 'login-key', alg: 'ES256', use: 'sig' };
  delete (jwk as { key_ops?: unknown }).key_ops;
  delete (jwk as { ext?: unknown }).ext;
  secrets.set('private-jwk', JSON.stringify(await crypto.subtle.exportKey('jwk', keys.privateKey)));
  secrets.set('private-d', String((await crypto.subtle.exportKey('jwk', keys.privateKey)).d));
  const native = { application_type: 'native', grant_types: GRANTS, response_types: ['code'], redirect_uris: [REDIRECT] };
  server = await startLoginServer({
    clients: [
      { client_id: PKJWT, token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256', jwks: { keys: [jwk as never] }, ...native },
      { client_id: SECRET_JWT, client_secret: JWT_SECRET, token_endpoint_auth_method: 'client_secret_jwt', ...native },
    ],
  });
  for (const event of ['device_authorization.success', 'grant.success', 'grant.error']) {
    server.provider.on(event, (...args: unknown[]) => {
      const client = (args[0] as ProviderContext).oidc?.client;
      if (client) seen.push(`${event} ${client.clientId} ${client.clientAuthMethod}`);
    });
  }
});
afterAll(async () => {
  await server?.stop();
  expect(emitted.size).toBeGreaterThan(5);
  const leaks = emitted.leaks(secrets);
  expect(leaks, JSON.stringify(leaks, null, 2)).toEqual([]);
});

function remember(tokens: unknown, name: string): void {
  for (const [field, value] of Object.entries(tokens as Record<string, unknown>)) {
    if (typeof value === 'string' && field.endsWith('token')) secrets.set(`${name}.${field}`, value);
  }
}

async function deviceLoginAs(clientId: string, auth: Parameters<typeof deviceLogin>[0]) {
  let acted: Promise<UserOutcome> | undefined;
  const tokens = await deviceLogin({
    ...auth,
    issuer: server.issuer,
    clientId,
    scope: LOGIN_SCOPE,
    fetch: recording,
    onPrompt(prompt) {
      acted = actAsUser(prompt.verificationUriComplete ?? prompt.verificationUri, server.issuer, { userCode: prompt.userCode });
    },
  }).catch((error: unknown) => error);
  await acted;
  return tokens;
}

describe('logins with client assertions against oidc-provider (RFC 7523)', () => {
  it('deviceLogin with private_key_jwt: the device authorization and every poll carry a fresh assertion; the tokens refresh with the same key', async () => {
    seen.length = 0;
    const before = assertions.length;
    const tokens = await deviceLoginAs(PKJWT, { onPrompt: () => undefined, clientId: PKJWT, clientAssertion: privateKeyJwt({ key: keys.privateKey, kid: 'login-key' }) });
    expect(tokens).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String), refresh_token: expect.any(String) });
    remember(tokens, 'device');
    emitted.add('tokens-result-shape', Object.keys(tokens as object));

    // At the server: the device authorization and each poll, all authenticated by private_key_jwt.
    const polls = seen.filter((s) => s.startsWith('grant.'));
    expect(seen[0]).toBe(`device_authorization.success ${PKJWT} private_key_jwt`);
    expect(polls.at(-1)).toBe(`grant.success ${PKJWT} private_key_jwt`);
    expect(polls.every((s) => s.endsWith(`${PKJWT} private_key_jwt`))).toBe(true);
    const sent = assertions.slice(before);
    expect(sent).toHaveLength(seen.length);
    expect(new Set(sent.map((jwt) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()).jti)).size).toBe(sent.length);

    // oauth2Endpoint with the same key refreshes what the login got.
    const endpoint = oauth2Endpoint({ issuer: server.issuer, clientId: PKJWT, clientAssertion: privateKeyJwt({ key: keys.privateKey, kid: 'login-key' }) });
    const refreshed = await endpoint.refresh((tokens as { refresh_token: string }).refresh_token);
    remember(refreshed, 'device-refreshed');
    expect(seen.at(-1)).toBe(`grant.success ${PKJWT} private_key_jwt`);
  });

  it('loopbackLogin with private_key_jwt: the code exchange carries the assertion', async () => {
    seen.length = 0;
    const before = assertions.length;
    let acted: Promise<UserOutcome> | undefined;
    const tokens = await loopbackLogin({
      issuer: server.issuer,
      clientId: PKJWT,
      clientAssertion: privateKeyJwt({ key: keys.privateKey, kid: 'login-key' }),
      scope: LOGIN_SCOPE,
      authorizationParams: { prompt: 'consent' },
      fetch: recording,
      onAuthorizationUrl(url) {
        acted = actAsUser(url, server.issuer, {});
      },
    });
    expect((await acted)?.text).toContain('You are logged in');
    remember(tokens, 'loopback');
    expect(tokens).toMatchObject({ token_type: 'Bearer', refresh_token: expect.any(String) });
    // One token request (the code exchange), authenticated by the assertion.
    expect(seen).toEqual([`grant.success ${PKJWT} private_key_jwt`]);
    expect(assertions.length - before).toBe(1);
    expect(server.counts.tokenByGrant.authorization_code).toBeGreaterThanOrEqual(1);
  });

  it("redirectLogin's code exchange with private_key_jwt (a back end completing the login)", async () => {
    const app = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<p>app</p>'));
    await new Promise<void>((done) => app.listen(0, '127.0.0.1', done));
    try {
      const items = new Map<string, string>();
      const store = { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => void items.set(k, v), removeItem: (k: string) => void items.delete(k) };
      const navigated: string[] = [];
      const options = {
        issuer: server.issuer,
        clientId: PKJWT,
        clientAssertion: privateKeyJwt({ key: keys.privateKey, kid: 'login-key' }),
        scope: LOGIN_SCOPE,
        redirectUri: `http://127.0.0.1:${(app.address() as AddressInfo).port}/callback`,
        authorizationParams: { prompt: 'consent' },
        store,
        fetch: recording,
        navigate: (url: string) => void navigated.push(url),
      };
      await redirectLogin(options);
      const outcome = await actAsUser(navigated[0]!, server.issuer, {});
      seen.length = 0;
      const before = assertions.length;
      const tokens = await completeRedirectLogin({ ...options, url: outcome.url });
      remember(tokens, 'redirect');
      expect(tokens).toMatchObject({ token_type: 'Bearer', refresh_token: expect.any(String) });
      expect(seen).toEqual([`grant.success ${PKJWT} private_key_jwt`]);
      expect(assertions.length - before).toBe(1);
    } finally {
      await new Promise<void>((done) => app.close(() => done()));
    }
  });

  it('deviceLogin with client_secret_jwt: assertions signed with the secret, which is never sent', async () => {
    seen.length = 0;
    const bodies: string[] = [];
    const tokens = await deviceLoginAs(SECRET_JWT, {
      onPrompt: () => undefined,
      clientId: SECRET_JWT,
      clientSecret: JWT_SECRET,
      clientAssertion: clientSecretJwt(),
      fetch: (input, init) => {
        bodies.push(String(init?.body ?? ''));
        return recording(input, init);
      },
    });
    remember(tokens, 'secret-jwt');
    expect(tokens).toMatchObject({ access_token: expect.any(String) });
    expect(seen.every((s) => s.endsWith(`${SECRET_JWT} client_secret_jwt`))).toBe(true);
    expect(bodies.join('\n')).not.toContain(encodeURIComponent(JWT_SECRET));
  });

  it('a key the server does not know: invalid_client at the device authorization, saying an assertion was sent', async () => {
    const stranger = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as CryptoKeyPair;
    let prompted = false;
    const error = await deviceLogin({
      issuer: server.issuer,
      clientId: PKJWT,
      clientAssertion: privateKeyJwt({ key: stranger.privateKey, kid: 'login-key' }),
      fetch: recording,
      onPrompt: () => (prompted = true),
    }).catch((e: unknown) => e);
    expect(prompted).toBe(false);
    expect(error).toMatchObject({ code: 'invalid_client', status: 401 });
    expect((error as Error).message).toMatch(/client assertion \(RFC 7523\) was sent/);
    emitted.add('device-error', error);

    let acted: Promise<UserOutcome> | undefined;
    const loopbackError = await loopbackLogin({
      issuer: server.issuer,
      clientId: PKJWT,
      clientAssertion: privateKeyJwt({ key: stranger.privateKey, kid: 'login-key' }),
      scope: LOGIN_SCOPE,
      fetch: recording,
      onAuthorizationUrl(url) {
        acted = actAsUser(url, server.issuer, {});
      },
    }).catch((e: unknown) => e);
    await acted;
    expect(loopbackError).toMatchObject({ code: 'invalid_client' });
    expect((loopbackError as Error).message).toMatch(/client assertion \(RFC 7523\) was sent/);
    emitted.add('loopback-error', loopbackError);
  });
});
