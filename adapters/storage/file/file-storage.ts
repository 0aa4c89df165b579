/**
 * `fileStorage({ path })` (DESIGN §5): all credentials in one JSON document, written atomically with
 * mode 0600 (R13), read-modify-written under a cross-process store lock so that writing one key never
 * loses another, with per-key locks for single flight across processes (R7) and change notifications.
 * A corrupt file is `storage_corrupt` and is never written over: it stays exactly where and as it is.
 */
import type { BigIntStats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseDuration } from '../../../machines/lifecycle/duration.js';
import { InvalidConfigError, StorageConflictError, StorageCorruptError, StorageFailedError } from '../../../machines/lifecycle/errors.js';
import type { Duration, StorageChangeListener, StorageLock, TokenRecord, TokenStorage } from '../../../machines/lifecycle/types.js';
import { ensureDirectory, removeLeftoverTempFiles, writeFileAtomic } from './atomic-write.js';
import { createChangeFeed } from './change-feed.js';
import {
  EMPTY_DOCUMENT,
  parseDocument,
  recordProblem,
  serializeDocument,
  toTokenRecord,
  withoutRecord,
  withRecord,
  type ParseResult,
  type StoreDocument,
} from './document.js';
import { acquireKeyLock, latestFence } from './key-lock.js';
import { readSnapshot } from './read-snapshot.js';
import { withStoreMutex, type AssertHeld } from './store-mutex.js';

export interface FileStorageOptions {
  /** The JSON document. Relative paths resolve against the working directory at creation. */
  path: string;
  /** While someone is subscribed, how often to look for other processes' changes (besides fs.watch). Default 1s. */
  pollInterval?: Duration;
  /** Use fs.watch on the directory for prompt change notifications. Default true. */
  watch?: boolean;
  /** A store lock (`<path>.lock`) untouched this long belongs to a dead process and is taken over. Default 5s, at least 2s. */
  storeLockStale?: Duration;
  /** How long a write waits for the store lock before failing with `storage_failed`. Default 10s. */
  storeLockTimeout?: Duration;
  /** Clock for key-lock expiry. Processes sharing a store must share it (the host's wall clock). Default Date.now. */
  now?: () => number;
}

export interface FileStorage extends TokenStorage {
  /** The absolute path of the document. */
  readonly path: string;
  keys(): Promise<string[]>;
  lock(key: string, ttlMs: number): Promise<StorageLock | null>;
  subscribe(listener: StorageChangeListener): () => void;
  /** Stops watching for changes. Reads and writes keep working. */
  close(): Promise<void>;
}

/** Files whose mtime is this close to the moment we read them may change again without a visible stat change (1–2 s mtime granularity on some file systems). */
const RACY_MS = 2_000;
const DEBOUNCE_MS = 20;

interface CacheEntry {
  readonly signature: string;
  readonly trusted: boolean;
  readonly result: ParseResult;
}

function signatureOf(stats: BigIntStats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`;
}

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

export function fileStorage(options: FileStorageOptions): FileStorage {
  if (typeof options?.path !== 'string' || options.path === '') {
    throw new InvalidConfigError('fileStorage needs a non-empty `path`');
  }
  const path = resolve(options.path);
  const now = options.now ?? Date.now;
  const mutexOptions = {
    staleMs: Math.max(2_000, parseDuration(options.storeLockStale ?? 5_000, 'storeLockStale')),
    timeoutMs: parseDuration(options.storeLockTimeout ?? 10_000, 'storeLockTimeout'),
  };
  const pollMs = parseDuration(options.pollInterval ?? 1_000, 'pollInterval');
  if (pollMs <= 0) throw new InvalidConfigError('pollInterval must be positive');

  let cache: CacheEntry | undefined;
  let lastSeen: StoreDocument | undefined;
  let leftoversRemoved = false;

  const corrupt = (reason: string, key?: string): StorageCorruptError =>
    new StorageCorruptError(`The token store ${path} ${reason}; it was left untouched (fix, move or delete it)`, key === undefined ? {} : { key });

  /** Reads and parses the document; `useCache` serves an unchanged file (same stat) without reading it. */
  async function load(useCache: boolean): Promise<ParseResult> {
    let stats: BigIntStats;
    try {
      stats = await stat(path, { bigint: true });
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return { ok: true, doc: EMPTY_DOCUMENT }; // missing file = empty store
      throw new StorageFailedError(`Cannot read the token store ${path}`, { cause: error });
    }
    const signature = signatureOf(stats);
    if (useCache && cache?.trusted && cache.signature === signature) return cache.result;
    const snapshot = await readSnapshot(path);
    if (snapshot === undefined) return { ok: true, doc: EMPTY_DOCUMENT }; // removed meanwhile
    const result = parseDocument(snapshot.bytes);
    const readAt = BigInt(Date.now()) * 1_000_000n;
    cache = {
      signature: signatureOf(snapshot.stats),
      trusted: readAt - snapshot.stats.mtimeNs >= BigInt(RACY_MS) * 1_000_000n,
      result,
    };
    if (result.ok) lastSeen = result.doc;
    return result;
  }

  async function documentFor(key?: string, useCache = true): Promise<StoreDocument> {
    const result = await load(useCache);
    if (!result.ok) throw corrupt(result.reason, key);
    return result.doc;
  }

  /** Runs `section` holding the store lock; the directory is created (0700) when missing. */
  async function exclusive<T>(section: (assertHeld: AssertHeld) => Promise<T>): Promise<T> {
    try {
      await ensureDirectory(dirname(path));
    } catch (error) {
      throw new StorageFailedError(`Cannot create the directory of the token store ${path}`, { cause: error });
    }
    return withStoreMutex(path, mutexOptions, async (assertHeld) => {
      if (!leftoversRemoved) {
        leftoversRemoved = true;
        await removeLeftoverTempFiles(path);
      }
      return section(assertHeld);
    });
  }

  async function commit(doc: StoreDocument, assertHeld: AssertHeld, key: string): Promise<void> {
    try {
      await writeFileAtomic(path, serializeDocument(doc), assertHeld);
    } catch (error) {
      if (error instanceof StorageFailedError) throw error;
      throw new StorageFailedError(`Cannot write the token store ${path}`, { cause: error, key });
    }
    lastSeen = doc;
    feed.absorb(key, doc.credentials.get(key));
  }

  const feed = createChangeFeed({
    path,
    pollMs,
    debounceMs: DEBOUNCE_MS,
    watch: options.watch ?? true,
    read: async () => {
      try {
        const result = await load(true);
        return result.ok ? result.doc.credentials : undefined;
      } catch {
        return undefined;
      }
    },
    lastSeen: () => lastSeen?.credentials,
  });

  return {
    path,
    async get(key) {
      const raw = (await documentFor(key)).credentials.get(key);
      return raw === undefined ? undefined : toTokenRecord(raw);
    },
    async set(key, record: TokenRecord, setOptions = {}) {
      const problem = recordProblem(record);
      if (problem !== undefined) {
        // Writing it would make the whole file unreadable next time. Same code as redisStorage.
        throw new StorageCorruptError(`Refusing to store credential ${JSON.stringify(key)}: ${problem}; nothing was written`, { key });
      }
      const { expectedVersion, fence } = setOptions;
      for (const [name, value] of [['expectedVersion', expectedVersion], ['fence', fence]] as const) {
        if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
          throw new InvalidConfigError(`${name} must be a non-negative integer`);
        }
      }
      await exclusive(async (assertHeld) => {
        if (fence !== undefined) {
          // Fencing: a holder whose lock expired and was taken by another must not write over it.
          const latest = await latestFence(path, key);
          if (latest > fence) {
            throw new StorageConflictError(`A newer lock (fence ${latest}) was taken since fence ${fence}`, { key });
          }
        }
        const doc = await documentFor(key, false); // inside the lock: always the bytes on disk
        if (expectedVersion !== undefined) {
          const stored = (doc.credentials.get(key)?.version as number | undefined) ?? 0;
          if (stored !== expectedVersion) {
            throw new StorageConflictError(`Stored version ${stored} differs from expected ${expectedVersion}`, { key });
          }
        }
        await commit(withRecord(doc, key, record), assertHeld, key);
      });
    },
    async delete(key) {
      // Nothing to delete: no lock, no write (and no directory created).
      if (!(await documentFor(key)).credentials.has(key)) return;
      await exclusive(async (assertHeld) => {
        const doc = await documentFor(key, false);
        if (doc.credentials.has(key)) await commit(withoutRecord(doc, key), assertHeld, key);
      });
    },
    async keys() {
      return [...(await documentFor()).credentials.keys()];
    },
    lock(key, ttlMs) {
      return acquireKeyLock({ storePath: path, now, exclusive }, key, ttlMs);
    },
    subscribe(listener) {
      return feed.subscribe(listener);
    },
    async close() {
      feed.close();
    },
  };
}
