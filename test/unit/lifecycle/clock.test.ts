/**
 * machines/lifecycle/clock.ts on its own (R11), written to kill the mutants the manager-level tests left alive:
 * chunked arming, deadlines re-checked against now(), cancellation at every stage, infinite delays,
 * unref, and the bounds of the chunk size.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { chunkedClock, DEFAULT_CHUNK_MS, MAX_TIMER_MS, systemClock } from '../../../machines/lifecycle/clock.js';
import type { Clock } from '../../../machines/lifecycle/types.js';

interface Armed {
  readonly fn: () => void;
  readonly ms: number;
  readonly handle: { unref: () => void; unrefs: number; id: number };
  cleared: boolean;
}

/** A base clock under test control: timers are recorded, fired by hand, and count their unref calls. */
function manualClock(start = 1_000) {
  let now = start;
  let ids = 0;
  const armed: Armed[] = [];
  const base: Clock = {
    now: () => now,
    setTimeout(fn, ms) {
      const handle = {
        id: ++ids,
        unrefs: 0,
        unref() {
          handle.unrefs++;
        },
      };
      armed.push({ fn, ms, handle, cleared: false });
      return handle;
    },
    clearTimeout(handle) {
      const entry = armed.find((a) => a.handle === handle);
      if (entry) entry.cleared = true;
    },
  };
  return {
    base,
    armed,
    set: (t: number) => {
      now = t;
    },
    /** Fires the newest timer not yet fired (as its expiry would). */
    fireLatest() {
      const entry = armed.at(-1);
      if (!entry) throw new Error('nothing armed');
      armed.pop();
      entry.fn();
    },
    get now() {
      return now;
    },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('constants', () => {
  it('MAX_TIMER_MS is the largest delay setTimeout takes; chunks default to one minute', () => {
    expect(MAX_TIMER_MS).toBe(2_147_483_647);
    expect(DEFAULT_CHUNK_MS).toBe(60_000);
  });
});

describe('systemClock', () => {
  it('reads Date.now and schedules and cancels with the global timers', () => {
    vi.useFakeTimers({ now: 5_000 });
    expect(systemClock.now()).toBe(5_000);
    const fired: string[] = [];
    systemClock.setTimeout(() => fired.push('a'), 100);
    const cancelled = systemClock.setTimeout(() => fired.push('b'), 100);
    systemClock.clearTimeout(cancelled);
    vi.advanceTimersByTime(99);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['a']);
  });
});

describe('chunkedClock', () => {
  it('now() is the base clock', () => {
    const m = manualClock(42);
    expect(chunkedClock(m.base).now()).toBe(42);
    m.set(43);
    expect(chunkedClock(m.base).now()).toBe(43);
  });

  it('arms a long delay in chunks and fires only when now() reaches the deadline', () => {
    const m = manualClock(0);
    const clock = chunkedClock(m.base, 100);
    const fn = vi.fn();
    clock.setTimeout(fn, 250);
    expect(m.armed.map((a) => a.ms)).toEqual([100]);
    m.set(100);
    m.fireLatest();
    expect(fn).not.toHaveBeenCalled();
    expect(m.armed.map((a) => a.ms)).toEqual([100]);
    m.set(200);
    m.fireLatest();
    expect(m.armed.map((a) => a.ms)).toEqual([50]);
    expect(fn).not.toHaveBeenCalled();
    m.set(249);
    m.fireLatest();
    // One millisecond early (a timer firing early): not yet; re-armed for what remains.
    expect(fn).not.toHaveBeenCalled();
    expect(m.armed.map((a) => a.ms)).toEqual([1]);
    m.set(250);
    m.fireLatest();
    expect(fn).toHaveBeenCalledTimes(1);
    expect(m.armed).toEqual([]);
  });

  it('a short delay is one timer of that length', () => {
    const m = manualClock(0);
    const fn = vi.fn();
    chunkedClock(m.base, 100).setTimeout(fn, 30);
    expect(m.armed.map((a) => a.ms)).toEqual([30]);
    m.set(30);
    m.fireLatest();
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('a clock that jumped past the deadline fires at the next wake-up (sleep, R11)', () => {
    const m = manualClock(0);
    const fn = vi.fn();
    chunkedClock(m.base, 100).setTimeout(fn, 10_000);
    m.set(50_000);
    m.fireLatest();
    expect(fn).toHaveBeenCalledTimes(1);
    expect(m.armed).toEqual([]);
  });

  it('a clock that went back re-arms for the time that is really left', () => {
    const m = manualClock(1_000);
    const fn = vi.fn();
    chunkedClock(m.base, 100).setTimeout(fn, 50);
    m.set(980);
    m.fireLatest();
    expect(fn).not.toHaveBeenCalled();
    expect(m.armed.map((a) => a.ms)).toEqual([70]);
  });

  it('a zero or negative delay is asynchronous: one zero timer, then the call', () => {
    for (const ms of [0, -5]) {
      const m = manualClock(0);
      const fn = vi.fn();
      chunkedClock(m.base).setTimeout(fn, ms);
      expect(fn).not.toHaveBeenCalled();
      expect(m.armed.map((a) => a.ms)).toEqual([0]);
      m.fireLatest();
      expect(fn).toHaveBeenCalledTimes(1);
    }
  });

  it('Infinity and NaN never fire and arm nothing; clearing them is harmless', () => {
    const m = manualClock(0);
    const clock = chunkedClock(m.base);
    const fn = vi.fn();
    const a = clock.setTimeout(fn, Number.POSITIVE_INFINITY);
    const b = clock.setTimeout(fn, Number.NaN);
    expect(m.armed).toEqual([]);
    clock.clearTimeout(a);
    clock.clearTimeout(b);
    expect(fn).not.toHaveBeenCalled();
  });

  it('a huge finite delay is armed in chunks, never past setTimeout’s limit', () => {
    const m = manualClock(0);
    chunkedClock(m.base, Number.MAX_SAFE_INTEGER).setTimeout(() => undefined, 40 * 86_400_000);
    expect(m.armed.map((a) => a.ms)).toEqual([MAX_TIMER_MS]);
  });

  it('a chunk size below 1 ms counts as 1 ms', () => {
    const m = manualClock(0);
    chunkedClock(m.base, 0).setTimeout(() => undefined, 10);
    expect(m.armed.map((a) => a.ms)).toEqual([1]);
    const n = manualClock(0);
    chunkedClock(n.base, -50).setTimeout(() => undefined, 10);
    expect(n.armed.map((a) => a.ms)).toEqual([1]);
  });

  it('the default chunk is one minute', () => {
    const m = manualClock(0);
    chunkedClock(m.base).setTimeout(() => undefined, 3_600_000);
    expect(m.armed.map((a) => a.ms)).toEqual([60_000]);
  });

  it('cancels before the first chunk, between chunks, and ignores a late base timer', () => {
    const m = manualClock(0);
    const clock = chunkedClock(m.base, 100);
    const fn = vi.fn();
    const first = clock.setTimeout(fn, 50);
    clock.clearTimeout(first);
    expect(m.armed[0]?.cleared).toBe(true);
    // A base that fires anyway (cleared too late): nothing happens, nothing is re-armed.
    m.set(50);
    m.fireLatest();
    expect(fn).not.toHaveBeenCalled();
    expect(m.armed).toEqual([]);

    const second = clock.setTimeout(fn, 250);
    m.set(150);
    m.fireLatest();
    expect(m.armed).toHaveLength(1);
    clock.clearTimeout(second);
    expect(m.armed[0]?.cleared).toBe(true);
    m.set(400);
    m.fireLatest();
    expect(fn).not.toHaveBeenCalled();
    expect(m.armed).toEqual([]);
  });

  it('clearTimeout of something that is not its handle does nothing', () => {
    const m = manualClock(0);
    const clear = vi.spyOn(m.base, 'clearTimeout');
    const clock = chunkedClock(m.base);
    expect(() => clock.clearTimeout(undefined)).not.toThrow();
    expect(() => clock.clearTimeout(17)).not.toThrow();
    expect(() => clock.clearTimeout(null)).not.toThrow();
    expect(clear).not.toHaveBeenCalled();
    // An infinite timer has no base timer to clear.
    clock.clearTimeout(clock.setTimeout(() => undefined, Number.POSITIVE_INFINITY));
    expect(clear).not.toHaveBeenCalled();
  });

  it('unrefs every base timer it arms, the first and each re-armed chunk (R11)', () => {
    const m = manualClock(0);
    const fired: Armed[] = [];
    chunkedClock(m.base, 100).setTimeout(() => undefined, 250);
    fired.push(m.armed[0] as Armed);
    expect(fired[0]?.handle.unrefs).toBe(1);
    m.set(100);
    m.fireLatest();
    expect(m.armed[0]?.handle.unrefs).toBe(1);
  });

  it('tolerates base handles without unref (numbers, objects without it, a non-function unref)', () => {
    for (const handle of [7, {}, { unref: 'no' }, null]) {
      const fn = vi.fn();
      let pending: (() => void) | undefined;
      const base: Clock = {
        now: () => 0,
        setTimeout: (f) => {
          pending = f;
          return handle;
        },
        clearTimeout: () => undefined,
      };
      expect(() => chunkedClock(base).setTimeout(fn, 0)).not.toThrow();
      pending?.();
      expect(fn).toHaveBeenCalledTimes(1);
    }
  });

  it('with real timers: fires once, and a process can exit while it waits (unref)', async () => {
    const clock = chunkedClock(systemClock, 5);
    const handle = clock.setTimeout(() => undefined, 60_000) as { current: NodeJS.Timeout };
    expect(handle.current.hasRef()).toBe(false);
    clock.clearTimeout(handle);
    const fired = await new Promise<number>((resolve) => {
      let count = 0;
      clock.setTimeout(() => {
        count++;
        setTimeout(() => resolve(count), 20);
      }, 12);
    });
    expect(fired).toBe(1);
  });
});
