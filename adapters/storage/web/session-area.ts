import { StorageConflictError, StorageCorruptError, StorageFailedError } from '../../../machines/lifecycle/errors.js';
import type { StorageSetOptions, TokenRecord } from '../../../machines/lifecycle/types.js';
import { isLease, plainRecord, type Lease, type RecordArea } from './area.js';

/**
 * Records and leases in this tab's sessionStorage, as JSON under `<prefix>:record:<key>` and
 * `<prefix>:lease:<key>`. No other tab shares it, and its calls are synchronous, so every method is
 * atomic without more ado. It survives a reload of the tab, not a new tab.
 */
export function sessionArea(prefix: string, now: () => number = Date.now): RecordArea {
  const recordPrefix = `${prefix}:record:`;
  const recordKey = (key: string) => recordPrefix + key;
  const leaseKey = (key: string) => `${prefix}:lease:${key}`;

  const store = (): Storage => {
    if (typeof sessionStorage === 'undefined') throw new StorageFailedError('sessionStorage is not available here');
    return sessionStorage;
  };
  const readJson = (name: string): unknown => {
    const text = store().getItem(name);
    if (text === null) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new StorageCorruptError(`sessionStorage item "${name}" is not JSON`, { cause: error });
    }
  };
  const write = (name: string, value: unknown): void => {
    try {
      store().setItem(name, JSON.stringify(value));
    } catch (error) {
      throw new StorageFailedError('Could not write to sessionStorage', { cause: error });
    }
  };
  const readRecord = (key: string): TokenRecord | undefined => {
    const stored = readJson(recordKey(key));
    if (stored !== undefined && (typeof stored !== 'object' || stored === null || typeof (stored as TokenRecord).version !== 'number')) {
      throw new StorageCorruptError(`The stored record of key "${key}" is not a token record`, { key });
    }
    return stored as TokenRecord | undefined;
  };
  const readLease = (key: string): Lease | undefined => {
    const lease = readJson(leaseKey(key));
    return isLease(lease) ? lease : undefined;
  };

  return {
    async get(key) {
      return readRecord(key);
    },
    async set(key, record, { expectedVersion, fence }: StorageSetOptions) {
      const newest = readLease(key)?.fence ?? 0;
      if (fence !== undefined && newest > fence) {
        throw new StorageConflictError(`A newer lock (fence ${newest}) was taken on key "${key}" since fence ${fence}`, { key });
      }
      if (expectedVersion !== undefined) {
        const version = readRecord(key)?.version ?? 0;
        if (version !== expectedVersion) throw new StorageConflictError(`Stored version ${version} differs from expected ${expectedVersion}`, { key });
      }
      write(recordKey(key), plainRecord(record));
    },
    async delete(key) {
      const existed = store().getItem(recordKey(key)) !== null;
      store().removeItem(recordKey(key));
      return existed;
    },
    async keys() {
      const s = store();
      const keys: string[] = [];
      for (let i = 0; i < s.length; i++) {
        const name = s.key(i);
        if (name?.startsWith(recordPrefix)) keys.push(name.slice(recordPrefix.length));
      }
      return keys;
    },
    async grant(key, ttlMs, exclusive) {
      const lease = readLease(key);
      const at = now();
      if (exclusive && lease && lease.expiresAt > at) return null;
      const fence = (lease?.fence ?? 0) + 1;
      write(leaseKey(key), { fence, expiresAt: at + ttlMs });
      return fence;
    },
    async renew(key, fence, ttlMs) {
      const lease = readLease(key);
      const at = now();
      if (!lease || lease.fence !== fence || lease.expiresAt <= at) return false;
      write(leaseKey(key), { fence, expiresAt: at + ttlMs });
      return true;
    },
    async end(key, fence) {
      if (readLease(key)?.fence === fence) write(leaseKey(key), { fence, expiresAt: 0 });
    },
    close() {},
  };
}
