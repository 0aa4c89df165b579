import type { Redis, RedisOptions } from 'ioredis';
import { StorageFailedError, TokenLifecycleError } from '../../../machines/lifecycle/errors.js';

/**
 * Options for the connections this adapter opens itself. Nothing is ever queued while Redis is
 * unreachable: a command that cannot be sent now fails now (`storage_failed`, retryable), instead
 * of waiting in ioredis's offline queue and being applied later, after its caller was told it failed.
 */
export const ownConnectionOptions: RedisOptions = {
  enableOfflineQueue: false,
  // Commands in flight when the connection drops are rejected at once, never re-sent on reconnect.
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  // Reconnect by itself, quickly: 100 ms, 200 ms, ... capped at 1 s (ioredis's default caps at 5 s).
  retryStrategy: (times) => Math.min(times * 100, 1000),
};

/** The subscriber waits for its SUBSCRIBE through outages and resubscribes after reconnecting. */
export const subscriberOptions: Partial<RedisOptions> = {
  enableOfflineQueue: true,
  maxRetriesPerRequest: null,
  autoResubscribe: true,
  commandTimeout: undefined,
};

const pendingReady = new WeakMap<Redis, Promise<void>>();

/**
 * Resolves when `client` can take a command. While a connection attempt is under way (start-up) it
 * waits for it; while ioredis is between attempts (`reconnecting`) or closed, it fails at once.
 */
export function whenReady(client: Redis): Promise<void> {
  const status = client.status;
  if (status === 'ready') return Promise.resolve();
  if (status === 'reconnecting' || status === 'close' || status === 'end') {
    return Promise.reject(new StorageFailedError(`Redis is not connected (${status})`));
  }
  let pending = pendingReady.get(client);
  if (pending === undefined) {
    // One shared waiter per client: many concurrent operations add no listeners of their own.
    pending = new Promise<void>((resolve, reject) => {
      const settle = (error?: Error): void => {
        client.off('ready', onReady);
        client.off('close', onClose);
        client.off('end', onClose);
        pendingReady.delete(client);
        if (error) reject(error);
        else resolve();
      };
      const onReady = (): void => settle();
      const onClose = (): void => settle(new StorageFailedError('Could not connect to Redis'));
      client.once('ready', onReady);
      client.once('close', onClose);
      client.once('end', onClose);
    });
    pending.catch(() => {});
    pendingReady.set(client, pending);
    // A lazyConnect client connects on its first command; here nothing is sent before `ready`.
    if (status === 'wait') client.connect().catch(() => {});
  }
  return pending;
}

/** Anything Redis or the network threw becomes `storage_failed` (retryable); typed errors pass. */
export function asStorageError(error: unknown, key?: string): TokenLifecycleError {
  if (error instanceof TokenLifecycleError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new StorageFailedError(`Redis operation failed: ${reason}`, {
    cause: error,
    ...(key === undefined ? {} : { key }),
  });
}

/** Runs `operation` once Redis is ready, bounded by `timeoutMs`, mapping failures to typed errors. */
export async function withRedis<T>(
  client: Redis,
  timeoutMs: number,
  operation: () => Promise<T>,
  key?: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StorageFailedError(`Redis did not answer within ${timeoutMs} ms`, key === undefined ? {} : { key })),
      timeoutMs,
    );
    timer.unref();
  });
  try {
    return await Promise.race([whenReady(client).then(operation), timeout]);
  } catch (error) {
    throw asStorageError(error, key);
  } finally {
    clearTimeout(timer);
  }
}
