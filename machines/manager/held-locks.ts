/**
 * The storage locks of refreshes in flight, kept alive while their request is out (R7: a slow server
 * must not let a second refresh in). Extended every third of the lease, on real timers that never
 * keep a process alive (R11).
 *
 * Once the manager stops (R15) a refresh still in flight goes on and keeps its lock, but on a short
 * lease (`STOPPED_LEASE_MS`): while the process lives it extends the lease, so the next process
 * waits for the late answer and adopts it; when the process exits (a CLI exits right after stop())
 * or dies, the lock lapses within the lease instead of the whole lock TTL (issue 22, case 8).
 */
import { unrefTimer } from '../lifecycle/clock.js';
import type { StorageLock } from '../lifecycle/types.js';

/** The lease of a lock kept after stop(): how long a process that exits blocks the next one. */
export const STOPPED_LEASE_MS = 3_000;

export interface HeldLocks {
  /** Keeps `lock` alive until the returned function is called (the refresh has ended). */
  keep(lock: StorageLock): () => void;
  /** For stop(): every lock kept from now on is extended on the short lease, starting at once. */
  shorten(): void;
}

interface Kept {
  readonly lock: StorageLock;
  timer?: ReturnType<typeof setInterval>;
}

export function createHeldLocks(ttlMs: number): HeldLocks {
  const kept = new Set<Kept>();
  let leaseMs = ttlMs;

  const extend = (k: Kept): void => void k.lock.extend(leaseMs).catch(() => undefined);

  function arm(k: Kept): void {
    clearInterval(k.timer);
    k.timer = setInterval(() => extend(k), Math.max(10, leaseMs / 3));
    unrefTimer(k.timer);
  }

  return {
    keep(lock) {
      const k: Kept = { lock };
      arm(k);
      kept.add(k);
      return () => {
        clearInterval(k.timer);
        kept.delete(k);
      };
    },
    shorten() {
      if (leaseMs <= STOPPED_LEASE_MS) return;
      leaseMs = STOPPED_LEASE_MS;
      for (const k of kept) {
        // Every store's extend() sets the expiry to now + ms: this shortens what is left of the TTL.
        extend(k);
        arm(k);
      }
    },
  };
}
