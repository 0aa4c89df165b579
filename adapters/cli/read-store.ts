/**
 * The offline `token get`'s read of the file store: one synchronous read of the document, parsed with
 * the file adapter's own format functions (../file/document.ts), so a corrupt file is refused exactly
 * as `fileStorage().get()` refuses it (`storage_corrupt`, file untouched) and a missing file is an
 * empty store. Why not `fileStorage().get()`: its half-dozen asynchronous file-system calls each
 * hand off to the libuv thread pool, and on a loaded machine every hand-off waits for a time slice;
 * one `readFileSync` keeps start-up near bare Node (docs/cli.md, "Start-up"). Reading takes no lock
 * (writes are atomic renames), as in the file adapter.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { StorageCorruptError, StorageFailedError } from '../../machines/lifecycle/errors.js';
import type { TokenRecord } from '../../machines/lifecycle/types.js';
import { parseDocument, toTokenRecord } from '../storage/file/document.js';

export function readFileRecord(storePath: string, key: string): TokenRecord | undefined {
  const path = resolve(storePath);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined; // a missing file is an empty store
    if (code === 'EISDIR') throw new StorageFailedError(`The token store ${path} is not a regular file`, { key });
    throw new StorageFailedError(`Cannot read the token store ${path}`, { cause: error, key });
  }
  const result = parseDocument(bytes);
  if (!result.ok) {
    throw new StorageCorruptError(`The token store ${path} ${result.reason}; it was left untouched (fix, move or delete it)`, { key });
  }
  const raw = result.doc.credentials.get(key);
  return raw === undefined ? undefined : toTokenRecord(raw);
}
