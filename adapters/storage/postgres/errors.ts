import { StorageFailedError, TokenLifecycleError } from '../../../machines/lifecycle/errors.js';

// SQLSTATE of a missing table: the tables were never created and create-on-first-use is off.
const UNDEFINED_TABLE = '42P01';

/**
 * Anything pg or the network threw becomes `storage_failed` (retryable); typed errors pass. Our
 * queries pass token values only as parameters into a text column, so PostgreSQL never parses or
 * echoes them: its messages (kept as `cause`) carry SQL states and identifiers, not secrets.
 */
export function asStorageError(error: unknown, key?: string): TokenLifecycleError {
  if (error instanceof TokenLifecycleError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  const hint = code === UNDEFINED_TABLE ? ' (run migrate() or leave autoMigrate on)' : '';
  return new StorageFailedError(`PostgreSQL operation failed: ${reason}${hint}`, {
    cause: error,
    ...(key === undefined ? {} : { key }),
  });
}

/** Runs `operation`, bounded by `timeoutMs`, mapping failures to typed errors. */
export async function bounded<T>(timeoutMs: number, operation: () => Promise<T>, key?: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new StorageFailedError(`PostgreSQL did not answer within ${timeoutMs} ms`, key === undefined ? {} : { key }));
    }, timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([operation(), timeout]);
  } catch (error) {
    throw asStorageError(error, key);
  } finally {
    clearTimeout(timer);
  }
}
