/**
 * Callers waiting on a credential: for its first load from storage, for the refresh in flight to
 * settle (R7), or for the minimum interval (R10). Each wait ends one of three ways, exactly once:
 * what it waits for happens; the caller's signal aborts (that caller's wait only: the load or refresh
 * goes on for the others); or the manager stops (`stopped`). So no caller is left awaiting forever.
 */
import type { Credential } from './credential.js';
import { StoppedError } from '../lifecycle/errors.js';
import type { Clock } from '../lifecycle/types.js';

export interface Waiting {
  /** Waits until the credential is not refreshing (released by `releaseWaiters`). */
  waitSettled(c: Credential, signal: AbortSignal | undefined): Promise<void>;
  /** Waits for a load shared with other callers; an abort ends this caller's wait, not the load. */
  waitLoaded<T>(load: Promise<T>, signal: AbortSignal | undefined): Promise<T>;
  sleep(ms: number, signal: AbortSignal | undefined): Promise<void>;
  releaseWaiters(c: Credential): void;
  /** stop(): every wait, now and later, rejects with `stopped`. */
  stop(): void;
}

/** One wait: `begin` starts it and returns how to cancel it. */
type Begin<T> = (resolve: (value: T) => void, reject: (error: unknown) => void) => () => void;

export function createWaiting(clock: Clock): Waiting {
  // Background timers are unref'ed (R11), but a caller awaiting a result must not see its process exit
  // under it (a refresh waiting for another process's lock polls on unref'ed timers; AbortSignal.timeout
  // is unref'ed too): while anyone waits, one ref'ed timer holds the event loop.
  let holds = 0;
  let keepAlive: ReturnType<typeof setInterval> | undefined;
  function holdProcess(): () => void {
    if (holds++ === 0) keepAlive = setInterval(() => undefined, 60_000);
    return () => {
      if (--holds === 0) clearInterval(keepAlive);
    };
  }

  // Many callers often share one signal (a request's): one abort listener per signal, whatever their
  // number (eleven listeners on one signal make Node print MaxListenersExceededWarning).
  const onAbort = new WeakMap<AbortSignal, { readonly fire: () => void; readonly waits: Set<() => void> }>();
  function listenAbort(signal: AbortSignal, abort: () => void): () => void {
    let entry = onAbort.get(signal);
    if (!entry) {
      const waits = new Set<() => void>();
      const fire = (): void => {
        onAbort.delete(signal);
        for (const wait of [...waits]) wait();
      };
      entry = { fire, waits };
      onAbort.set(signal, entry);
      signal.addEventListener('abort', fire, { once: true });
    }
    const { fire, waits } = entry;
    waits.add(abort);
    return () => {
      waits.delete(abort);
      if (waits.size === 0 && onAbort.get(signal) === entry) {
        onAbort.delete(signal);
        signal.removeEventListener('abort', fire);
      }
    };
  }

  let stopped = false;
  /** How to end each wait in progress when the manager stops. */
  const active = new Set<() => void>();

  function wait<T>(signal: AbortSignal | undefined, begin: Begin<T>): Promise<T> {
    if (stopped) return Promise.reject(new StoppedError());
    // An abort listener never fires for a signal already aborted.
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const release = holdProcess();
      let cancel: () => void = () => undefined;
      let unlisten: () => void = () => undefined;
      const end = (): boolean => {
        if (settled) return false;
        settled = true;
        active.delete(stop);
        unlisten();
        release();
        return true;
      };
      const stop = (): void => {
        if (!end()) return;
        cancel();
        reject(new StoppedError());
      };
      active.add(stop);
      if (signal) {
        unlisten = listenAbort(signal, () => {
          if (!end()) return;
          cancel();
          reject(signal.reason);
        });
      }
      cancel = begin(
        (value) => {
          if (end()) resolve(value);
        },
        (error) => {
          if (end()) reject(error);
        },
      );
    });
  }

  function releaseWaiters(c: Credential): void {
    if (!c.settleWaiters?.size) return;
    const waiters = [...c.settleWaiters];
    c.settleWaiters.clear();
    for (const wake of waiters) wake();
  }

  function waitSettled(c: Credential, signal: AbortSignal | undefined): Promise<void> {
    return wait<void>(signal, (resolve) => {
      const done = (): void => resolve();
      (c.settleWaiters ??= new Set()).add(done);
      return () => c.settleWaiters?.delete(done);
    });
  }

  function waitLoaded<T>(load: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    return wait<T>(signal, (resolve, reject) => {
      // Handled even when this caller has gone: an abandoned load's failure is no unhandled rejection.
      load.then(resolve, reject);
      return () => undefined;
    });
  }

  function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return wait<void>(signal, (resolve) => {
      const handle = clock.setTimeout(() => resolve(), ms);
      return () => clock.clearTimeout(handle);
    });
  }

  function stop(): void {
    stopped = true;
    for (const end of [...active]) end();
  }

  return { waitSettled, waitLoaded, sleep, releaseWaiters, stop };
}
