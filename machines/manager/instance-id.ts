/**
 * A random id for one manager instance, from Web Crypto (R16: no `node:crypto`; Node 20 and browsers
 * both have `globalThis.crypto`). `randomUUID` exists only in secure contexts in a browser (an app on
 * plain http to a LAN address has none), so fall back to `getRandomValues`, which exists everywhere.
 */
export function newInstanceId(): string {
  const webCrypto = globalThis.crypto;
  if (typeof webCrypto.randomUUID === 'function') return webCrypto.randomUUID();
  const bytes = webCrypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
