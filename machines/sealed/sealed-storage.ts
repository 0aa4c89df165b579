import { StorageSealedError } from '../lifecycle/errors.js';
import type { StorageSetOptions, TokenRecord, TokenStorage } from '../lifecycle/types.js';
import { isSealed, open, seal } from './envelope.js';
import { importKeys, type SealingKey } from './sealing-keys.js';

export interface SealedStorageOptions {
  /** `keys[0]` seals every write; every key in the list opens reads (rotation: add the new key first). */
  keys: readonly SealingKey[];
  /**
   * Read records whose tokens are not sealed yet, as they are (default false: `storage_sealed`).
   * For moving an existing store under `sealedStorage`: each record is sealed on its next write.
   */
  acceptUnsealed?: boolean;
}

/** The record fields that are secrets (R13); everything else stays readable (R18). */
const SECRET_FIELDS = ['accessToken', 'refreshToken', 'idToken'] as const;

/**
 * Wraps any TokenStorage so that access, refresh and ID tokens are stored sealed with AES-256-GCM
 * (WebCrypto, R18). Expiry, version, markers, locks, the change feed and `keys()` pass through
 * untouched, so fleets, fencing and `status()` work as on the bare store. A record that does not
 * open is `storage_sealed` and is left exactly as it is.
 */
export function sealedStorage(storage: TokenStorage, options: SealedStorageOptions): TokenStorage {
  const keys = importKeys(options?.keys);
  const writer = keys[0]!;
  const acceptUnsealed = options.acceptUnsealed === true;

  async function sealRecord(key: string, record: TokenRecord): Promise<TokenRecord> {
    const sealed: TokenRecord = { ...record };
    for (const field of SECRET_FIELDS) {
      const value = record[field];
      if (typeof value === 'string') sealed[field] = await seal(value, writer, key, field);
    }
    return sealed;
  }

  async function openRecord(key: string, record: TokenRecord): Promise<TokenRecord> {
    const opened: TokenRecord = { ...record };
    for (const field of SECRET_FIELDS) {
      const value = record[field];
      if (typeof value !== 'string') continue;
      if (isSealed(value)) opened[field] = await open(value, keys, key, field);
      else if (!acceptUnsealed) {
        throw new StorageSealedError(`The ${field} of key "${key}" is stored unsealed (see acceptUnsealed)`, { key });
      }
    }
    return opened;
  }

  const wrapped: TokenStorage = {
    async get(key) {
      const record = await storage.get(key);
      return record === undefined ? undefined : openRecord(key, record);
    },
    async set(key, record: TokenRecord, setOptions?: StorageSetOptions) {
      await storage.set(key, await sealRecord(key, record), setOptions);
    },
    delete: (key) => storage.delete(key),
  };
  // Optional capabilities pass through only where the wrapped store has them: the manager tells
  // a store with locks from one without by their presence.
  if (storage.keys) wrapped.keys = () => storage.keys!();
  if (storage.lock) wrapped.lock = (key, ttlMs) => storage.lock!(key, ttlMs);
  if (storage.subscribe) wrapped.subscribe = (listener) => storage.subscribe!(listener);
  if (storage.close) wrapped.close = () => storage.close!();
  return wrapped;
}
