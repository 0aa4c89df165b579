/**
 * Crash-safe file replacement: a temp file in the same directory, written, fsynced, then renamed over
 * the target (rename(2) is atomic within a file system), then the directory fsynced so the rename
 * itself survives a power loss. Readers see the old bytes or the new ones, never a mix (R13: 0600).
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Temp names are `.<target>.<16 hex>.tmp`: hidden, and recognisable for clean-up after a crash. */
function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(8).toString('hex')}.tmp`);
}

/**
 * Creates `dir` (and missing parents) with mode 0700. An existing directory is left as it is: it may be
 * a user's own directory whose mode is theirs to choose; the files in it are 0600 anyway.
 */
export async function ensureDirectory(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true, mode: DIR_MODE });
  // mkdir's mode passes through the umask; set it exactly on the directory we made.
  if (created !== undefined) await chmod(dir, DIR_MODE);
}

/** fsync a directory; not supported everywhere (Windows): there the rename is still atomic, only less durable. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Durability only; atomicity does not depend on it.
  }
}

/**
 * Replaces `target` with `data` atomically. `beforeCommit` runs just before the rename and may throw to
 * abort (e.g. the store lock was lost); the temp file is removed on any failure.
 */
export async function writeFileAtomic(target: string, data: string, beforeCommit?: () => void): Promise<void> {
  const temp = tempPathFor(target);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(temp, 'wx', FILE_MODE);
    await handle.chmod(FILE_MODE); // exact mode whatever the umask
    await handle.writeFile(data, 'utf8');
    await handle.sync();
    await handle.close();
    handle = undefined;
    beforeCommit?.();
    await rename(temp, target);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dirname(target));
}

/**
 * Removes temp files a writer killed mid-write left for `target` or its key-lock files. Call only while
 * holding the store lock: writers create temp files only under it, so none of them is in use.
 */
export async function removeLeftoverTempFiles(target: string): Promise<void> {
  const pattern = new RegExp(`^\\.${escapeRegExp(basename(target))}(\\.[0-9a-f]{32}\\.lock)?\\.[0-9a-f]{16}\\.tmp$`);
  const dir = dirname(target);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  await Promise.all(names.filter((name) => pattern.test(name)).map((name) => unlink(join(dir, name)).catch(() => undefined)));
}
