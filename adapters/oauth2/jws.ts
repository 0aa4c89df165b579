/**
 * Compact JWS signing with WebCrypto only (RFC 7515), shared by DPoP proofs (RFC 9449) and client
 * assertions (RFC 7523): browser-safe, no `node:` import (R16).
 */
import { base64url, base64urlText } from './base64url.js';
import type { WebCryptoKey } from './web-crypto-key.js';

export type JwsAlgorithm = 'RS256' | 'PS256' | 'ES256' | 'HS256';

/** The WebCrypto parameters for signing with each JWS algorithm (RFC 7518 §3). */
export const SIGN_PARAMS: Readonly<Record<JwsAlgorithm, { name: string; hash?: string; saltLength?: number }>> = {
  RS256: { name: 'RSASSA-PKCS1-v1_5' },
  // RFC 7518 §3.5: the salt is as long as the hash (32 bytes for SHA-256).
  PS256: { name: 'RSA-PSS', saltLength: 32 },
  // WebCrypto's ECDSA signature is r || s (IEEE P1363), exactly what JWS ES256 wants (RFC 7518 §3.4).
  ES256: { name: 'ECDSA', hash: 'SHA-256' },
  HS256: { name: 'HMAC' },
};

/** `header.payload.signature`, the header and payload given as their base64url-encoded JSON. */
export async function signJws(encodedHeader: string, payload: object, key: WebCryptoKey, alg: JwsAlgorithm): Promise<string> {
  const input = `${encodedHeader}.${base64urlText(JSON.stringify(payload))}`;
  const signature = await globalThis.crypto.subtle.sign(SIGN_PARAMS[alg], key, new TextEncoder().encode(input));
  return `${input}.${base64url(new Uint8Array(signature))}`;
}

/** The base64url-encoded JSON of a protected header. */
export function encodeHeader(header: object): string {
  return base64urlText(JSON.stringify(header));
}
