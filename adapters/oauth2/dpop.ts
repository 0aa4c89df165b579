/**
 * DPoP, sender-constrained tokens (RFC 9449), with WebCrypto only (R16): an ES256 key pair signs a
 * fresh proof JWT per request. The token endpoint's requests go through `dpopSend` (one retry with
 * a server's `DPoP-Nonce`); the HTTP adapters ask the same prover for a proof per resource request.
 */
import { InvalidConfigError, type TokenLifecycleError } from '../../machines/lifecycle/errors.js';
import type { DpopProofOptions, DpopProver } from '../../machines/lifecycle/types.js';
import { base64url, randomBase64url } from './base64url.js';
import { readOAuthError } from './error-response.js';
import { encodeHeader, signJws } from './jws.js';
import type { RawResponse, Send } from './transport.js';
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

export function createDpopProver(options: DpopOptions): DpopProver {
  const keyPair = options?.keyPair;
  if (!isP256(keyPair?.privateKey, 'private') || !isP256(keyPair?.publicKey, 'public')) {
    throw new InvalidConfigError('dpop.keyPair must be a WebCrypto ECDSA P-256 key pair (ES256)');
  }
  if (!keyPair.privateKey.usages.includes('sign')) throw new InvalidConfigError('dpop.keyPair.privateKey must allow sign');
  const now = options.now ?? Date.now;
  const nonces = new Map<string, string>();
  let header: Promise<string> | undefined;

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
  };
}

/** True for a token endpoint answer asking for a nonce (RFC 9449 §8: 400 `use_dpop_nonce`). */
function asksForNonce(response: RawResponse): boolean {
  return response.status === 400 && readOAuthError(response.text)?.error === 'use_dpop_nonce';
}

/**
 * The token endpoint's `Send` with a DPoP proof on every request, following a `use_dpop_nonce`
 * challenge once (RFC 9449 §8): the body is form data, so the same request goes again with a new
 * proof carrying the server's nonce. Nonces in any response are kept for the next request.
 */
export function dpopSend(send: Send, prover: DpopProver): Send {
  return async (url, options) => {
    const attempt = async (): Promise<{ response: RawResponse; freshNonce: boolean }> => {
      const headers = new Headers(options.headers);
      headers.set('dpop', await prover.proof(options.method, url));
      const response = await send(url, { ...options, headers });
      return { response, freshNonce: prover.rememberNonce(url, response.headers) };
    };
    const first = await attempt();
    if (!first.freshNonce || !asksForNonce(first.response)) return first.response;
    return (await attempt()).response;
  };
}

// Codes with which a token endpoint may be refusing the proof rather than the grant. oidc-provider,
// for one, answers a replayed proof or a key that does not match the token with a bare `invalid_grant`.
const PROOF_REFUSALS = new Set(['invalid_dpop_proof', 'use_dpop_nonce', 'invalid_grant']);

/** Says in the error's message that a DPoP proof was sent and what the server may have refused in it. */
export function explainDpopRefusal<E extends TokenLifecycleError>(error: E): E {
  if (PROOF_REFUSALS.has(error.code)) {
    error.message += '; a DPoP proof was sent: the server may have refused the proof (replayed, clock skew, or not the key the token is bound to)';
  }
  return error;
}
