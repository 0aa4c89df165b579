/**
 * The credential key as it appears in spans: the first 16 hex digits of its SHA-256 (WebCrypto), so
 * a trace can tell credentials apart without naming the user or resource the key is.
 */
const hashes = new Map<string, Promise<string>>();
const MAX_CACHED = 10_000;

export function keyHash(key: string): Promise<string> {
  let hash = hashes.get(key);
  if (hash === undefined) {
    hash = globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(key)).then((digest) =>
      Array.from(new Uint8Array(digest).subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(''),
    );
    // A bounded cache: a service with many users' keys must not grow it forever.
    if (hashes.size >= MAX_CACHED) hashes.delete(hashes.keys().next().value as string);
    hashes.set(key, hash);
  }
  return hash;
}
