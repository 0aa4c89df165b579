import { InvalidConfigError } from '../lifecycle/errors.js';

// WebCrypto's types named through `globalThis.crypto`: `CryptoKey` and `SubtleCrypto` are DOM-lib
// globals, and the published types must type-check in a Node project without the DOM lib.
type WebCrypto = typeof globalThis.crypto;
type WebCryptoKey = Parameters<WebCrypto['subtle']['sign']>[1];

/** One AES-256 key for `sealedStorage` (R18): 32 bytes, or their base64 (or base64url) text. */
export interface SealingKey {
  /** Stored with every sealed value, so a reader knows which key opens it. No `:` in it. */
  readonly id: string;
  readonly secret: Uint8Array | string;
}

/** A configured key, imported for WebCrypto once (non-extractable). */
export interface ImportedKey {
  readonly id: string;
  readonly key: Promise<WebCryptoKey>;
}

const KEY_BYTES = 32;
const ID = /^[^:\s]{1,64}$/;

export function bytesToBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Standard or URL-safe base64, padded or not; undefined when the text is not base64. */
export function base64ToBytes(text: string): Uint8Array<ArrayBuffer> | undefined {
  const standard = text.trim().replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(standard)) return undefined;
  try {
    const binary = atob(standard.padEnd(Math.ceil(standard.length / 4) * 4, '='));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

function secretBytes(key: SealingKey): Uint8Array {
  const bytes = typeof key.secret === 'string' ? base64ToBytes(key.secret) : key.secret;
  if (!(bytes instanceof Uint8Array) || bytes.length !== KEY_BYTES) {
    // Never the secret itself in the message: only its id and what is wrong.
    throw new InvalidConfigError(`sealedStorage key "${key.id}" must be ${KEY_BYTES} bytes (a Uint8Array or their base64)`);
  }
  return bytes;
}

/** Validates the key list (non-empty, unique ids, 32-byte secrets) and imports each key lazily. */
export function importKeys(keys: readonly SealingKey[] | undefined): ImportedKey[] {
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new InvalidConfigError('sealedStorage needs at least one key: keys: [{ id, secret }]');
  }
  const seen = new Set<string>();
  return keys.map((entry) => {
    if (typeof entry?.id !== 'string' || !ID.test(entry.id)) {
      throw new InvalidConfigError('sealedStorage key ids must be 1-64 characters without ":" or spaces');
    }
    if (seen.has(entry.id)) throw new InvalidConfigError(`sealedStorage key id "${entry.id}" is listed twice`);
    seen.add(entry.id);
    // A copy: the caller may wipe or reuse its buffer after this call.
    const material = Uint8Array.from(secretBytes(entry));
    let imported: Promise<WebCryptoKey> | undefined;
    return {
      id: entry.id,
      get key() {
        imported ??= subtle().importKey('raw', material, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
        return imported;
      },
    };
  });
}

/** WebCrypto's SubtleCrypto (browsers, Node ≥ 20): no Node built-in is imported (R16). */
export function subtle(): WebCrypto['subtle'] {
  const s = globalThis.crypto?.subtle;
  if (s === undefined) throw new InvalidConfigError('sealedStorage needs WebCrypto (globalThis.crypto.subtle)');
  return s;
}
