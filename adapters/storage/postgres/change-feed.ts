import type { Notification, Pool, PoolClient } from 'pg';
import type { StorageChangeListener } from '../../../machines/lifecycle/types.js';

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 1_000;

/**
 * The change feed: one pooled connection kept out of the pool, LISTENing on the store's channel
 * (NOTIFY is sent by every write and delete in the same statement, so it is delivered on commit).
 * When the connection drops it reconnects by itself (100 ms, 200 ms, … capped at 1 s) and listens
 * again; changes made while it was away are not replayed (as with Redis pub/sub).
 */
export class ChangeFeed {
  private readonly listeners = new Set<StorageChangeListener>();
  private client: PoolClient | undefined;
  private running = false;
  private attempts = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly channel: string,
    private readonly ready: () => Promise<void>,
  ) {}

  add(listener: StorageChangeListener): () => void {
    this.listeners.add(listener);
    if (!this.running) {
      this.running = true;
      void this.connect();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  stop(): void {
    this.running = false;
    this.listeners.clear();
    clearTimeout(this.retryTimer);
    this.drop();
  }

  private drop(error?: Error): void {
    const client = this.client;
    this.client = undefined;
    if (client === undefined) return;
    client.removeAllListeners('notification');
    // Destroyed, never returned to the pool: a pooled connection must not keep LISTENing.
    client.release(error ?? true);
  }

  private readonly deliver = (message: Notification): void => {
    if (message.channel !== this.channel || message.payload === undefined) return;
    for (const listener of [...this.listeners]) {
      try {
        listener(message.payload);
      } catch {
        // One listener's failure must not keep the others from hearing the change.
      }
    }
  };

  private async connect(): Promise<void> {
    let client: PoolClient | undefined;
    try {
      await this.ready();
      client = await this.pool.connect();
      if (!this.running) {
        client.release(true);
        return;
      }
      this.client = client;
      client.on('notification', this.deliver);
      client.on('error', (error: Error) => this.lost(client!, error));
      client.on('end', () => this.lost(client!));
      await client.query(`LISTEN "${this.channel}"`);
      this.attempts = 0;
    } catch (error) {
      if (client !== undefined) this.lost(client, error instanceof Error ? error : new Error(String(error)));
      else this.retry();
    }
  }

  private lost(client: PoolClient, error?: Error): void {
    if (this.client !== client) return;
    this.drop(error ?? new Error('connection ended'));
    this.retry();
  }

  private retry(): void {
    if (!this.running) return;
    this.attempts += 1;
    const delay = Math.min(RECONNECT_MIN_MS * this.attempts, RECONNECT_MAX_MS);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
    this.retryTimer.unref();
  }
}
