/**
 * Writing a credential's record (R4): new tokens go to storage before they are handed out; a failed
 * write keeps them in memory and is retried until it succeeds; storage never goes backwards
 * (every write names the version it replaces, so a spent token never overwrites a newer one).
 */
import { setRecord, type Credential } from './credential.js';
import { StorageConflictError, StorageFailedError, TokenLifecycleError } from './errors.js';
import type { ManagerRuntime } from './runtime.js';
import type { TokenRecord } from './types.js';

const WRITE_RETRY_MIN_MS = 500;
const WRITE_RETRY_MAX_MS = 30_000;

export type CommitResult = 'written' | 'pending' | 'superseded';

function storageCode(error: unknown): string {
  return error instanceof TokenLifecycleError ? error.code : 'storage_failed';
}

/**
 * Makes `record` the credential's newest record and writes it. `baseVersion` is the record it was
 * derived from: if the credential moved on meanwhile (a new login, an adoption), `record` is stale
 * and is dropped ('superseded'). A storage conflict means another writer got there first: its record
 * is adopted (with locks and fencing, that writer is the rightful one).
 */
export async function commitRecord(
  rt: ManagerRuntime,
  c: Credential,
  record: TokenRecord,
  baseVersion: number,
  fence?: number,
): Promise<CommitResult> {
  if (c.removed || (c.record?.version ?? 0) !== baseVersion) return 'superseded';
  const { storage } = rt.settings;
  try {
    // Under a lock, the fence lets storage refuse us if a newer holder took over (a paused process).
    await storage.set(c.key, record, { expectedVersion: c.storedVersion, ...(fence === undefined ? {} : { fence }) });
  } catch (error) {
    if (c.removed || (c.record?.version ?? 0) !== baseVersion) return 'superseded';
    if (error instanceof StorageConflictError) {
      await adoptStored(rt, c);
      return 'superseded';
    }
    setRecord(c, record);
    reportWriteFailure(rt, c, error);
    return 'pending';
  }
  setRecord(c, record);
  c.storedVersion = record.version;
  cancelWriteRetry(rt, c);
  return 'written';
}

/** Reads the stored record and adopts it when it is newer than the one in memory. */
export async function adoptStored(rt: ManagerRuntime, c: Credential): Promise<TokenRecord | undefined> {
  let stored: TokenRecord | undefined;
  try {
    stored = await rt.settings.storage.get(c.key);
  } catch {
    return undefined;
  }
  if (stored && stored.version > (c.record?.version ?? 0)) {
    setRecord(c, stored);
    c.storedVersion = stored.version;
    cancelWriteRetry(rt, c);
    return stored;
  }
  if (stored) c.storedVersion = stored.version;
  return undefined;
}

function reportWriteFailure(rt: ManagerRuntime, c: Credential, error: unknown): void {
  rt.emit({ type: 'storage_failed', key: c.key, at: rt.settings.clock.now(), code: storageCode(error), retrying: true });
  scheduleWriteRetry(rt, c);
}

function scheduleWriteRetry(rt: ManagerRuntime, c: Credential): void {
  if (c.writeRetry?.handle !== undefined || rt.isStopped()) return;
  const attempt = c.writeRetry?.attempt ?? 0;
  const delay = Math.min(WRITE_RETRY_MAX_MS, WRITE_RETRY_MIN_MS * 2 ** attempt);
  const handle = rt.settings.clock.setTimeout(() => {
    c.writeRetry = { handle: undefined, attempt: attempt + 1 };
    void flushPending(rt, c).then((ok) => {
      if (!ok) scheduleWriteRetry(rt, c);
    });
  }, delay);
  c.writeRetry = { handle, attempt };
}

export function cancelWriteRetry(rt: ManagerRuntime, c: Credential): void {
  if (c.writeRetry?.handle !== undefined) rt.settings.clock.clearTimeout(c.writeRetry.handle);
  c.writeRetry = undefined;
}

export function hasPendingWrite(c: Credential): boolean {
  return !c.removed && c.record !== undefined && c.record.version > c.storedVersion;
}

/** Writes the in-memory record if storage is behind. Resolves true when storage is up to date. */
export async function flushPending(rt: ManagerRuntime, c: Credential): Promise<boolean> {
  const record = c.record;
  if (!record || !hasPendingWrite(c)) return true;
  try {
    await rt.settings.storage.set(c.key, record, { expectedVersion: c.storedVersion });
  } catch (error) {
    if (error instanceof StorageConflictError) {
      if (await adoptStored(rt, c)) rt.recordAdopted(c);
      return true;
    }
    rt.emit({ type: 'storage_failed', key: c.key, at: rt.settings.clock.now(), code: storageCode(error), retrying: !rt.isStopped() });
    return false;
  }
  if (c.record === record) c.storedVersion = record.version;
  cancelWriteRetry(rt, c);
  return true;
}

export function unwrittenError(keys: string[]): StorageFailedError {
  return new StorageFailedError(`Refreshed tokens of ${keys.length} credential(s) could not be written to storage before stop()`, {
    retryable: false,
    ...(keys.length === 1 && keys[0] !== undefined ? { key: keys[0] } : {}),
  });
}
