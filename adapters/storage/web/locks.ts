import type { StorageLock } from '../../../machines/lifecycle/types.js';
import type { RecordArea } from './area.js';

/**
 * A lock through the Web Locks API: one holder per name across the origin's tabs and workers, and a
 * tab that closes or crashes lets go at once (the browser releases it). The fence comes from the
 * area's lease record, so writes stay fenced like in the shared stores. The TTL still bounds the
 * hold: a holder that neither releases nor extends in time lets the Web Lock go and has lost it.
 */
export function takeWebLock(locks: LockManager, name: string, area: RecordArea, key: string, ttlMs: number, now: () => number): Promise<StorageLock | null> {
  return new Promise<StorageLock | null>((resolve, reject) => {
    locks
      .request(name, { ifAvailable: true }, async (granted) => {
        if (!granted) {
          resolve(null);
          return;
        }
        let letGo!: () => void;
        const held = new Promise<void>((done) => {
          letGo = done;
        });
        let fence: number | null;
        try {
          fence = await area.grant(key, ttlMs, false);
        } catch (error) {
          reject(error);
          return;
        }
        resolve(heldLock(fence ?? 0, area, key, ttlMs, now, letGo));
        await held; // the Web Lock is held until this settles
      })
      .catch(reject);
  });
}

function heldLock(fence: number, area: RecordArea, key: string, ttlMs: number, now: () => number, letGo: () => void): StorageLock {
  let deadline = now() + ttlMs;
  let over = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const finish = (): void => {
    over = true;
    clearTimeout(timer);
    letGo();
  };
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(
      () => {
        if (now() >= deadline) finish();
        else arm();
      },
      Math.max(0, deadline - now()),
    );
  };
  arm();
  return {
    fence,
    async release() {
      if (over) return;
      finish();
      await area.end(key, fence);
    },
    async extend(ms) {
      if (over) return false;
      if (now() >= deadline) {
        finish();
        return false;
      }
      const renewed = await area.renew(key, fence, ms);
      if (!renewed) {
        finish();
        return false;
      }
      deadline = now() + ms;
      arm();
      return true;
    },
  };
}

/** Where the Web Locks API is missing: a lease record with an expiry, taken in one transaction. */
export async function takeLease(area: RecordArea, key: string, ttlMs: number): Promise<StorageLock | null> {
  const fence = await area.grant(key, ttlMs, true);
  if (fence === null) return null;
  let released = false;
  return {
    fence,
    async release() {
      if (released) return;
      released = true;
      await area.end(key, fence);
    },
    async extend(ms) {
      if (released) return false;
      return area.renew(key, fence, ms);
    },
  };
}
