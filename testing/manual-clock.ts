/**
 * A clock that moves only when the test says so. It has the shape of the manager's `clock` option
 * (`now`, `setTimeout`, `clearTimeout`), and `advance`/`set` run the timers that fall due in the
 * order of their due time, letting promise chains run after each one: a refresh that a timer starts
 * can answer, store its tokens and arm the next timer before the next timer fires, as it would in
 * real time. Plain TypeScript: no test-runner import, no Node built-in, no real timer (works under
 * vitest, jest, node:test, in a browser, and beside a runner's fake timers).
 */
import type { Clock } from '../machines/lifecycle/types.js';

/** 2030-01-01T00:00:00Z: any epoch works; a fixed one keeps test output stable. */
export const DEFAULT_START = 1_893_456_000_000;

/** Microtask turns per `settle()`: enough for the manager's longest chain (a refresh stored and announced). */
const SETTLE_TURNS = 100;
/** Timers run at one instant before `advance` gives up: a timer that re-arms itself at zero delay forever. */
const MAX_TIMERS_PER_INSTANT = 1_000;

export interface ManualClock extends Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Moves time forward by `ms` (≥ 0), running every timer that falls due, in order. */
  advance(ms: number): Promise<void>;
  /**
   * Sets the time. Forward runs the timers that fall due on the way, as `advance`; backward (a wall
   * clock set back) runs none: timers keep their due times.
   */
  set(time: number): Promise<void>;
  /** Lets pending promise chains run. Runs no timer and moves no time. */
  settle(): Promise<void>;
  /** Timers armed and not yet run or cleared. */
  readonly pendingTimers: number;
  /** When the earliest armed timer falls due, if any. */
  nextTimerAt(): number | undefined;
}

interface Timer {
  readonly id: number;
  readonly dueAt: number;
  readonly fn: () => void;
}

function checkTime(value: number, what: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError(`${what} must be a finite number, got ${String(value)}`);
}

export function manualClock(options: { start?: number } = {}): ManualClock {
  let now = options.start ?? DEFAULT_START;
  checkTime(now, 'manualClock start');
  let sequence = 0;
  const timers = new Map<number, Timer>();

  /** The earliest timer due at or before `limit` (ties: the one armed first). */
  function firstDue(limit: number): Timer | undefined {
    let first: Timer | undefined;
    for (const timer of timers.values()) {
      if (timer.dueAt > limit) continue;
      if (!first || timer.dueAt < first.dueAt || (timer.dueAt === first.dueAt && timer.id < first.id)) first = timer;
    }
    return first;
  }

  async function settle(): Promise<void> {
    for (let i = 0; i < SETTLE_TURNS; i++) await Promise.resolve();
  }

  async function runUntil(target: number): Promise<void> {
    await settle();
    let sameInstant = 0;
    for (;;) {
      const timer = firstDue(target);
      if (!timer) break;
      sameInstant = timer.dueAt > now ? 1 : sameInstant + 1;
      if (sameInstant > MAX_TIMERS_PER_INSTANT) {
        throw new Error(`manualClock: more than ${MAX_TIMERS_PER_INSTANT} timers ran at one instant (a timer loop?)`);
      }
      timers.delete(timer.id);
      now = Math.max(now, timer.dueAt);
      timer.fn();
      await settle();
    }
    now = Math.max(now, target);
  }

  return {
    now: () => now,
    setTimeout(fn, ms) {
      if (typeof fn !== 'function') throw new TypeError('manualClock.setTimeout needs a function');
      const id = ++sequence;
      // As a real setTimeout: a negative or NaN delay is 0; an infinite one never fires.
      const delay = Number.isNaN(ms) ? 0 : Math.max(0, ms);
      timers.set(id, { id, dueAt: now + delay, fn });
      return id;
    },
    clearTimeout(handle) {
      if (typeof handle === 'number') timers.delete(handle);
    },
    async advance(ms) {
      checkTime(ms, 'manualClock.advance(ms)');
      if (ms < 0) throw new RangeError('manualClock.advance(ms) cannot go back: use set(time)');
      await runUntil(now + ms);
    },
    async set(time) {
      checkTime(time, 'manualClock.set(time)');
      if (time < now) {
        now = time;
        await settle();
        return;
      }
      await runUntil(time);
    },
    settle,
    get pendingTimers() {
      return timers.size;
    },
    nextTimerAt() {
      return firstDue(Number.POSITIVE_INFINITY)?.dueAt;
    },
  };
}
