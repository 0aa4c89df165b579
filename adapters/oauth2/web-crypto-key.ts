/**
 * WebCrypto's `CryptoKey` and `CryptoKeyPair`, named through `globalThis.crypto` because the global
 * names exist only in the DOM lib: a Node project without it must type-check against these types.
 */
export type WebCryptoKey = Parameters<typeof globalThis.crypto.subtle.sign>[1];
export interface WebCryptoKeyPair {
  readonly privateKey: WebCryptoKey;
  readonly publicKey: WebCryptoKey;
}
