/**
 * DPoP, sender-constrained tokens (RFC 9449), with WebCrypto only (R16): an ES256 key pair signs a
 * fresh proof JWT per request. `createDpopProver({ keyPair })` is what `oauth2Endpoint({ dpop })`
 * and the logins take: an app that never calls it does not bundle the signer. The token endpoint's
 * requests go through `dpopSend` (dpop-send.ts); the HTTP adapters ask the same prover for a proof
 * per resource request.
 */
import { InvalidConfigError } from '../../machines/lifecycle/errors.js';
import type { DpopProofOptions, DpopProver } from '../../machines/lifecycle/types.js';
import { base64url, randomBase64url } from './base64url.js';
import { encodeHeader, signJws } from './jws.js';
import type { WebCryptoKey, WebCryptoKeyPair } from './web-crypto-key.js';

export type { DpopProver, DpopProofOptions } from '../../machines/lifecycle/types.js';

export type { WebCryptoKey, WebCryptoKeyPair } from './web-crypto-key.js';

export interface DpopOptions {
  /**
   * An ECDSA P-256 key pair (`ES256`) from WebCrypto. Its lifetime is the bound tokens' lifetime: a
   * DPoP-bound refresh token is useless without it (docs/dpop.md says where to keep it).
   */
  keyPair: WebCryptoKeyPair;
  /** Epoch ms for the proofs' `iat` (default `Date.now`). */
  now?: () => number;
}

/**
 * A fresh ES256 key pair for DPoP. The private key is not extractable unless asked (`extractable:
 * true`, for a Node process that must store it as a JWK to keep its refresh token usable).
 */
export function generateDpopKeyPair(options: { extractable?: boolean } = {}): Promise<WebCryptoKeyPair> {
  return globalThis.crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, options.extractable ?? false, [
    'sign',
    'verify',
  ]) as Promise<WebCryptoKeyPair>;
}

/** The RFC 7638 JWK thumbprint (`jkt`) of the key pair's public key: what the server binds tokens to. */
export async function dpopThumbprint(keyPair: WebCryptoKeyPair): Promise<string> {
  const { crv, kty, x, y } = await publicJwk(keyPair.publicKey);
  // RFC 7638 §3.2: the required members, lexicographic order, no whitespace.
  const canonical = JSON.stringify({ crv, kty, x, y });
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical));
  return base64url(new Uint8Array(digest));
}

async function publicJwk(publicKey: WebCryptoKey): Promise<{ kty: string; crv: string; x: string; y: string }> {
  const jwk = await globalThis.crypto.subtle.exportKey('jwk', publicKey);
  return { kty: jwk.kty as string, crv: jwk.crv as string, x: jwk.x as string, y: jwk.y as string };
}

function isP256(key: unknown, type: 'private' | 'public'): boolean {
  if (typeof key !== 'object' || key === null) return false;
  const { algorithm, type: keyType } = key as { algorithm?: { name?: unknown; namedCurve?: unknown }; type?: unknown };
  return keyType === type && algorithm?.name === 'ECDSA' && algorithm.namedCurve === 'P-256';
}

/** RFC 9449 §4.2 `htu`: the request URI without query and fragment. */
function htu(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** The prover for `oauth2Endpoint({ dpop })` and the logins' `dpop`: one key pair, nonces per origin. */
export function createDpopProver(options: DpopOptions): DpopProver {
  const keyPair = options?.keyPair;
  if (!isP256(keyPair?.privateKey, 'private') || !isP256(keyPair?.publicKey, 'public')) {
    throw new InvalidConfigError('dpop.keyPair must be a WebCrypto ECDSA P-256 key pair (ES256)');
  }
  if (!keyPair.privateKey.usages.includes('sign')) throw new InvalidConfigError('dpop.keyPair.privateKey must allow sign');
  const now = options.now ?? Date.now;
  const nonces = new Map<string, string>();
  let header: Promise<string> | undefined;
  let jkt: Promise<string> | undefined;

  // The protected header is the same for every proof: built once.
  const encodedHeader = (): Promise<string> =>
    (header ??= publicJwk(keyPair.publicKey).then((jwk) => encodeHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk })));

  return {
    async proof(method: string, url: string | URL, proofOptions: DpopProofOptions = {}): Promise<string> {
      const target = new URL(url);
      const payload: Record<string, string | number> = {
        jti: randomBase64url(18),
        htm: method.toUpperCase(),
        htu: htu(target),
        iat: Math.floor(now() / 1000),
      };
      const nonce = nonces.get(target.origin);
      if (nonce !== undefined) payload.nonce = nonce;
      if (proofOptions.accessToken !== undefined) {
        const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(proofOptions.accessToken));
        payload.ath = base64url(new Uint8Array(digest));
      }
      return signJws(await encodedHeader(), payload, keyPair.privateKey, 'ES256');
    },

    rememberNonce(url: string | URL, headers: Headers): boolean {
      const nonce = headers.get('dpop-nonce');
      // RFC 9449 §8.1: NQCHAR, 1 or more; anything else is ignored.
      if (nonce === null || !/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(nonce)) return false;
      const origin = new URL(url).origin;
      if (nonces.get(origin) === nonce) return false;
      nonces.set(origin, nonce);
      return true;
    },

    thumbprint: () => (jkt ??= dpopThumbprint(keyPair)),
  };
}
