/**
 * Client assertions (RFC 7523 §2.2, OIDC Core §9): `private_key_jwt` signs a short JWT with the
 * client's private key (RS256, PS256 or ES256), `client_secret_jwt` with its secret (HS256). A fresh
 * `jti` and a lifetime of at most 60 s per request, so a captured assertion is worth little. WebCrypto
 * only (R16). The key and the assertions never leave this module except in the request body.
 * `privateKeyJwt()` and `clientSecretJwt()` make the `clientAssertion` option's value: an app that
 * imports neither does not bundle this module.
 */
import { InvalidConfigError } from '../../machines/lifecycle/errors.js';
import { randomBase64url } from './base64url.js';
import { encodeHeader, signJws, type JwsAlgorithm } from './jws.js';
import type { WebCryptoKey } from './web-crypto-key.js';

export type ClientAssertionAlgorithm = 'RS256' | 'PS256' | 'ES256';

/** A private JWK (RFC 7517) as `JSON.parse` gives it: RSA (`n`, `e`, `d`, ...) or EC P-256 (`x`, `y`, `d`). */
export interface ClientAssertionJwk {
  readonly kty: string;
  readonly crv?: string;
  readonly d?: string;
  readonly alg?: string;
  readonly kid?: string;
  readonly [member: string]: unknown;
}

export interface ClientAssertionOptions {
  /** The private key: a WebCrypto key allowed to `sign`, or a private JWK (imported once, not extractable). */
  key: WebCryptoKey | ClientAssertionJwk;
  /** The `kid` header: which of the client's registered keys verifies (default: the JWK's `kid`). */
  kid?: string;
  /** Default: from the key (RSASSA-PKCS1-v1_5 → RS256, RSA-PSS → PS256, ECDSA P-256 → ES256; a JWK's `alg`). */
  alg?: ClientAssertionAlgorithm;
  /**
   * The `aud` claim: the token endpoint URL (default; RFC 7523 §3 names it and every major server takes
   * it) or the issuer identifier, as the server documents (e.g. servers following FAPI 2.0).
   */
  audience?: 'token_endpoint' | 'issuer';
}

/** RFC 7523 §3 leaves the lifetime to the client; short limits replay. */
export const ASSERTION_LIFETIME_S = 60;

/** Signs one assertion per request for `audience`. */
export interface ClientAssertionSigner {
  readonly audience: 'token_endpoint' | 'issuer';
  sign(audience: string): Promise<string>;
}

/** The `clientAssertion` option: made by `privateKeyJwt({ key })` or `clientSecretJwt()`. */
export interface ClientAssertion {
  /** The `authMethod` it implements (and the default `authMethod` when it is given). */
  readonly authMethod: 'private_key_jwt' | 'client_secret_jwt';
  /** The signer for one client (`iss` = `sub` = `clientId`); `clientSecret` is the HS256 key of client_secret_jwt. */
  signer(clientId: string, clientSecret: string | undefined): ClientAssertionSigner;
}

/**
 * `private_key_jwt` (RFC 7523 §2.2): `oauth2Endpoint({ clientId, clientAssertion: privateKeyJwt({ key, kid? }) })`.
 * The key and algorithm are checked now (`invalid_config`); a JWK is imported on first use.
 */
export function privateKeyJwt(options: ClientAssertionOptions): ClientAssertion {
  return keyAssertion(options, Date.now);
}

/**
 * `client_secret_jwt` (RFC 7523 §2.2): `oauth2Endpoint({ clientId, clientSecret, clientAssertion: clientSecretJwt() })`;
 * assertions are signed HS256 with the client secret, which itself is never sent.
 */
export function clientSecretJwt(): ClientAssertion {
  return {
    authMethod: 'client_secret_jwt',
    signer: (clientId, clientSecret) => createSecretAssertionSigner(clientId, clientSecret ?? ''),
  };
}

const ALGORITHMS: readonly ClientAssertionAlgorithm[] = ['RS256', 'PS256', 'ES256'];
const IMPORT_PARAMS: Readonly<Record<ClientAssertionAlgorithm, { name: string; hash?: string; namedCurve?: string }>> = {
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  PS256: { name: 'RSA-PSS', hash: 'SHA-256' },
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
};

interface KeyAlgorithmLike {
  readonly name?: unknown;
  readonly namedCurve?: unknown;
  readonly hash?: { readonly name?: unknown };
}

function isCryptoKey(key: unknown): key is WebCryptoKey {
  return typeof key === 'object' && key !== null && 'algorithm' in key && 'usages' in key && 'type' in key;
}

/** The JWS algorithm a WebCrypto key signs with, or undefined if it is none of ours. */
function algorithmOfKey(key: WebCryptoKey): ClientAssertionAlgorithm | undefined {
  const algorithm = key.algorithm as KeyAlgorithmLike;
  if (algorithm.name === 'ECDSA') return algorithm.namedCurve === 'P-256' ? 'ES256' : undefined;
  if (algorithm.hash?.name !== 'SHA-256') return undefined;
  if (algorithm.name === 'RSASSA-PKCS1-v1_5') return 'RS256';
  if (algorithm.name === 'RSA-PSS') return 'PS256';
  return undefined;
}

function algorithmOfJwk(jwk: ClientAssertionJwk): ClientAssertionAlgorithm | undefined {
  if (jwk.alg !== undefined) return ALGORITHMS.find((alg) => alg === jwk.alg);
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  return undefined;
}

/** A `private_key_jwt` signer for one client (tests inject `now`). */
export function createClientAssertionSigner(clientId: string, options: ClientAssertionOptions, now: () => number = Date.now): ClientAssertionSigner {
  return keyAssertion(options, now).signer(clientId, undefined);
}

/** Checks the options now (configuration wrong on its face throws `invalid_config`); imports a JWK lazily. */
function keyAssertion(options: ClientAssertionOptions, now: () => number): ClientAssertion {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidConfigError('privateKeyJwt needs { key }');
  }
  const { key, kid, alg: wanted } = options;
  const audience = options.audience ?? 'token_endpoint';
  if (audience !== 'token_endpoint' && audience !== 'issuer') {
    throw new InvalidConfigError('clientAssertion.audience must be token_endpoint or issuer');
  }
  if (wanted !== undefined && !ALGORITHMS.includes(wanted)) {
    throw new InvalidConfigError(`clientAssertion.alg must be one of ${ALGORITHMS.join(', ')}`);
  }
  if (kid !== undefined && (typeof kid !== 'string' || kid === '')) throw new InvalidConfigError('clientAssertion.kid must be a non-empty string');

  let alg: ClientAssertionAlgorithm;
  let signingKey: () => Promise<WebCryptoKey>;
  let headerKid = kid;
  if (isCryptoKey(key)) {
    const ofKey = algorithmOfKey(key);
    if (ofKey === undefined || key.type !== 'private' || !key.usages.includes('sign')) {
      throw new InvalidConfigError('clientAssertion.key must be a private RSA (SHA-256) or ECDSA P-256 signing key');
    }
    if (wanted !== undefined && wanted !== ofKey) throw new InvalidConfigError(`clientAssertion.alg ${wanted} does not fit the key (${ofKey})`);
    alg = ofKey;
    signingKey = () => Promise.resolve(key);
  } else if (typeof key === 'object' && key !== null && typeof (key as ClientAssertionJwk).kty === 'string') {
    const jwk = key as ClientAssertionJwk;
    const ofJwk = algorithmOfJwk(jwk);
    if (ofJwk === undefined || typeof jwk.d !== 'string') {
      throw new InvalidConfigError('clientAssertion.key must be a private RSA or EC P-256 JWK (with d)');
    }
    alg = wanted ?? ofJwk;
    if ((alg === 'ES256') !== (jwk.kty === 'EC')) throw new InvalidConfigError(`clientAssertion.alg ${alg} does not fit the JWK (${jwk.kty})`);
    headerKid ??= typeof jwk.kid === 'string' && jwk.kid !== '' ? jwk.kid : undefined;
    // The key usage and algorithm members would conflict with an overridden alg: only the key material goes in.
    const { alg: _alg, key_ops: _ops, use: _use, ext: _ext, ...material } = jwk;
    let imported: Promise<WebCryptoKey> | undefined;
    signingKey = () =>
      (imported ??= importJwk(material, IMPORT_PARAMS[alg]).catch(() => {
        imported = undefined;
        // Not the import's own error: some engines quote key material in it.
        throw new InvalidConfigError('clientAssertion.key could not be imported as a private JWK');
      }));
  } else {
    throw new InvalidConfigError('clientAssertion.key must be a WebCrypto private key or a private JWK');
  }
  const header = encodeHeader(headerKid === undefined ? { alg, typ: 'JWT' } : { alg, typ: 'JWT', kid: headerKid });
  return {
    authMethod: 'private_key_jwt',
    signer: (clientId) => ({ audience, sign: async (aud) => signJws(header, claims(clientId, aud, now), await signingKey(), alg) }),
  };
}

/** `subtle.importKey` for a JWK: its overloads name the DOM's `JsonWebKey`, absent without the DOM lib. */
function importJwk(jwk: object, algorithm: object): Promise<WebCryptoKey> {
  const subtle = globalThis.crypto.subtle as unknown as {
    importKey(format: 'jwk', keyData: object, algorithm: object, extractable: boolean, usages: string[]): Promise<WebCryptoKey>;
  };
  return subtle.importKey('jwk', jwk, algorithm, false, ['sign']);
}

/** `client_secret_jwt`: HS256 with the client secret's UTF-8 bytes as the key (RFC 7518 §3.2). */
export function createSecretAssertionSigner(clientId: string, clientSecret: string, now: () => number = Date.now): ClientAssertionSigner {
  let key: Promise<WebCryptoKey> | undefined;
  const hmacKey = () =>
    (key ??= globalThis.crypto.subtle.importKey('raw', new TextEncoder().encode(clientSecret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']));
  const header = encodeHeader({ alg: 'HS256' satisfies JwsAlgorithm, typ: 'JWT' });
  return { audience: 'token_endpoint', sign: async (aud) => signJws(header, claims(clientId, aud, now), await hmacKey(), 'HS256') };
}

/** RFC 7523 §3: iss = sub = client_id, the server as audience, a unique jti, a short exp. */
function claims(clientId: string, aud: string, now: () => number): Record<string, string | number> {
  const iat = Math.floor(now() / 1000);
  return { iss: clientId, sub: clientId, aud, jti: randomBase64url(18), iat, exp: iat + ASSERTION_LIFETIME_S };
}
