/**
 * Reads a file's bytes together with the stat of the same inode (through one descriptor), so the
 * cache signature always describes the bytes read even when a writer renames a new file in meanwhile.
 */
import type { BigIntStats } from 'node:fs';
import { open } from 'node:fs/promises';
import { StorageFailedError } from '../../../machines/lifecycle/errors.js';

export interface Snapshot {
  readonly bytes: Uint8Array;
  readonly stats: BigIntStats;
}

/** The file's bytes and stats, or undefined when it does not exist. */
export async function readSnapshot(path: string): Promise<Snapshot | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StorageFailedError(`Cannot read the token store ${path}`, { cause: error });
  }
  try {
    const stats = await handle.stat({ bigint: true });
    if (!stats.isFile()) throw new StorageFailedError(`The token store ${path} is not a regular file`);
    const bytes = await handle.readFile();
    return { bytes, stats };
  } catch (error) {
    if (error instanceof StorageFailedError) throw error;
    throw new StorageFailedError(`Cannot read the token store ${path}`, { cause: error });
  } finally {
    await handle.close().catch(() => undefined);
  }
}
