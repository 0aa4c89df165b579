/**
 * Callers waiting on a credential: for the refresh in flight to settle (R7), or for the minimum
 * interval (R10). An abort ends one caller's wait only.
 */
import type { Credential } from './credential.js';
import type { Clock } from '../lifecycle/types.js';

export interface Waiting {
  /** Waits until the credential is not refreshing (released by `releaseWaiters`). */
  waitSettled(c: Credential, signal: AbortSignal | undefined): Promise<void>;
  sleep(ms: number, signal: AbortSignal | undefined): Promise<void>;
  releaseWaiters(c: Credential): void;
}

export function createWaiting(clock: Clock): Waiting {
  // Background timers are unref'ed (R11), but a caller awaiting a result must not see its process exit
  // under it (a refresh waiting for another process's lock polls on unref'ed timers): while anyone
  // waits, one ref'ed timer holds the event loop.
  let waiting = 0;
  let keepAlive: ReturnType<typeof setInterval> | undefined;
  function holdProcess(): () => void {
    if (waiting++ === 0) keepAlive = setInterval(() => undefined, 60_000);
    // Called once per hold: each waiter settles by exactly one path (its listener and entry are removed).
    return () => {
      if (--waiting === 0) clearInterval(keepAlive);
    };
  }

  function releaseWaiters(c: Credential): void {
    if (!c.settleWaiters?.size) return;
    const waiters = [...c.settleWaiters];
    c.settleWaiters.clear();
    for (const wake of waiters) wake();
  }

  function waitSettled(c: Credential, signal: AbortSignal | undefined): Promise<void> {
    const release = holdProcess();
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        c.settleWaiters?.delete(done);
        release();
        reject(signal?.reason);
      };
      const done = (): void => {
        signal?.removeEventListener('abort', onAbort);
        release();
        resolve();
      };
      (c.settleWaiters ??= new Set()).add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    const release = holdProcess();
    return new Promise((resolve, reject) => {
      const handle = clock.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        release();
        resolve();
      }, ms);
      const onAbort = (): void => {
        clock.clearTimeout(handle);
        release();
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  return { waitSettled, sleep, releaseWaiters };
}
