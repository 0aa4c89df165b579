/**
 * Opens the configured store, for the commands that go through a storage adapter (not the offline
 * `token get`, which reads the file itself: ./read-store.ts). The file store is imported statically;
 * Redis (ioredis) and the OS keychain (@napi-rs/keyring), optional peer dependencies, are loaded only
 * when asked for.
 */
import { InvalidConfigError } from '../../machines/lifecycle/errors.js';
import type { TokenStorage } from '../../machines/lifecycle/types.js';
import { fileStorage } from '../storage/file/file-storage.js';
import type { ExitCode } from './exit-codes.js';
import { fail, type CliIo } from './io.js';
import type { StoreSettings } from './settings.js';

export type CliStorage = TokenStorage & { close(): Promise<void>; readonly description: string };

export async function openStorage(store: StoreSettings): Promise<CliStorage> {
  if (store.kind === 'file') {
    const storage = fileStorage({ path: store.path });
    return Object.assign(storage, { description: `file ${storage.path}` });
  }
  if (store.kind === 'keychain') {
    // The adapter loads @napi-rs/keyring on first use (a missing package is invalid_config then).
    const { keychainStorage } = await import('../storage/keychain/keychain-storage.js');
    const storage = keychainStorage({ path: store.path });
    return Object.assign(storage, { description: `keychain (service ${JSON.stringify(storage.service)}) + file ${storage.path}` });
  }
  let module: typeof import('../storage/redis/redis-storage.js');
  try {
    module = await import('../storage/redis/redis-storage.js');
  } catch (error) {
    throw new InvalidConfigError('--store redis needs the ioredis package (npm install ioredis)', { cause: error });
  }
  const storage = module.redisStorage({ url: store.url });
  // The URL may carry a password: describe the store without it.
  return Object.assign(storage, { description: `redis ${redactUrl(store.url)}` });
}

/**
 * A command's life with the store: opens it, runs `use`, and closes it whatever happens (a failed
 * close is not reported: the outcome is decided by then). An error opening the store, or one that
 * `use` throws, is reported on stderr and becomes the exit code.
 */
export async function withStorage(store: StoreSettings, io: CliIo, use: (storage: CliStorage) => Promise<ExitCode>): Promise<ExitCode> {
  let storage: CliStorage;
  try {
    storage = await openStorage(store);
  } catch (error) {
    return fail(io, error);
  }
  try {
    return await use(storage);
  } catch (error) {
    return fail(io, error);
  } finally {
    await storage.close().catch(() => undefined);
  }
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}
