/**
 * Writing a credential's record (R4): new tokens go to storage before they are handed out; a failed
 * write keeps them in memory and is retried until it succeeds; storage never goes backwards.
 *
 * Versions order the writes of one store, but a process whose writes failed cannot know which of its
 * in-memory versions the others saw. So conflicts are settled by the refresh tokens themselves: each
 * credential remembers the few refresh tokens its own rotations spent. A stored record holding one of
 * those is older than ours, whatever its version (another instance's failure metadata written during
 * an outage, say): ours is rebased on top of it. Any other stored record newer than what we last saw
 * is adopted (another process refreshed under the lock, or a new login). A store that lost the record
 * (restarted empty) gets ours back.
 */
import { setRecord, type Credential } from './credential.js';
import { StorageConflictError, StorageFailedError, TokenLifecycleError } from '../lifecycle/errors.js';
import type { ManagerRuntime } from './runtime.js';
import type { TokenRecord } from '../lifecycle/types.js';

const WRITE_RETRY_MIN_MS = 500;
const WRITE_RETRY_MAX_MS = 30_000;
/** How many spent refresh tokens a credential remembers (a handful of rotations during one outage). */
const SPENT_MEMORY = 8;
const MAX_CONFLICT_ROUNDS = 4;

export type CommitResult = 'written' | 'pending' | 'superseded';

function storageCode(error: unknown): string {
  return error instanceof TokenLifecycleError ? error.code : 'storage_failed';
}

export function hasPendingWrite(c: Credential): boolean {
  return !c.removed && c.record !== undefined && c.record.version > c.storedVersion;
}

/** Remembers that our own rotation spent `token`: a stored record holding it is stale. */
export function noteSpent(c: Credential, token: string | undefined): void {
  if (token === undefined) return;
  const spent = (c.spent ??= []);
  if (spent.includes(token)) return;
  spent.push(token);
  if (spent.length > SPENT_MEMORY) spent.shift();
}

function isStale(c: Credential, stored: TokenRecord): boolean {
  const token = stored.refreshToken;
  return token !== undefined && token !== c.record?.refreshToken && c.spent?.includes(token) === true;
}

function rebase(c: Credential, storedVersion: number): void {
  c.storedVersion = storedVersion;
  if (c.record) setRecord(c, { ...c.record, version: storedVersion + 1 });
}

function adopt(rt: ManagerRuntime, c: Credential, stored: TokenRecord): void {
  setRecord(c, stored);
  c.storedVersion = stored.version;
  cancelWriteRetry(rt, c);
}

/**
 * Writes the credential's in-memory record, settling conflicts as the header says. Never throws:
 * `failed` is the error code of a store that failed (the record waits in memory).
 */
async function writeRecord(rt: ManagerRuntime, c: Credential, fenceToken: number | undefined): Promise<CommitResult | { failed: string }> {
  let fence = fenceToken;
  const { storage } = rt.settings;
  for (let round = 0; round < MAX_CONFLICT_ROUNDS; round++) {
    const record = c.record;
    if (!record || c.removed) return 'superseded';
    try {
      // Under a lock, the fence lets storage refuse us if a newer holder took over (a paused process).
      await storage.set(c.key, record, { expectedVersion: c.storedVersion, ...(fence === undefined ? {} : { fence }) });
      if (c.record === record) c.storedVersion = record.version;
      cancelWriteRetry(rt, c);
      return 'written';
    } catch (error) {
      if (!(error instanceof StorageConflictError)) return { failed: storageCode(error) };
      let stored: TokenRecord | undefined;
      try {
        stored = await storage.get(c.key);
      } catch (readError) {
        return { failed: storageCode(readError) };
      }
      if (c.record !== record) continue; // memory moved on meanwhile: write the newer one
      // Another write of ours (a write retry running beside the refresh's flush) stored this very
      // record meanwhile: done. Rewriting it would store one version twice.
      if (c.storedVersion >= record.version) {
        cancelWriteRetry(rt, c);
        return 'written';
      }
      // An emptied store: write ours as new, keeping its (higher) version so that others adopt it.
      if (stored === undefined) c.storedVersion = 0;
      else if (stored.version === c.storedVersion) {
        // Refused though nothing was written since we read: the fence (a newer holder took the lock
        // while we were paused). That holder did not refresh (it would have stored its marker first,
        // see TokenRecord.refreshing). Ours is the newest token: write it, version-checked.
        fence = undefined;
      } else if (isStale(c, stored)) rebase(c, stored.version);
      else {
        // Someone else wrote something newer than what we last saw: adopt it.
        adopt(rt, c, stored);
        return 'superseded';
      }
    }
  }
  // The stored record kept changing while we wrote.
  return { failed: 'storage_conflict' };
}

/**
 * Makes `record` the credential's newest record and writes it. `baseVersion` is the version it was
 * derived from: if the credential moved on meanwhile (a new login, an adoption), `record` is stale
 * and is dropped ('superseded'). `spentRefreshToken` is the refresh token this record's rotation spent.
 */
export async function commitRecord(
  rt: ManagerRuntime,
  c: Credential,
  record: TokenRecord,
  baseVersion: number,
  options: { fence?: number | undefined; spentRefreshToken?: string | undefined } = {},
): Promise<CommitResult> {
  if (c.removed || (c.record?.version ?? 0) !== baseVersion) return 'superseded';
  if (options.spentRefreshToken !== record.refreshToken) noteSpent(c, options.spentRefreshToken);
  setRecord(c, record);
  const result = await writeRecord(rt, c, options.fence);
  if (typeof result === 'string') return result;
  reportWriteFailure(rt, c, result.failed);
  return 'pending';
}

/**
 * Reads the stored record and adopts it when another writer stored something newer than what we
 * last saw. A stored record that our own rotation already replaced is not adopted: ours is rebased
 * on it and written. Throws when the store cannot be read.
 */
export async function adoptStored(rt: ManagerRuntime, c: Credential): Promise<TokenRecord | undefined> {
  return reconcileStored(rt, c, await rt.settings.storage.get(c.key));
}

/** `adoptStored` for a record already read. */
export function reconcileStored(rt: ManagerRuntime, c: Credential, stored: TokenRecord | undefined): TokenRecord | undefined {
  if (c.removed || stored === undefined || stored.version <= c.storedVersion) return undefined;
  if (isStale(c, stored)) {
    rebase(c, stored.version);
    scheduleWriteRetry(rt, c);
    return undefined;
  }
  adopt(rt, c, stored);
  return stored;
}

function reportWriteFailure(rt: ManagerRuntime, c: Credential, code: string): void {
  rt.emit({ type: 'storage_failed', key: c.key, at: rt.settings.clock.now(), code, retrying: !rt.isStopped() });
  scheduleWriteRetry(rt, c);
}

function scheduleWriteRetry(rt: ManagerRuntime, c: Credential): void {
  if (c.writeRetry?.handle !== undefined || rt.isStopped()) return;
  const attempt = c.writeRetry?.attempt ?? 0;
  const delay = Math.min(WRITE_RETRY_MAX_MS, WRITE_RETRY_MIN_MS * 2 ** attempt);
  const handle = rt.settings.clock.setTimeout(() => {
    const running = flushPending(rt, c).then(undefined, () => false).then((ok) => {
      if (!ok) scheduleWriteRetry(rt, c);
      return ok;
    });
    c.writeRetry = { handle: undefined, attempt: attempt + 1, running };
  }, delay);
  c.writeRetry = { handle, attempt };
}

export function cancelWriteRetry(rt: ManagerRuntime, c: Credential): void {
  if (c.writeRetry?.handle !== undefined) rt.settings.clock.clearTimeout(c.writeRetry.handle);
  c.writeRetry = undefined;
}

/** Writes the in-memory record if storage is behind. Resolves true when storage is up to date. */
export async function flushPending(rt: ManagerRuntime, c: Credential, fence?: number): Promise<boolean> {
  if (!hasPendingWrite(c)) return true;
  const before = c.record;
  const result = await writeRecord(rt, c, fence);
  if (result === 'superseded' && c.record !== before) rt.recordAdopted(c);
  if (typeof result === 'string') return true;
  rt.emit({ type: 'storage_failed', key: c.key, at: rt.settings.clock.now(), code: result.failed, retrying: !rt.isStopped() });
  return false;
}

export function unwrittenError(keys: string[]): StorageFailedError {
  return new StorageFailedError(`Refreshed tokens of ${keys.length} credential(s) could not be written to storage before stop()`, {
    retryable: false,
    ...(keys.length === 1 ? { key: keys[0] } : {}),
  });
}
