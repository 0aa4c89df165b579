import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import {
  InvalidConfigError,
  StorageConflictError,
  StorageCorruptError,
  StorageFailedError,
} from '../../../machines/lifecycle/errors.js';
import type {
  StorageChangeListener,
  StorageLock,
  StorageSetOptions,
  TokenRecord,
  TokenStorage,
} from '../../../machines/lifecycle/types.js';
import { ownConnectionOptions, subscriberOptions, withRedis } from './connection.js';
import { decodeRecord, encodeRecord } from '../record-codec.js';
import { deleteScript, extendScript, lockScript, releaseScript, runScript, setScript } from './scripts.js';

export interface RedisStorageOptions {
  /** A client you own: used as is and never closed by `close()`. Give this or `url`. */
  client?: Redis;
  /** `redis://…` / `rediss://…`: the storage opens (and `close()` closes) its own connection. */
  url?: string;
  /** Prepended to every Redis key and to the change channel. Default `token-lifecycle:`. */
  prefix?: string;
  /** Upper bound in ms for each operation, connection wait included. Default 2000. */
  timeout?: number;
  /** Extra ioredis options for the connection opened from `url` (TLS, auth, …). */
  redisOptions?: RedisOptions;
}

export interface RedisStorage extends TokenStorage {
  keys(): Promise<string[]>;
  lock(key: string, ttlMs: number): Promise<StorageLock | null>;
  subscribe(listener: StorageChangeListener): () => void;
  close(): Promise<void>;
}

const DEFAULT_PREFIX = 'token-lifecycle:';
const DEFAULT_TIMEOUT = 2000;

/** Glob characters of SCAN's MATCH escaped, so a prefix like `app[1]:` matches only itself. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

function positiveMs(value: number, what: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new InvalidConfigError(`${what} must be a positive number of ms`);
  return Math.ceil(value);
}

async function shut(connection: Redis): Promise<void> {
  try {
    if (connection.status === 'ready') await connection.quit();
  } catch {
    // Already gone: nothing to say goodbye to.
  } finally {
    connection.disconnect();
  }
}

/**
 * A TokenStorage shared through Redis (DESIGN §5): records as JSON strings at `<prefix>cred:<key>`,
 * compare-and-set writes, locks at `<prefix>lock:<key>` with a fencing counter at
 * `<prefix>fence:<key>`, and change announcements on the channel `<prefix>changes`.
 */
export function redisStorage(options: RedisStorageOptions): RedisStorage {
  if ((options.client === undefined) === (options.url === undefined)) {
    throw new InvalidConfigError('redisStorage needs exactly one of `client` or `url`');
  }
  if (options.client?.options.keyPrefix) {
    // ioredis applies keyPrefix to commands' keys but not to SCAN patterns: keys() would see nothing.
    throw new InvalidConfigError('Use redisStorage({ prefix }) instead of the client option keyPrefix');
  }
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const timeout = positiveMs(options.timeout ?? DEFAULT_TIMEOUT, 'timeout');
  const owned = options.client === undefined;
  const client: Redis = options.client
    ? (options.client as Redis)
    : new Redis(options.url as string, { ...ownConnectionOptions, ...options.redisOptions });
  // Errors reach callers through rejected operations; this stops ioredis's "Unhandled error event".
  if (owned) client.on('error', () => {});

  const recordKey = (key: string): string => `${prefix}cred:${key}`;
  const lockKey = (key: string): string => `${prefix}lock:${key}`;
  // Never deleted, not even by delete(key): a reset counter would make old fences look new.
  const fenceKey = (key: string): string => `${prefix}fence:${key}`;
  const channel = `${prefix}changes`;

  let closed = false;
  let subscriber: Redis | undefined;
  const listeners = new Set<StorageChangeListener>();

  const run = <T>(operation: () => Promise<T>, key?: string): Promise<T> => {
    if (closed) {
      return Promise.reject(new StorageFailedError('The Redis storage is closed', { retryable: false }));
    }
    return withRedis(client, timeout, operation, key);
  };

  function makeLock(key: string, token: string, fence: number): StorageLock {
    return {
      fence,
      async release() {
        await run(() => runScript(client, releaseScript, [lockKey(key), token]), key);
      },
      async extend(ms) {
        const ttl = positiveMs(ms, 'Lock extension');
        return (await run(() => runScript(client, extendScript, [lockKey(key), token, ttl]), key)) === 1;
      },
    };
  }

  function startSubscriber(): Redis {
    const connection = client.duplicate(subscriberOptions);
    connection.on('error', () => {});
    connection.on('message', (from: string, key: string) => {
      if (from !== channel) return;
      for (const listener of [...listeners]) {
        try {
          listener(key);
        } catch {
          // One listener's failure must not keep the others from hearing the change.
        }
      }
    });
    // Queued through outages (offline queue on) and renewed after each reconnect (autoResubscribe).
    connection.subscribe(channel).catch(() => {});
    return connection;
  }

  return {
    get(key) {
      return run(async () => {
        let raw: string | null;
        try {
          raw = await client.get(recordKey(key));
        } catch (error) {
          if (error instanceof Error && error.message.startsWith('WRONGTYPE')) {
            throw new StorageCorruptError(`Stored record for key "${key}" is not a string value`, { key });
          }
          throw error;
        }
        return raw === null ? undefined : decodeRecord(key, raw);
      }, key);
    },

    async set(key, record: TokenRecord, setOptions: StorageSetOptions = {}) {
      const json = encodeRecord(key, record);
      const { expectedVersion, fence } = setOptions;
      for (const [name, value] of [['expectedVersion', expectedVersion], ['fence', fence]] as const) {
        if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
          throw new InvalidConfigError(`${name} must be a non-negative integer`);
        }
      }
      const reply = await run(
        () =>
          runScript(client, setScript, [
            recordKey(key),
            fenceKey(key),
            json,
            expectedVersion === undefined ? '' : expectedVersion,
            fence === undefined ? '' : fence,
            channel,
            key,
          ]),
        key,
      );
      const [outcome, detail] = Array.isArray(reply) ? (reply as string[]) : [];
      if (outcome === 'ok') return;
      if (outcome === 'fenced') {
        throw new StorageConflictError(`A newer lock (fence ${detail}) was taken on key "${key}" since fence ${fence}`, { key });
      }
      if (outcome === 'conflict') {
        throw new StorageConflictError(`Stored version ${detail} differs from expected ${expectedVersion}`, { key });
      }
      if (outcome === 'corrupt') {
        throw new StorageCorruptError(`Stored record for key "${key}" is malformed; write refused`, { key });
      }
      throw new StorageFailedError('Unexpected reply from the Redis set script', { key });
    },

    async delete(key) {
      await run(() => runScript(client, deleteScript, [recordKey(key), channel, key]), key);
    },

    async keys() {
      const match = `${escapeGlob(recordKey(''))}*`;
      const found = new Set<string>();
      let cursor = '0';
      // SCAN, never KEYS: it walks the keyspace in steps and does not block the server. Each step
      // has its own timeout, so a large keyspace is not cut short by one operation's bound.
      do {
        const [next, batch] = await run(() => client.scan(cursor, 'MATCH', match, 'COUNT', 200));
        for (const name of batch) found.add(name.slice(recordKey('').length));
        cursor = next;
      } while (cursor !== '0');
      return [...found];
    },

    async lock(key, ttlMs) {
      const ttl = positiveMs(ttlMs, 'Lock TTL');
      const token = randomUUID();
      const fence = await run(() => runScript(client, lockScript, [lockKey(key), fenceKey(key), token, ttl]), key);
      return typeof fence === 'number' ? makeLock(key, token, fence) : null;
    },

    subscribe(listener) {
      if (closed) throw new StorageFailedError('The Redis storage is closed', { retryable: false });
      listeners.add(listener);
      subscriber ??= startSubscriber();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && subscriber !== undefined) {
          const idle = subscriber;
          subscriber = undefined;
          void shut(idle);
        }
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      const connections = [subscriber, owned ? client : undefined].filter((c): c is Redis => c !== undefined);
      subscriber = undefined;
      await Promise.all(connections.map(shut));
    },
  };
}
