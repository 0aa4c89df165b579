/**
 * Per-credential locks for the manager's single flight across processes (R7, DESIGN §5).
 *
 * Each key has a small lock file next to the store, `<path>.<sha256(key)[0..32]>.lock`, holding
 * `{ key, fence, owner, expiresAt }`. Every transition (take, extend, release) is a read-modify-write
 * done under the store lock, so the check "free or expired?" and the take-over are one step for all
 * processes: no two holders, and no race between two processes removing the same expired lock.
 * The file is kept after release (owner null) so that `fence` keeps growing across processes.
 * A holder killed with SIGKILL blocks nobody beyond its `expiresAt` (wall clock: processes sharing a
 * store share a host clock).
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { InvalidConfigError, StorageFailedError } from '../../../machines/lifecycle/errors.js';
import type { StorageLock } from '../../../machines/lifecycle/types.js';
import { writeFileAtomic } from './atomic-write.js';
import type { AssertHeld } from './store-mutex.js';

interface KeyLockState {
  readonly key: string;
  readonly fence: number;
  /** Random id of the holder; null when released. */
  readonly owner: string | null;
  readonly expiresAt: number;
}

export interface KeyLockContext {
  readonly storePath: string;
  readonly now: () => number;
  /** Runs a section under the store lock (creating the directory first when needed). */
  readonly exclusive: <T>(section: (assertHeld: AssertHeld) => Promise<T>) => Promise<T>;
}

export function keyLockPath(storePath: string, key: string): string {
  return `${storePath}.${createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 32)}.lock`;
}

function isState(value: unknown): value is KeyLockState {
  if (typeof value !== 'object' || value === null) return false;
  const state = value as Record<string, unknown>;
  return (
    typeof state.key === 'string' &&
    Number.isSafeInteger(state.fence) &&
    (state.owner === null || typeof state.owner === 'string') &&
    Number.isFinite(state.expiresAt)
  );
}

/** Reads a key's lock file. Missing or unreadable content = free with no fence yet (our files are written atomically, so only tampering garbles one). */
async function readState(file: string): Promise<KeyLockState | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StorageFailedError(`Cannot read the lock file ${file}`, { cause: error });
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return isState(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

async function writeState(file: string, state: KeyLockState, assertHeld: AssertHeld): Promise<void> {
  try {
    await writeFileAtomic(file, `${JSON.stringify(state)}\n`, assertHeld);
  } catch (error) {
    if (error instanceof StorageFailedError) throw error;
    throw new StorageFailedError(`Cannot write the lock file ${file}`, { cause: error, key: state.key });
  }
}

/** The fence of the newest lock ever taken on `key` (0 = none). Call under the store lock to compare it with a writer's. */
export async function latestFence(storePath: string, key: string): Promise<number> {
  return (await readState(keyLockPath(storePath, key)))?.fence ?? 0;
}

export function checkTtl(ms: number, name: string): void {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
    throw new InvalidConfigError(`${name} must be a positive finite number of milliseconds`);
  }
}

/** Takes the lock on `key` for `ttlMs`, or resolves null while another holder's lock is unexpired. */
export async function acquireKeyLock(context: KeyLockContext, key: string, ttlMs: number): Promise<StorageLock | null> {
  checkTtl(ttlMs, 'ttlMs');
  const file = keyLockPath(context.storePath, key);
  const owner = randomUUID();
  const taken = await context.exclusive(async (assertHeld) => {
    const current = await readState(file);
    const now = context.now();
    if (current !== undefined && current.owner !== null && current.expiresAt > now) return undefined;
    const state: KeyLockState = { key, fence: (current?.fence ?? 0) + 1, owner, expiresAt: now + ttlMs };
    await writeState(file, state, assertHeld);
    return state;
  });
  if (taken === undefined) return null;

  // Changes `file` only while it still names us as the holder and has not expired.
  const update = (change: (state: KeyLockState, now: number) => KeyLockState | undefined): Promise<boolean> =>
    context.exclusive(async (assertHeld) => {
      const current = await readState(file);
      if (current === undefined || current.owner !== owner) return false;
      const next = change(current, context.now());
      if (next === undefined) return false;
      await writeState(file, next, assertHeld);
      return true;
    });

  return {
    fence: taken.fence,
    async release() {
      // Releasing an expired lock that nobody took since is still ours to clear; one taken over is not.
      await update((state) => ({ ...state, owner: null, expiresAt: 0 }));
    },
    async extend(ms) {
      checkTtl(ms, 'ms');
      return update((state, now) => (state.expiresAt > now ? { ...state, expiresAt: now + ms } : undefined));
    },
  };
}
