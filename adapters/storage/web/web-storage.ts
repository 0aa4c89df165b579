import { InvalidConfigError } from '../../../machines/lifecycle/errors.js';
import type { StorageChangeListener, StorageLock, TokenStorage } from '../../../machines/lifecycle/types.js';
import type { RecordArea } from './area.js';
import { sharedFeed, tabFeed, type ChangeFeed, type ChangeFeedKind } from './change-feed.js';
import { indexedDbArea } from './indexeddb-area.js';
import { takeLease, takeWebLock } from './locks.js';
import { sessionArea } from './session-area.js';

export type WebStorageArea = 'local' | 'session' | 'indexeddb';

export interface WebStorageOptions {
  /**
   * Namespace of everything this store keeps: the IndexedDB database name, the sessionStorage item
   * prefix, the Web Lock and BroadcastChannel names. Default `token-lifecycle`.
   */
  prefix?: string;
  /**
   * `local` (default) and `indexeddb`: shared by the origin's tabs and kept across reloads and
   * restarts, in IndexedDB (localStorage is not coherent between tabs, DESIGN §8). `session`: this
   * tab's own credential in sessionStorage; kept across reloads, not shared with other tabs.
   */
  area?: WebStorageArea;
}

/** What this browser gives the store; the manager shows it in `status(key).storage`. */
export type WebStorageCapabilities = {
  readonly area: WebStorageArea;
  /** Whether other tabs of the origin see the same records. */
  readonly sharedAcrossTabs: boolean;
  /**
   * `web-locks`: one holder across tabs, released by the browser when a holding tab dies.
   * `lease`: no Web Locks API here (or the `session` area): a lease record with an expiry, so a
   * dead holder blocks the key until its TTL runs out.
   */
  readonly locks: 'web-locks' | 'lease';
  readonly changeFeed: ChangeFeedKind;
};

export interface WebStorage extends TokenStorage {
  keys(): Promise<string[]>;
  lock(key: string, ttlMs: number): Promise<StorageLock | null>;
  subscribe(listener: StorageChangeListener): () => void;
  close(): Promise<void>;
  readonly capabilities: WebStorageCapabilities;
}

const AREAS: readonly WebStorageArea[] = ['local', 'session', 'indexeddb'];

/**
 * TokenStorage for browsers (DESIGN §8): cross-tab single flight through Web Locks with a fence kept
 * in the store, and a change feed through BroadcastChannel, so N open tabs make 1 refresh.
 */
export function webStorage(options: WebStorageOptions = {}): WebStorage {
  const prefix = options.prefix ?? 'token-lifecycle';
  const area = options.area ?? 'local';
  if (typeof prefix !== 'string' || prefix === '' || prefix.startsWith('-')) {
    throw new InvalidConfigError('webStorage prefix must be a non-empty string not starting with "-"');
  }
  if (!AREAS.includes(area)) throw new InvalidConfigError(`webStorage area must be one of ${AREAS.join(', ')}`);

  const shared = area !== 'session';
  const records: RecordArea = shared ? indexedDbArea(prefix) : sessionArea(prefix);
  const feed: ChangeFeed = shared ? sharedFeed(prefix) : tabFeed(prefix);
  // A session credential is this tab's alone: an origin-wide Web Lock would only make tabs wait for
  // each other over different credentials.
  const webLocks = shared ? lockManager() : undefined;
  const now = (): number => Date.now();
  const listeners = new Set<StorageChangeListener>();
  let unlisten: (() => void) | undefined;
  const notify = (key: string): void => {
    for (const listener of [...listeners]) {
      try {
        listener(key);
      } catch {
        // The change has happened: one listener's bug must neither hide it from the others nor fail it.
      }
    }
  };

  return {
    capabilities: { area, sharedAcrossTabs: shared, locks: webLocks ? 'web-locks' : 'lease', changeFeed: feed.kind },
    get: (key) => records.get(key),
    async set(key, record, setOptions = {}) {
      await records.set(key, record, setOptions);
      feed.announce(key);
    },
    async delete(key) {
      if (await records.delete(key)) feed.announce(key);
    },
    keys: () => records.keys(),
    lock(key, ttlMs) {
      return webLocks ? takeWebLock(webLocks, `${prefix}:lock:${key}`, records, key, ttlMs, now) : takeLease(records, key, ttlMs);
    },
    subscribe(listener) {
      listeners.add(listener);
      unlisten ??= feed.listen(notify);
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) {
          unlisten?.();
          unlisten = undefined;
        }
      };
    },
    async close() {
      unlisten?.();
      unlisten = undefined;
      listeners.clear();
      feed.close();
      records.close();
    },
  };
}

function lockManager(): LockManager | undefined {
  const locks = typeof navigator === 'undefined' ? undefined : (navigator as Partial<Navigator>).locks;
  return locks && typeof locks.request === 'function' ? locks : undefined;
}
