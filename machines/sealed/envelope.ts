import { StorageSealedError } from '../lifecycle/errors.js';
import { base64ToBytes, bytesToBase64Url, subtle, type ImportedKey } from './sealing-keys.js';

/**
 * One sealed value, a string so every store keeps it as it keeps any token:
 * `sealed:v1:<key id>:<iv>:<ciphertext and tag>` (base64url). AES-256-GCM, a fresh 96-bit IV per
 * value, and the storage key and field name as additional data: a value copied to another key or
 * field does not open.
 */
const PREFIX = 'sealed:v1:';
const IV_BYTES = 12;

export function isSealed(value: string): boolean {
  return value.startsWith(PREFIX);
}

const additionalData = (storageKey: string, field: string): Uint8Array<ArrayBuffer> =>
  new Uint8Array(new TextEncoder().encode(`${storageKey}\u0000${field}`));

export async function seal(value: string, with_: ImportedKey, storageKey: string, field: string): Promise<string> {
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = await subtle().encrypt(
    { name: 'AES-GCM', iv, additionalData: additionalData(storageKey, field) },
    await with_.key,
    new TextEncoder().encode(value),
  );
  return `${PREFIX}${with_.id}:${bytesToBase64Url(iv)}:${bytesToBase64Url(new Uint8Array(sealed))}`;
}

/** The key id a sealed value names, or undefined when it is not a sealed value. */
export function sealedWith(value: string): string | undefined {
  if (!isSealed(value)) return undefined;
  return value.slice(PREFIX.length).split(':')[0];
}

export async function open(value: string, keys: readonly ImportedKey[], storageKey: string, field: string): Promise<string> {
  const [id, ivText, dataText, ...rest] = value.slice(PREFIX.length).split(':');
  const iv = ivText === undefined ? undefined : base64ToBytes(ivText);
  const data = dataText === undefined ? undefined : base64ToBytes(dataText);
  if (rest.length > 0 || iv?.length !== IV_BYTES || data === undefined) {
    throw new StorageSealedError(`The ${field} of key "${storageKey}" is not a well-formed sealed value`, { key: storageKey });
  }
  const match = keys.find((k) => k.id === id);
  if (match === undefined) {
    throw new StorageSealedError(`Key "${storageKey}" is sealed with key id "${id}", which is not in keys`, { key: storageKey });
  }
  try {
    const plain = await subtle().decrypt({ name: 'AES-GCM', iv, additionalData: additionalData(storageKey, field) }, await match.key, data);
    return new TextDecoder().decode(plain);
  } catch {
    throw new StorageSealedError(
      `The ${field} of key "${storageKey}" does not open with key id "${id}" (other key material, or altered)`,
      { key: storageKey },
    );
  }
}
