/**
 * PKCE (RFC 7636) with the S256 method, and the `state` value of an authorization request.
 * WebCrypto only (`globalThis.crypto`), so browser redirect logins and the CLI's loopback login
 * share it (R16: no Node built-in here).
 */
import { InvalidConfigError } from '../../machines/lifecycle/errors.js';
import { base64url, randomBase64url } from './base64url.js';

export interface Pkce {
  /** The secret kept by the client until the code exchange (`code_verifier`). */
  verifier: string;
  /** `BASE64URL(SHA256(verifier))`, sent as `code_challenge` in the authorization request. */
  challenge: string;
  method: 'S256';
}

// RFC 7636 §4.1: 43..128 characters of [A-Z a-z 0-9 - . _ ~].
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/**
 * A fresh code verifier: 32 random bytes → 43 base64url characters (256 bits of entropy, the
 * RFC 7636 §7.1 recommendation).
 */
export function createCodeVerifier(): string {
  return randomBase64url(32);
}

/** The S256 code challenge of `verifier` (RFC 7636 §4.2). A malformed verifier is `invalid_config`. */
export async function codeChallengeS256(verifier: string): Promise<string> {
  if (!VERIFIER.test(verifier)) {
    throw new InvalidConfigError('A PKCE code verifier must be 43-128 characters of A-Z a-z 0-9 - . _ ~');
  }
  // The verifier is ASCII by the check above, so its UTF-8 bytes are its ASCII bytes (RFC 7636 §4.2).
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** A fresh verifier with its S256 challenge. */
export async function createPkce(): Promise<Pkce> {
  const verifier = createCodeVerifier();
  return { verifier, challenge: await codeChallengeS256(verifier), method: 'S256' };
}

/**
 * An unguessable `state` (RFC 6749 §10.12): 16 random bytes, base64url. The client keeps it and
 * accepts the redirect only when it comes back unchanged.
 */
export function createState(): string {
  return randomBase64url(16);
}

/** Compares a returned `state` with the one sent, without early exit on the first differing character. */
export function stateMatches(expected: string, received: string | null | undefined): boolean {
  if (typeof received !== 'string' || received.length !== expected.length || expected.length === 0) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ received.charCodeAt(i);
  return diff === 0;
}
