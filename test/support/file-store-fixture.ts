import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenStorage } from '../../machines/lifecycle/types.js';
import type { StorageFixture } from './storage-contract.js';

/**
 * The fixture of a store kept in a file (fileStorage, keychainStorage's metadata): a fresh directory,
 * a clock the lock TTLs read, and `open(path, now)` for each instance over `<dir>/tokens.json`;
 * `cleanup` closes every instance, runs `after()` (a keychain's entries), then removes the directory.
 */
export async function fileStoreFixture(
  prefix: string,
  open: (path: string, now: () => number) => TokenStorage & { close(): Promise<void> },
  options: { start?: number; after?: () => Promise<void> } = {},
): Promise<StorageFixture> {
  const home = await mkdtemp(join(tmpdir(), prefix));
  let t = options.start ?? 1_700_000_000_000;
  const opened: Array<{ close(): Promise<void> }> = [];
  const make = (): TokenStorage => {
    const storage = open(join(home, 'tokens.json'), () => t);
    opened.push(storage);
    return storage;
  };
  return {
    storage: make(),
    makeSecondInstance: async () => make(),
    advance: (ms: number) => {
      t += ms;
    },
    async cleanup() {
      await Promise.all(opened.map((s) => s.close()));
      await options.after?.();
      await rm(home, { recursive: true, force: true });
    },
  };
}
