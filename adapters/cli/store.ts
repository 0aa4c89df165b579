/**
 * Opens the configured store. The file store is imported statically: it is the offline path's only
 * I/O. Redis (ioredis, an optional peer dependency) is loaded only when asked for.
 */
import { InvalidConfigError } from '../../machines/errors.js';
import type { TokenStorage } from '../../machines/types.js';
import { fileStorage } from '../file/file-storage.js';
import type { StoreSettings } from './settings.js';

export type CliStorage = TokenStorage & { close(): Promise<void>; readonly description: string };

export async function openStorage(store: StoreSettings): Promise<CliStorage> {
  if (store.kind === 'file') {
    const storage = fileStorage({ path: store.path });
    return Object.assign(storage, { description: `file ${storage.path}` });
  }
  let module: typeof import('../redis/redis-storage.js');
  try {
    module = await import('../redis/redis-storage.js');
  } catch (error) {
    throw new InvalidConfigError('--store redis needs the ioredis package (npm install ioredis)', { cause: error });
  }
  const storage = module.redisStorage({ url: store.url });
  // The URL may carry a password: describe the store without it.
  return Object.assign(storage, { description: `redis ${redactUrl(store.url)}` });
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
