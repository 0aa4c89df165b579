/**
 * RFC 8705 in oauth2Endpoint and the logins, without a TLS server: the `tls` option's rules, the
 * request a certificate-authenticated client sends (client_id, no secret, through the transport's
 * fetch), `mtls_endpoint_aliases` (§5), the hints added to refusals and network failures; and
 * mtlsTransport's checks of the certificate and key (never quoting them).
 */
import { generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { deviceLogin, mtlsTransport, oauth2Endpoint, type MtlsTransport } from '../../../adapters/oauth2-node/index.js';
import { InvalidConfigError } from '../../../machines/lifecycle/errors.js';
import { makeTestPki, pemLines, type TestPki } from '../../support/test-pki.js';

const ISSUER = 'https://as.example';
const TOKEN_URL = `${ISSUER}/token`;

interface Sent {
  url: string;
  body: URLSearchParams;
  headers: Headers;
}

let pki: TestPki;
/** A real transport's notes (the texts live in the Node module). */
let notes: Pick<MtlsTransport, 'alias' | 'explain' | 'closedNote'>;
beforeAll(async () => {
  pki = makeTestPki();
  const real = await mtlsTransport({ cert: pki.client.cert, key: pki.client.key });
  notes = { alias: real.alias!, explain: real.explain!, closedNote: real.closedNote! };
  await real.close();
});

/** A stand-in for mtlsTransport(): records what goes through it and answers from `answer`. */
function fakeTransport(answer: (url: string) => Response | Promise<Response>): MtlsTransport & { sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    ...notes,
    kind: 'mtls',
    thumbprint: 'thumb',
    sent,
    async fetch(input, init) {
      const url = String(input);
      sent.push({ url, body: new URLSearchParams(String(init?.body ?? '')), headers: new Headers(init?.headers) });
      return answer(url);
    },
    close: async () => undefined,
  };
}

const json = (body: unknown, status = 200): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const TOKENS = { access_token: 'at', token_type: 'Bearer', expires_in: 60, refresh_token: 'rt2' };

describe('the tls option (RFC 8705)', () => {
  it('tls alone: tls_client_auth, client_id in the body and no secret, sent through the transport', async () => {
    const tls = fakeTransport(() => json(TOKENS));
    await oauth2Endpoint({ tokenUrl: TOKEN_URL, clientId: 'c1', tls }).refresh('rt1');
    expect(tls.sent).toHaveLength(1);
    const [request] = tls.sent;
    expect(Object.fromEntries(request!.body)).toEqual({ grant_type: 'refresh_token', refresh_token: 'rt1', client_id: 'c1' });
    expect(request!.headers.has('authorization')).toBe(false);
  });

  it('revocation goes through the transport too, with client_id', async () => {
    const tls = fakeTransport(() => new Response(null, { status: 200 }));
    await oauth2Endpoint({ tokenUrl: TOKEN_URL, revocationUrl: `${ISSUER}/revoke`, clientId: 'c1', authMethod: 'self_signed_tls_client_auth', tls }).revoke('rt1');
    expect(tls.sent.map((s) => [s.url, s.body.get('client_id'), s.body.get('token')])).toEqual([[`${ISSUER}/revoke`, 'c1', 'rt1']]);
  });

  it('with a secret, the secret authenticates and tls only carries the requests (certificate-bound tokens)', async () => {
    const tls = fakeTransport(() => json(TOKENS));
    await oauth2Endpoint({ tokenUrl: TOKEN_URL, clientId: 'c1', clientSecret: 's', tls }).refresh('rt1');
    expect(tls.sent[0]!.headers.get('authorization')).toMatch(/^Basic /);
  });

  it.each([
    [{ authMethod: 'tls_client_auth' as const }, /authMethod tls_client_auth takes tls, no clientSecret/],
    [{ authMethod: 'self_signed_tls_client_auth' as const }, /takes tls/],
    [{ authMethod: 'tls_client_auth' as const, clientSecret: 's', tls: fakeTransport(() => json(TOKENS)) }, /takes tls, no clientSecret/],
    [{ tls: fakeTransport(() => json(TOKENS)), fetch: globalThis.fetch }, /and no fetch or ky/],
    [{ tls: { cert: '-----BEGIN CERTIFICATE-----', key: 'PRIVATE-KEY-MATERIAL' } as never }, /tls takes mtlsTransport\(\) \(adapters\/oauth2\/node\)/],
    [{ tls: { kind: 'other' } as never }, /tls takes mtlsTransport/],
  ])('configuration wrong on its face throws invalid_config at once: %#', (extra, message) => {
    const make = () => oauth2Endpoint({ tokenUrl: TOKEN_URL, clientId: 'c1', ...extra });
    expect(make).toThrow(InvalidConfigError);
    expect(make).toThrow(message);
    try {
      make();
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('PRIVATE-KEY-MATERIAL');
    }
  });

  it('a refusal says the certificate was what the server may have refused', async () => {
    const tls = fakeTransport(() => json({ error: 'invalid_client' }, 401));
    const error = await oauth2Endpoint({ tokenUrl: TOKEN_URL, clientId: 'c1', tls }).refresh('rt1').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_client', status: 401 });
    expect((error as Error).message).toMatch(/TLS certificate \(tls_client_auth, RFC 8705\)/);
  });

  it('a transport without notes (one of your own) adds nothing to the messages', async () => {
    const { explain: _e, closedNote: _c, ...bare } = fakeTransport(() => json({ error: 'invalid_client' }, 401));
    const error = await oauth2Endpoint({ tokenUrl: TOKEN_URL, clientId: 'c1', tls: bare }).refresh('rt1').catch((e: unknown) => e);
    expect((error as Error).message).toBe('The token endpoint answered invalid_client (HTTP 401)');
  });

  it('a refusal of a secret-authenticated client over tls is not blamed on the certificate', async () => {
    const tls = fakeTransport(() => json({ error: 'invalid_client' }, 401));
    const error = await oauth2Endpoint({ tokenUrl: TOKEN_URL, clientId: 'c1', clientSecret: 's', tls }).refresh('rt1').catch((e: unknown) => e);
    expect((error as Error).message).not.toMatch(/RFC 8705/);
  });

  it('a connection closed under a client certificate says the handshake may have refused it; still retryable', async () => {
    const tls = fakeTransport(() => Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: { code: 'UND_ERR_SOCKET' } })));
    const error = await oauth2Endpoint({ tokenUrl: TOKEN_URL, clientId: 'c1', tls }).refresh('rt1').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'refresh_failed', retryable: true });
    expect((error as Error).message).toBe(
      'Token request failed: fetch failed (UND_ERR_SOCKET); the request went over a client certificate (RFC 8705): a server that refuses it in the TLS handshake closes the connection',
    );
    const revoke = await oauth2Endpoint({ tokenUrl: TOKEN_URL, revocationUrl: `${ISSUER}/r`, clientId: 'c1', tls }).revoke('rt1').catch((e: unknown) => e);
    expect((revoke as Error).message).toMatch(/UND_ERR_SOCKET\); the request went over a client certificate/);
  });
});

describe('mtls_endpoint_aliases (RFC 8705 §5)', () => {
  const metadata = {
    issuer: ISSUER,
    token_endpoint: `${ISSUER}/token`,
    revocation_endpoint: `${ISSUER}/revoke`,
    device_authorization_endpoint: `${ISSUER}/device`,
    authorization_endpoint: `${ISSUER}/authorize`,
    mtls_endpoint_aliases: {
      token_endpoint: 'https://mtls.as.example/token',
      revocation_endpoint: 'https://mtls.as.example/revoke',
      device_authorization_endpoint: 'https://mtls.as.example/device',
    },
  };
  const server = (url: string): Response => {
    if (url.includes('/.well-known/')) return json(metadata);
    if (url.endsWith('/device')) return json({ device_code: 'dc', user_code: 'UC', verification_uri: `${ISSUER}/activate`, expires_in: 60, interval: 0 });
    if (url.endsWith('/token')) return json(TOKENS);
    return new Response(null, { status: 200 });
  };

  it('a client over a certificate sends its token and revocation requests to the aliases', async () => {
    const tls = fakeTransport(server);
    const endpoint = oauth2Endpoint({ issuer: ISSUER, clientId: 'c1', tls });
    await endpoint.refresh('rt1');
    await endpoint.revoke('rt2');
    expect(tls.sent.map((s) => s.url).filter((u) => !u.includes('well-known'))).toEqual(['https://mtls.as.example/token', 'https://mtls.as.example/revoke']);
  });

  it('without tls the plain endpoints are used', async () => {
    const sent: string[] = [];
    const fetch = (async (input: string | URL | Request) => {
      sent.push(String(input));
      return server(String(input));
    }) as typeof globalThis.fetch;
    const endpoint = oauth2Endpoint({ issuer: ISSUER, clientId: 'c1', clientSecret: 's', fetch });
    await endpoint.refresh('rt1');
    expect(sent.filter((u) => !u.includes('well-known'))).toEqual([`${ISSUER}/token`]);
  });

  it('deviceLogin over a certificate: device authorization and polling at the aliases, client_id in both', async () => {
    const tls = fakeTransport(server);
    const tokens = await deviceLogin({ issuer: ISSUER, clientId: 'c1', tls, onPrompt: () => undefined });
    expect(tokens).toMatchObject({ access_token: 'at' });
    const calls = tls.sent.filter((s) => !s.url.includes('well-known'));
    expect(calls.map((s) => [s.url, s.body.get('client_id')])).toEqual([
      ['https://mtls.as.example/device', 'c1'],
      ['https://mtls.as.example/token', 'c1'],
    ]);
  });
});

describe('mtlsTransport', () => {
  it('gives the certificate thumbprint (cnf.x5t#S256) and hides the key: not in the value, however inspected', async () => {
    const tls = await mtlsTransport({ cert: pki.client.cert, key: pki.client.key, ca: pki.ca });
    try {
      expect(tls.kind).toBe('mtls');
      expect(tls.thumbprint).toBe(pki.client.thumbprint);
      const { inspect } = await import('node:util');
      const text = `${inspect(tls, { showHidden: true, depth: 10 })} ${JSON.stringify(tls)}`;
      for (const line of pemLines(pki.client.key)) expect(text).not.toContain(line);
      expect(Object.isFrozen(tls)).toBe(true);
    } finally {
      await tls.close();
    }
  });

  it('accepts bytes as well as strings', async () => {
    const tls = await mtlsTransport({ cert: Buffer.from(pki.client.cert), key: new TextEncoder().encode(pki.client.key) });
    expect(tls.thumbprint).toBe(pki.client.thumbprint);
    await tls.close();
  });

  it('a key that is not the certificate\'s: invalid_config', async () => {
    await expect(mtlsTransport({ cert: pki.client.cert, key: pki.stranger.key })).rejects.toThrow(/key is not the certificate's private key/);
  });

  it('an unreadable certificate or key: invalid_config that does not quote them', async () => {
    const garbage = '-----BEGIN PRIVATE KEY-----\nTOTALLY-SECRET-BYTES\n-----END PRIVATE KEY-----';
    const keyError = await mtlsTransport({ cert: pki.client.cert, key: garbage }).catch((e: unknown) => e);
    expect(keyError).toBeInstanceOf(InvalidConfigError);
    expect(inspectAll(keyError)).not.toContain('TOTALLY-SECRET-BYTES');
    const certError = await mtlsTransport({ cert: 'not a certificate', key: pki.client.key }).catch((e: unknown) => e);
    expect(certError).toMatchObject({ code: 'invalid_config', message: expect.stringMatching(/cert is not a readable PEM certificate/) });
    await expect(mtlsTransport({ cert: '', key: pki.client.key })).rejects.toThrow(/cert must be a PEM certificate/);
    await expect(mtlsTransport({ cert: pki.client.cert, key: pki.client.key, ca: [pki.ca, 42 as never] })).rejects.toThrow(/ca must be PEM/);
  });

  it('an encrypted key needs its passphrase; with it, it is taken', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    void publicKey;
    const encrypted = privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string;
    // Not this certificate's key: the passphrase check comes first.
    await expect(mtlsTransport({ cert: pki.client.cert, key: encrypted })).rejects.toThrow(/needs its passphrase/);
    await expect(mtlsTransport({ cert: pki.client.cert, key: encrypted, passphrase: 'wrong' })).rejects.toThrow(/passphrase is wrong/);
    await expect(mtlsTransport({ cert: pki.client.cert, key: encrypted, passphrase: 'pw' })).rejects.toThrow(/not the certificate's private key/);
  });
});

function inspectAll(value: unknown): string {
  const error = value as Error;
  return `${error.message} ${error.stack} ${JSON.stringify(error)} ${String(error.cause)}`;
}
