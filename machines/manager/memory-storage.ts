import { StorageConflictError } from '../lifecycle/errors.js';
import type { StorageChangeListener, StorageLock, StorageSetOptions, TokenRecord, TokenStorage } from '../lifecycle/types.js';

export interface MemoryStorage extends TokenStorage {
  keys(): Promise<string[]>;
  lock(key: string, ttlMs: number): Promise<StorageLock | null>;
  subscribe(listener: StorageChangeListener): () => void;
}

interface HeldLock {
  readonly id: number;
  expiresAt: number;
}

/**
 * The default storage (DESIGN §5): records in a Map of this process, with versions, conflicts and
 * per-key locks, so the manager's code paths are the same as with a shared store. Records are
 * copied in and out: callers cannot mutate what is stored.
 */
export function memoryStorage(options: { now?: () => number } = {}): MemoryStorage {
  const now = options.now ?? Date.now;
  const records = new Map<string, TokenRecord>();
  const locks = new Map<string, HeldLock>();
  /** The newest fence handed out per key: a write carrying an older one comes from a stale holder. */
  const newestFence = new Map<string, number>();
  const listeners = new Set<StorageChangeListener>();
  let fence = 0;
  const notify = (key: string): void => {
    for (const listener of [...listeners]) {
      try {
        listener(key);
      } catch {
        // The write has happened: one listener's bug must neither fail it nor silence the others.
      }
    }
  };

  return {
    async get(key) {
      const record = records.get(key);
      return record === undefined ? undefined : copy(record);
    },
    async set(key, record, setOptions: StorageSetOptions = {}) {
      const { expectedVersion, fence: writerFence } = setOptions;
      // The fence first, as in the shared stores: a stale holder learns it lost the lock.
      const newest = newestFence.get(key) ?? 0;
      if (writerFence !== undefined && newest > writerFence) {
        throw new StorageConflictError(`A newer lock (fence ${newest}) was taken on key "${key}" since fence ${writerFence}`, { key });
      }
      if (expectedVersion !== undefined) {
        const stored = records.get(key)?.version ?? 0;
        if (stored !== expectedVersion) {
          throw new StorageConflictError(`Stored version ${stored} differs from expected ${expectedVersion}`, { key });
        }
      }
      records.set(key, copy(record));
      notify(key);
    },
    async delete(key) {
      if (records.delete(key)) notify(key);
    },
    async keys() {
      return [...records.keys()];
    },
    async lock(key, ttlMs) {
      const held = locks.get(key);
      if (held && held.expiresAt > now()) return null;
      const lock: HeldLock = { id: ++fence, expiresAt: now() + ttlMs };
      locks.set(key, lock);
      newestFence.set(key, lock.id);
      return {
        fence: lock.id,
        async release() {
          if (locks.get(key) === lock) locks.delete(key);
        },
        async extend(ms) {
          if (locks.get(key) !== lock || lock.expiresAt <= now()) return false;
          lock.expiresAt = now() + ms;
          return true;
        },
      };
    },
    // Several managers may share one memory store in a process: each hears the others' writes.
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/**
 * The manager's default store (no `storage` option): made inside `createTokenManager`, so no other
 * manager or process can reach it. It has no locks and no change feed, as a store nobody shares
 * needs neither: a refresh then takes no lock, re-reads nothing and writes no `refreshing` marker
 * (R7 within the manager is its single flight; versions still order its writes). Otherwise it is
 * `memoryStorage()`, copies and version checks included.
 */
export function privateMemoryStorage(): TokenStorage & Pick<MemoryStorage, 'keys'> {
  const { get, set, delete: remove, keys } = memoryStorage();
  return { get, set, delete: remove, keys };
}

/** A flat copy without undefined fields, like a JSON round trip in the file and Redis stores. */
function copy(record: TokenRecord): TokenRecord {
  const out: Record<string, unknown> = {};
  const source = record as unknown as Record<string, unknown>;
  // for-in over a plain record (its own fields only), not Object.entries: one copy per read and write.
  for (const field in source) {
    const value = source[field];
    if (value !== undefined && Object.hasOwn(source, field)) out[field] = value;
  }
  return out as unknown as TokenRecord;
}
