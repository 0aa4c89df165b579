import type { Clock } from './types.js';

/** The system clock. Only the default: everything time-related goes through an injected `Clock`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Node's setTimeout overflows past 2^31-1 ms and then fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/**
 * Timers re-check the wall clock at least this often: a laptop that slept (monotonic timers pause)
 * or a clock that jumped is noticed within a minute (R11).
 */
export const DEFAULT_CHUNK_MS = 60_000;

interface ChunkedHandle {
  current: unknown;
  cancelled: boolean;
}

/**
 * Lets a Node timer not keep the process alive (R11). A browser's timer handle is a number with no
 * `unref` (R16): calling it there would throw and leave a caller waiting forever.
 */
export function unrefTimer(handle: unknown): void {
  if (typeof handle === 'object' && handle !== null && 'unref' in handle && typeof handle.unref === 'function') {
    handle.unref();
  }
}

/**
 * Wraps a clock so that timers of any length are safe (R11): a delay is a deadline on `now()`, armed
 * in chunks no longer than `chunkMs`, re-checked against `now()` on every wake-up; an infinite
 * delay never fires; every underlying timer is `unref`ed so it never keeps a process alive.
 */
export function chunkedClock(base: Clock, chunkMs = DEFAULT_CHUNK_MS): Clock {
  const chunk = Math.min(Math.max(1, chunkMs), MAX_TIMER_MS);
  return {
    now: () => base.now(),
    setTimeout(fn, ms) {
      const handle: ChunkedHandle = { current: undefined, cancelled: false };
      if (!(ms < Number.POSITIVE_INFINITY)) return handle; // Infinity or NaN: never
      const deadline = base.now() + Math.max(0, ms);
      const arm = (): void => {
        const remaining = deadline - base.now();
        if (remaining <= 0) {
          fn();
          return;
        }
        handle.current = base.setTimeout(() => {
          if (!handle.cancelled) arm();
        }, Math.min(remaining, chunk));
        unrefTimer(handle.current);
      };
      // Even a zero delay is asynchronous, as with setTimeout.
      handle.current = base.setTimeout(() => {
        if (!handle.cancelled) arm();
      }, Math.min(Math.max(0, ms), chunk));
      unrefTimer(handle.current);
      return handle;
    },
    clearTimeout(handle) {
      const chunked = handle as ChunkedHandle | undefined;
      if (!chunked || typeof chunked !== 'object') return;
      chunked.cancelled = true;
      if (chunked.current !== undefined) base.clearTimeout(chunked.current);
    },
  };
}
