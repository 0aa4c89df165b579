/**
 * `subscribe()` for the file store: tells listeners which keys another process (or another storage
 * instance) changed. `fs.watch` on the directory gives prompt hints where it works; a slow poll covers
 * file systems where it does not. Either only schedules a debounced check that re-reads the document
 * and compares each record with the last one seen, so hints may be lost or duplicated freely.
 * Nothing here keeps a process alive (unref'ed timers, non-persistent watcher).
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { StorageChangeListener } from '../../../machines/lifecycle/types.js';

type Credentials = ReadonlyMap<string, unknown>;

export interface ChangeFeedOptions {
  readonly path: string;
  readonly pollMs: number;
  readonly debounceMs: number;
  readonly watch: boolean;
  /** The current credentials, or undefined when the file cannot be read or parsed (then nothing is reported). */
  readonly read: () => Promise<Credentials | undefined>;
  /** The credentials this storage saw last, if any: the baseline for a new subscription. */
  readonly lastSeen: () => Credentials | undefined;
}

export interface ChangeFeed {
  subscribe(listener: StorageChangeListener): () => void;
  /** Records this storage's own write of `key` as seen, so it is not reported back. */
  absorb(key: string, record: unknown): void;
  close(): void;
}

function fingerprints(credentials: Credentials): Map<string, string> {
  return new Map([...credentials].map(([key, record]) => [key, JSON.stringify(record)]));
}

export function createChangeFeed(options: ChangeFeedOptions): ChangeFeed {
  const listeners = new Set<StorageChangeListener>();
  const base = basename(options.path);
  let seen: Map<string, string> | undefined;
  let watcher: FSWatcher | undefined;
  let poller: ReturnType<typeof setInterval> | undefined;
  let debounce: ReturnType<typeof setTimeout> | undefined;
  let checking = false;
  let again = false;

  const notify = (key: string): void => {
    for (const listener of [...listeners]) {
      try {
        listener(key);
      } catch {
        // A listener's failure must not stop the feed for the others.
      }
    }
  };

  const ensureWatcher = (): void => {
    if (!options.watch || watcher !== undefined) return;
    try {
      watcher = watch(dirname(options.path), { persistent: false }, (_event, filename) => {
        if (filename === null || filename === base) schedule();
      });
      watcher.on('error', () => {
        watcher?.close();
        watcher = undefined; // retried on the next check; the poll goes on meanwhile
      });
    } catch {
      // Directory missing yet, or no fs.watch here: polling covers it.
    }
  };

  const check = async (): Promise<void> => {
    if (checking) {
      again = true;
      return;
    }
    checking = true;
    try {
      do {
        again = false;
        ensureWatcher();
        const credentials = await options.read();
        if (listeners.size === 0 || credentials === undefined) continue;
        const next = fingerprints(credentials);
        const previous = seen;
        seen = next;
        if (previous === undefined) continue; // baseline
        for (const key of new Set([...previous.keys(), ...next.keys()])) {
          if (previous.get(key) !== next.get(key)) notify(key);
        }
      } while (again && listeners.size > 0);
    } finally {
      checking = false;
    }
  };

  function schedule(): void {
    if (debounce !== undefined || listeners.size === 0) return;
    debounce = setTimeout(() => {
      debounce = undefined;
      void check();
    }, options.debounceMs);
    debounce.unref();
  }

  const start = (): void => {
    const lastSeen = options.lastSeen();
    seen = lastSeen === undefined ? undefined : fingerprints(lastSeen);
    poller = setInterval(schedule, options.pollMs);
    poller.unref();
    void check(); // sets the baseline, or reports what changed since `lastSeen`
  };

  const stop = (): void => {
    clearInterval(poller);
    clearTimeout(debounce);
    watcher?.close();
    poller = debounce = watcher = undefined;
    seen = undefined;
  };

  return {
    subscribe(listener) {
      // A wrapper per call: the same function subscribed twice is two subscriptions.
      const entry: StorageChangeListener = (key) => listener(key);
      listeners.add(entry);
      if (listeners.size === 1) start();
      return () => {
        if (listeners.delete(entry) && listeners.size === 0) stop();
      };
    },
    absorb(key, record) {
      if (seen === undefined) return;
      if (record === undefined) seen.delete(key);
      else seen.set(key, JSON.stringify(record));
    },
    close() {
      listeners.clear();
      stop();
    },
  };
}
