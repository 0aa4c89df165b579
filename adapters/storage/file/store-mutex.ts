/**
 * The store lock: a short cross-process critical section around every read-modify-write of the store
 * and of its key-lock files. Inside one process callers queue on a promise chain (no spinning on the
 * lock directory); across processes `proper-lockfile` (an atomic mkdir of `<path>.lock`) with retries
 * at small random delays. A holder that died leaves a directory whose mtime stops moving; after
 * `staleMs` another process takes it over (a live holder refreshes the mtime every staleMs / 2).
 */
import { StorageFailedError } from '../../../machines/lifecycle/errors.js';

// Loaded on the first write: a read-only user (the CLI's offline `token get`) skips its ~20 ms import.
let lockfileModule: Promise<typeof import('proper-lockfile')> | undefined;
const loadLockfile = (): Promise<typeof import('proper-lockfile')> => (lockfileModule ??= import('proper-lockfile'));

export interface StoreMutexOptions {
  /** A lock directory untouched for this long belongs to a dead holder (proper-lockfile's minimum is 2000). */
  readonly staleMs: number;
  /** Give up with `storage_failed` after waiting this long. */
  readonly timeoutMs: number;
}

/** Throws when the lock was lost (taken over as stale) during the critical section. */
export type AssertHeld = () => void;

const queues = new Map<string, Promise<void>>();

function errorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function runLocked<T>(file: string, options: StoreMutexOptions, section: (assertHeld: AssertHeld) => Promise<T>): Promise<T> {
  const { lock } = await loadLockfile();
  const deadline = Date.now() + options.timeoutMs;
  let compromised: Error | undefined;
  let release: () => Promise<void>;
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    try {
      release = await lock(file, {
        realpath: false, // the store file may not exist yet
        stale: options.staleMs,
        retries: 0,
        onCompromised: (error) => {
          compromised = error; // the default would throw from a timer and crash the process
        },
      });
      break;
    } catch (error) {
      if (errorCode(error) !== 'ELOCKED') {
        throw new StorageFailedError(`Cannot lock the token store ${file}`, { cause: error });
      }
      if (Date.now() >= deadline) {
        throw new StorageFailedError(`Timed out after ${options.timeoutMs} ms waiting for the lock on the token store ${file}`);
      }
      await sleep(delay * (0.5 + Math.random()));
    }
  }
  const assertHeld: AssertHeld = () => {
    if (compromised) throw new StorageFailedError(`Lost the lock on the token store ${file}`, { cause: compromised });
  };
  try {
    return await section(assertHeld);
  } finally {
    await release().catch(() => undefined); // already released when compromised
  }
}

/** Runs `section` holding the store lock of `file` (an absolute path). */
export async function withStoreMutex<T>(
  file: string,
  options: StoreMutexOptions,
  section: (assertHeld: AssertHeld) => Promise<T>,
): Promise<T> {
  const previous = queues.get(file) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((resolve) => (done = resolve));
  const tail = previous.then(() => mine);
  queues.set(file, tail);
  await previous;
  try {
    return await runLocked(file, options, section);
  } finally {
    done();
    if (queues.get(file) === tail) queues.delete(file);
  }
}
