import { StorageConflictError, StorageCorruptError, StorageFailedError } from '../../../machines/lifecycle/errors.js';
import type { StorageSetOptions, TokenRecord } from '../../../machines/lifecycle/types.js';
import { isLease, plainRecord, type RecordArea } from './area.js';

const RECORDS = 'records';
const LEASES = 'leases';

/**
 * Records and lock leases in one IndexedDB database (named by the prefix). IndexedDB transactions are
 * coherent between the tabs of an origin (localStorage is not, even under a Web Lock: DESIGN §8), so a
 * version check, a fence check and the write happen in one readwrite transaction.
 */
export function indexedDbArea(databaseName: string, now: () => number = Date.now): RecordArea {
  let opened: Promise<IDBDatabase> | undefined;
  const database = (): Promise<IDBDatabase> => {
    opened ??= openDatabase(databaseName, () => {
      opened = undefined; // closed under us (another tab deleting it, the browser): reopen next time
    }).catch((error: unknown) => {
      opened = undefined; // a later call may succeed (e.g. a transient quota or private-mode failure)
      throw error;
    });
    return opened;
  };

  async function transact<T>(mode: IDBTransactionMode, what: string, body: (stores: Stores, result: Outcome<T>) => void): Promise<T> {
    let db: IDBDatabase;
    try {
      db = await database();
    } catch (error) {
      throw new StorageFailedError(`Could not open the IndexedDB database to ${what}`, { cause: error });
    }
    return new Promise<T>((resolve, reject) => {
      let tx: IDBTransaction;
      try {
        // A rotated refresh token must be on disk before it is handed out (R4): strict durability.
        tx = db.transaction([RECORDS, LEASES], mode, { durability: mode === 'readwrite' ? 'strict' : 'default' });
      } catch (error) {
        reject(new StorageFailedError(`Could not start an IndexedDB transaction to ${what}`, { cause: error }));
        return;
      }
      let value: T | undefined;
      let refusal: unknown;
      const outcome: Outcome<T> = {
        resolve: (v) => {
          value = v;
        },
        refuse: (error) => {
          refusal = error instanceof StorageConflictError || error instanceof StorageCorruptError ? error : new StorageFailedError(`IndexedDB could not ${what}`, { cause: error });
          try {
            tx.abort();
          } catch {
            // already finished: onabort/oncomplete has run or will run
          }
        },
      };
      tx.oncomplete = () => resolve(value as T);
      tx.onabort = () => reject(refusal ?? new StorageFailedError(`IndexedDB could not ${what}`, { cause: tx.error }));
      try {
        body({ records: tx.objectStore(RECORDS), leases: tx.objectStore(LEASES) }, outcome);
      } catch (error) {
        outcome.refuse(error);
      }
    });
  }

  return {
    get: (key) =>
      transact<TokenRecord | undefined>('readonly', 'read a record', ({ records }, out) => {
        read(records, key, out, (stored) => {
          if (stored !== undefined && !isRecord(stored)) throw new StorageCorruptError(`The stored record of key "${key}" is not a token record`, { key });
          out.resolve(stored);
        });
      }),

    set: (key, record, { expectedVersion, fence }: StorageSetOptions) =>
      transact<void>('readwrite', 'write a record', ({ records, leases }, out) => {
        const copy = plainRecord(record);
        read(leases, key, out, (lease) => {
          // The fence first, as in the shared stores: a stale holder learns it lost the lock.
          const newest = isLease(lease) ? lease.fence : 0;
          if (fence !== undefined && newest > fence) {
            out.refuse(new StorageConflictError(`A newer lock (fence ${newest}) was taken on key "${key}" since fence ${fence}`, { key }));
            return;
          }
          if (expectedVersion === undefined) {
            records.put(copy, key);
            return;
          }
          read(records, key, out, (stored) => {
            const version = isRecord(stored) ? stored.version : 0;
            if (version !== expectedVersion) {
              out.refuse(new StorageConflictError(`Stored version ${version} differs from expected ${expectedVersion}`, { key }));
              return;
            }
            records.put(copy, key);
          });
        });
      }),

    delete: (key) =>
      transact<boolean>('readwrite', 'delete a record', ({ records }, out) => {
        read(records, key, out, (stored) => {
          out.resolve(stored !== undefined);
          if (stored !== undefined) records.delete(key);
        });
      }),

    keys: () =>
      transact<string[]>('readonly', 'list keys', ({ records }, out) => {
        const request = records.getAllKeys();
        request.onsuccess = () => out.resolve(request.result.filter((k): k is string => typeof k === 'string'));
      }),

    grant: (key, ttlMs, exclusive) =>
      transact<number | null>('readwrite', 'take a lock lease', ({ leases }, out) => {
        read(leases, key, out, (lease) => {
          const at = now();
          if (exclusive && isLease(lease) && lease.expiresAt > at) {
            out.resolve(null);
            return;
          }
          const fence = (isLease(lease) ? lease.fence : 0) + 1;
          leases.put({ fence, expiresAt: at + ttlMs }, key);
          out.resolve(fence);
        });
      }),

    renew: (key, fence, ttlMs) =>
      transact<boolean>('readwrite', 'extend a lock lease', ({ leases }, out) => {
        read(leases, key, out, (lease) => {
          const at = now();
          const mine = isLease(lease) && lease.fence === fence && lease.expiresAt > at;
          if (mine) leases.put({ fence, expiresAt: at + ttlMs }, key);
          out.resolve(mine);
        });
      }),

    end: (key, fence) =>
      transact<void>('readwrite', 'end a lock lease', ({ leases }, out) => {
        read(leases, key, out, (lease) => {
          if (isLease(lease) && lease.fence === fence) leases.put({ fence, expiresAt: 0 }, key);
        });
      }),

    close() {
      void opened?.then((db) => db.close()).catch(() => undefined);
      opened = undefined;
    },
  };
}

interface Stores {
  records: IDBObjectStore;
  leases: IDBObjectStore;
}

interface Outcome<in T> {
  resolve(value: T): void;
  /** Aborts the transaction: nothing it wrote stays, and the call rejects with `error`. */
  refuse(error: unknown): void;
}

/** Reads one value; `then` runs inside the transaction, so it may read and write on. */
function read(store: IDBObjectStore, key: string, out: Outcome<never>, then: (value: unknown) => void): void {
  const request = store.get(key);
  request.onsuccess = () => {
    try {
      then(request.result);
    } catch (error) {
      out.refuse(error);
    }
  };
}

function isRecord(value: unknown): value is TokenRecord {
  return typeof value === 'object' && value !== null && typeof (value as TokenRecord).version === 'number';
}

function openDatabase(name: string, onClosed: () => void): Promise<IDBDatabase> {
  if (typeof indexedDB === 'undefined') return Promise.reject(new Error('IndexedDB is not available here'));
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, 1);
    request.onupgradeneeded = () => {
      const db = request.result;
      for (const store of [RECORDS, LEASES]) if (!db.objectStoreNames.contains(store)) db.createObjectStore(store);
    };
    request.onsuccess = () => {
      const db = request.result;
      // Another tab upgrading or deleting the database: step aside (we reopen on the next call).
      db.onversionchange = () => {
        db.close();
        onClosed();
      };
      db.onclose = onClosed;
      resolve(db);
    };
    request.onerror = () => reject(request.error);
  });
}
