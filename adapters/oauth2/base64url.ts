/**
 * base64url without padding (RFC 4648 §5), as PKCE (RFC 7636) and JWS/DPoP (RFC 7515, 9449) use it.
 * Web APIs only (`btoa`), so the oauth2 adapter stays browser-safe (R16).
 */
export function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** base64url of a string's UTF-8 bytes. */
export function base64urlText(text: string): string {
  return base64url(new TextEncoder().encode(text));
}

/** `byteLength` bytes from the platform's CSPRNG, base64url-encoded. */
export function randomBase64url(byteLength: number): string {
  return base64url(globalThis.crypto.getRandomValues(new Uint8Array(byteLength)));
}
