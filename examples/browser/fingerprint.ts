/** A token shown as a fingerprint only: the first 8 hex digits of its SHA-256 (WebCrypto), never its value. */
export async function fingerprint(token: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(token));
  return [...new Uint8Array(digest).slice(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
