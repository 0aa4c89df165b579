import { randomBytes } from 'node:crypto';
import type { TokenEndpoint } from '../../machines/lifecycle/types.js';

/** An opaque token as oidc-provider issues them: 32 random bytes, base64url, 43 characters. */
export function opaqueToken(): string {
  return randomBytes(32).toString('base64url');
}

/** A JWT-shaped access token of about `bytes` characters (header.payload.signature, base64url). */
export function jwtLikeToken(bytes = 1024): string {
  const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid: 'bench' })).toString('base64url');
  const signature = randomBytes(256).toString('base64url');
  const payloadLength = Math.max(16, bytes - header.length - signature.length - 2);
  const payload = randomBytes(Math.ceil((payloadLength * 3) / 4)).toString('base64url').slice(0, payloadLength);
  return `${header}.${payload}.${signature}`;
}

/** An endpoint that must never be called: the benches that use it measure paths without I/O. */
export const unusedEndpoint: TokenEndpoint = {
  refresh: () => Promise.reject(new Error('bench: no refresh expected here')),
};
