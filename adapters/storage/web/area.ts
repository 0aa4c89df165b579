import type { StorageSetOptions, TokenRecord } from '../../../machines/lifecycle/types.js';

/**
 * Where a webStorage keeps records and lock leases. Every method is atomic against every other call
 * on the same data (IndexedDB transactions across tabs; synchronous sessionStorage within a tab).
 */
export interface RecordArea {
  get(key: string): Promise<TokenRecord | undefined>;
  /** Refuses with `storage_conflict` on a fence older than the key's newest, or a version mismatch. */
  set(key: string, record: TokenRecord, options: StorageSetOptions): Promise<void>;
  /** Resolves true when a record was there. */
  delete(key: string): Promise<boolean>;
  keys(): Promise<string[]>;
  /**
   * Hands out the key's next fence and records a lease until `now + ttlMs`. With `exclusive`, an
   * unexpired lease held by someone else makes it resolve null instead.
   */
  grant(key: string, ttlMs: number, exclusive: boolean): Promise<number | null>;
  /** Moves the lease's expiry; false when `fence` is no longer the newest or its lease has expired. */
  renew(key: string, fence: number, ttlMs: number): Promise<boolean>;
  /** Ends the lease if it is still `fence`'s (the fence counter itself is kept). */
  end(key: string, fence: number): Promise<void>;
  close(): void;
}

/** A lock lease: the newest fence handed out for a key, and until when its holder may act. */
export interface Lease {
  fence: number;
  expiresAt: number;
}

/** A flat copy without undefined fields (structured clone would keep them). */
export function plainRecord(record: TokenRecord): TokenRecord {
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(record)) if (value !== undefined) out[field] = value;
  return out as unknown as TokenRecord;
}

export function isLease(value: unknown): value is Lease {
  return typeof value === 'object' && value !== null && typeof (value as Lease).fence === 'number' && typeof (value as Lease).expiresAt === 'number';
}
