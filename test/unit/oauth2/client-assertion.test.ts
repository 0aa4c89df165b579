/**
 * Client assertions (RFC 7523 §2.2): the claims and header of each signed JWT, its signature checked
 * with the public key, a fresh jti per request, and configuration wrong on its face refused at once.
 */
import { describe, expect, it } from 'vitest';
import { createClientAssertionSigner, createSecretAssertionSigner, ASSERTION_LIFETIME_S } from '../../../adapters/oauth2/client-assertion.js';
import { clientSecretJwt, oauth2Endpoint, privateKeyJwt } from '../../../adapters/oauth2/index.js';

const subtle = globalThis.crypto.subtle;
const AUD = 'https://as.example/token';

function decodePart(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

async function verifies(jwt: string, key: CryptoKey, params: AlgorithmIdentifier | RsaPssParams | EcdsaParams): Promise<boolean> {
  const [header, payload, signature] = jwt.split('.') as [string, string, string];
  return subtle.verify(params, key, Buffer.from(signature, 'base64url'), new TextEncoder().encode(`${header}.${payload}`));
}

const KEYS = {
  RS256: { gen: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, verify: { name: 'RSASSA-PKCS1-v1_5' } },
  PS256: { gen: { name: 'RSA-PSS', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, verify: { name: 'RSA-PSS', saltLength: 32 } },
  ES256: { gen: { name: 'ECDSA', namedCurve: 'P-256' }, verify: { name: 'ECDSA', hash: 'SHA-256' } },
} as const;

describe('private_key_jwt assertions', () => {
  for (const alg of ['RS256', 'PS256', 'ES256'] as const) {
    it(`${alg}: iss = sub = client_id, the audience given, exp ≤ 60 s after iat, signed by the key`, async () => {
      const pair = (await subtle.generateKey(KEYS[alg].gen, false, ['sign', 'verify'])) as CryptoKeyPair;
      const signer = createClientAssertionSigner('my-client', { key: pair.privateKey, kid: 'k1' }, () => 1_700_000_000_000);
      const jwt = await signer.sign(AUD);
      const [header, payload] = jwt.split('.') as [string, string];
      expect(decodePart(header)).toEqual({ alg, typ: 'JWT', kid: 'k1' });
      const claims = decodePart(payload);
      expect(claims).toMatchObject({ iss: 'my-client', sub: 'my-client', aud: AUD, iat: 1_700_000_000 });
      expect((claims.exp as number) - (claims.iat as number)).toBe(ASSERTION_LIFETIME_S);
      expect(ASSERTION_LIFETIME_S).toBeLessThanOrEqual(60);
      expect(await verifies(jwt, pair.publicKey, KEYS[alg].verify)).toBe(true);
    });
  }

  it('a fresh jti on every assertion', async () => {
    const pair = (await subtle.generateKey(KEYS.ES256.gen, false, ['sign', 'verify'])) as CryptoKeyPair;
    const signer = createClientAssertionSigner('c', { key: pair.privateKey });
    const jtis = new Set<unknown>();
    for (let i = 0; i < 5; i += 1) jtis.add(decodePart((await signer.sign(AUD)).split('.')[1]!).jti);
    expect(jtis.size).toBe(5);
  });

  it("a private JWK: imported once, its kid in the header, alg from the JWK's kty", async () => {
    const pair = (await subtle.generateKey(KEYS.RS256.gen, true, ['sign', 'verify'])) as CryptoKeyPair;
    const jwk = { ...(await subtle.exportKey('jwk', pair.privateKey)), kid: 'from-jwk' };
    delete jwk.alg;
    const signer = createClientAssertionSigner('c', { key: jwk as { kty: string } });
    const jwt = await signer.sign(AUD);
    expect(decodePart(jwt.split('.')[0]!)).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'from-jwk' });
    expect(await verifies(jwt, pair.publicKey, KEYS.RS256.verify)).toBe(true);
    // The same RSA JWK may sign PS256 when asked.
    const pss = createClientAssertionSigner('c', { key: jwk as { kty: string }, alg: 'PS256' });
    expect(decodePart((await pss.sign(AUD)).split('.')[0]!).alg).toBe('PS256');
  });

  it('configuration wrong on its face is invalid_config, at construction', async () => {
    const ec = (await subtle.generateKey(KEYS.ES256.gen, false, ['sign', 'verify'])) as CryptoKeyPair;
    const hmac = await subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const base = { issuer: 'https://as.example', clientId: 'c' };
    const bad: Array<[string, () => unknown]> = [
      ['no key', () => oauth2Endpoint({ ...base, authMethod: 'private_key_jwt' })],
      ['a public key', () => privateKeyJwt({ key: ec.publicKey })],
      ['an HMAC key', () => privateKeyJwt({ key: hmac })],
      ['an alg the key cannot sign', () => privateKeyJwt({ key: ec.privateKey, alg: 'RS256' })],
      ['a public JWK (no d)', () => privateKeyJwt({ key: { kty: 'EC', crv: 'P-256', x: 'a', y: 'b' } })],
      ['no options', () => privateKeyJwt(undefined as never)],
      ['a secret as well', () => oauth2Endpoint({ ...base, clientSecret: 's', authMethod: 'private_key_jwt', clientAssertion: privateKeyJwt({ key: ec.privateKey }) })],
      ['client_secret_jwt without a secret', () => oauth2Endpoint({ ...base, clientAssertion: clientSecretJwt() })],
      ['an assertion key with client_secret_basic', () => oauth2Endpoint({ ...base, clientSecret: 's', authMethod: 'client_secret_basic', clientAssertion: privateKeyJwt({ key: ec.privateKey }) })],
      ['an assertion of the other method', () => oauth2Endpoint({ ...base, clientSecret: 's', authMethod: 'client_secret_jwt', clientAssertion: privateKeyJwt({ key: ec.privateKey }) })],
      ['audience issuer without an issuer', () => oauth2Endpoint({ tokenUrl: 'https://as.example/token', clientId: 'c', clientAssertion: privateKeyJwt({ key: ec.privateKey, audience: 'issuer' }) })],
    ];
    for (const [name, make] of bad) expect(make, name).toThrow(expect.objectContaining({ code: 'invalid_config' }));
  });
});

describe('the clientAssertion option takes a plug-in (privateKeyJwt, clientSecretJwt): apps without one do not bundle the signer', () => {
  it("sets the default authMethod to the plug-in's", async () => {
    const ec = (await subtle.generateKey(KEYS.ES256.gen, false, ['sign', 'verify'])) as CryptoKeyPair;
    const seen: URLSearchParams[] = [];
    const fetch = async (_url: unknown, init?: RequestInit) => {
      seen.push(new URLSearchParams(init?.body as URLSearchParams));
      return new Response(JSON.stringify({ access_token: 'at', token_type: 'Bearer' }), { headers: { 'content-type': 'application/json' } });
    };
    const base = { tokenUrl: 'https://as.example/token', clientId: 'c', grant: 'client_credentials' as const, fetch };
    await oauth2Endpoint({ ...base, clientAssertion: privateKeyJwt({ key: ec.privateKey }) }).refresh(undefined);
    await oauth2Endpoint({ ...base, clientSecret: 'the-secret', clientAssertion: clientSecretJwt() }).refresh(undefined);
    const algs = seen.map((body) => decodePart(body.get('client_assertion')!.split('.')[0]!).alg);
    expect(algs).toEqual(['ES256', 'HS256']);
    expect(seen.map((body) => body.get('client_assertion_type'))).toEqual(Array(2).fill('urn:ietf:params:oauth:client-assertion-type:jwt-bearer'));
    expect(seen[1]!.has('client_secret')).toBe(false);
  });

  it('the former plain { key } value, and client_secret_jwt without clientSecretJwt(), are invalid_config naming the factory', async () => {
    const ec = (await subtle.generateKey(KEYS.ES256.gen, false, ['sign', 'verify'])) as CryptoKeyPair;
    const base = { issuer: 'https://as.example', clientId: 'c' };
    expect(() => oauth2Endpoint({ ...base, clientAssertion: { key: ec.privateKey } as never })).toThrow(
      expect.objectContaining({ code: 'invalid_config', message: expect.stringContaining('privateKeyJwt') }),
    );
    expect(() => oauth2Endpoint({ ...base, clientSecret: 's', authMethod: 'client_secret_jwt' })).toThrow(
      expect.objectContaining({ code: 'invalid_config', message: expect.stringContaining('clientSecretJwt()') }),
    );
  });
});

describe('client_secret_jwt assertions', () => {
  it('HS256 with the secret as the key; the secret is not in the assertion', async () => {
    const secret = 'a+secret/with:odd%chars';
    const jwt = await createSecretAssertionSigner('c', secret).sign(AUD);
    const key = await subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    expect(decodePart(jwt.split('.')[0]!)).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(decodePart(jwt.split('.')[1]!)).toMatchObject({ iss: 'c', sub: 'c', aud: AUD });
    expect(await verifies(jwt, key, { name: 'HMAC' })).toBe(true);
    expect(jwt).not.toContain(Buffer.from(secret).toString('base64url'));
  });
});
