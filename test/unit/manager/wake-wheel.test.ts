/**
 * machines/manager/wake-wheel.ts on its own: the one timer that wakes dormant credentials. Order of wake-ups
 * (the heap), rescheduling and cancelling (generations), re-arming, and stop.
 */
import fc from 'fast-check';
import { SimulatedClock } from 'xstate';
import { describe, expect, it, vi } from 'vitest';
import { WakeWheel, type Wakeable } from '../../../machines/manager/wake-wheel.js';

interface Item extends Wakeable {
  readonly name: string;
}

const item = (name: string): Item => ({ name, wakeGeneration: 0 });

function setup(start = 1_000) {
  const clock = new SimulatedClock();
  clock.set(start);
  const woken: Array<[string, number]> = [];
  const setTimeout = vi.spyOn(clock, 'setTimeout');
  const clearTimeout = vi.spyOn(clock, 'clearTimeout');
  const wheel = new WakeWheel<Item>(clock, (it) => woken.push([it.name, clock.now()]));
  return { clock, wheel, woken, setTimeout, clearTimeout };
}

describe('WakeWheel', () => {
  it('wakes an item at its moment, not before, with one timer armed for the delay', () => {
    const { clock, wheel, woken, setTimeout } = setup();
    wheel.schedule(item('a'), 1_500);
    expect(setTimeout).toHaveBeenCalledTimes(1);
    expect(setTimeout.mock.calls[0]?.[1]).toBe(500);
    clock.increment(499);
    expect(woken).toEqual([]);
    clock.increment(1);
    expect(woken).toEqual([['a', 1_500]]);
    expect(wheel.size).toBe(0);
  });

  it('a moment in the past wakes at once (delay 0), asynchronously', () => {
    const { clock, wheel, woken, setTimeout } = setup();
    wheel.schedule(item('late'), 10);
    expect(setTimeout.mock.calls[0]?.[1]).toBe(0);
    expect(woken).toEqual([]);
    clock.increment(0);
    expect(woken).toEqual([['late', 1_000]]);
  });

  it('wakes in time order, everything due in one firing, then re-arms for the next', () => {
    const { clock, wheel, woken, setTimeout } = setup();
    wheel.schedule(item('c'), 1_300);
    wheel.schedule(item('a'), 1_100);
    wheel.schedule(item('b'), 1_100);
    wheel.schedule(item('d'), 1_400);
    clock.increment(100);
    expect(woken.map(([n]) => n).sort()).toEqual(['a', 'b']);
    expect(wheel.size).toBe(2);
    expect(setTimeout.mock.calls.at(-1)?.[1]).toBe(200);
    clock.increment(200);
    clock.increment(100);
    expect(woken.map(([n]) => n).slice(2)).toEqual(['c', 'd']);
    expect(woken.map(([, at]) => at)).toEqual([1_100, 1_100, 1_300, 1_400]);
    expect(wheel.size).toBe(0);
  });

  it('an earlier item re-arms the timer (the old one cleared); a later one does not', () => {
    const { clock, wheel, woken, setTimeout, clearTimeout } = setup();
    wheel.schedule(item('late'), 2_000);
    wheel.schedule(item('later'), 3_000);
    expect(setTimeout).toHaveBeenCalledTimes(1);
    expect(clearTimeout).not.toHaveBeenCalled();
    wheel.schedule(item('early'), 1_200);
    expect(setTimeout).toHaveBeenCalledTimes(2);
    expect(clearTimeout).toHaveBeenCalledTimes(1);
    clock.increment(200);
    expect(woken).toEqual([['early', 1_200]]);
  });

  it('rescheduling moves an item: only its newest moment wakes it', () => {
    const { clock, wheel, woken } = setup();
    const a = item('a');
    wheel.schedule(a, 1_100);
    wheel.schedule(a, 1_500);
    clock.increment(100);
    expect(woken).toEqual([]);
    // The stale entry is gone, the timer re-armed for the newer moment.
    expect(wheel.size).toBe(1);
    clock.increment(400);
    expect(woken).toEqual([['a', 1_500]]);
  });

  it('a cancelled item is not woken; an infinite moment cancels', () => {
    const { clock, wheel, woken } = setup();
    const a = item('a');
    const b = item('b');
    wheel.schedule(a, 1_100);
    wheel.schedule(b, 1_100);
    wheel.cancel(a);
    wheel.schedule(b, Number.POSITIVE_INFINITY);
    wheel.schedule(item('nan'), Number.NaN);
    clock.increment(10_000);
    expect(woken).toEqual([]);
  });

  it('the wake callback may schedule again; the wheel is consistent by then', () => {
    const clock = new SimulatedClock();
    clock.set(0);
    const woken: number[] = [];
    const wheel: WakeWheel<Item> = new WakeWheel<Item>(clock, (it) => {
      woken.push(clock.now());
      if (woken.length < 3) wheel.schedule(it, clock.now() + 10);
    });
    wheel.schedule(item('again'), 10);
    wheel.schedule(item('other'), 1_000);
    clock.increment(10);
    clock.increment(10);
    clock.increment(10);
    expect(woken).toEqual([10, 20, 30]);
    clock.increment(970);
    expect(woken).toEqual([10, 20, 30, 1_000]);
  });

  it('stop() clears the timer and everything scheduled; later schedules do nothing', () => {
    const { clock, wheel, woken, setTimeout, clearTimeout } = setup();
    wheel.schedule(item('a'), 1_100);
    wheel.stop();
    expect(clearTimeout).toHaveBeenCalledTimes(1);
    expect(wheel.size).toBe(0);
    wheel.schedule(item('b'), 1_200);
    expect(setTimeout).toHaveBeenCalledTimes(1);
    clock.increment(1_000);
    expect(woken).toEqual([]);
    // Stopping twice (no timer any more) clears nothing more.
    wheel.stop();
    expect(clearTimeout).toHaveBeenCalledTimes(1);
  });

  it('a wake-up during which the wheel is stopped does not re-arm', () => {
    const clock = new SimulatedClock();
    clock.set(0);
    const woken: string[] = [];
    const wheel: WakeWheel<Item> = new WakeWheel<Item>(clock, (it) => {
      woken.push(it.name);
      wheel.stop();
    });
    wheel.schedule(item('first'), 10);
    wheel.schedule(item('second'), 20);
    clock.increment(10);
    clock.increment(100);
    expect(woken).toEqual(['first']);
  });

  it('wakes any set of moments in order, each item once, at or after its moment (heap property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 7 }), (moments, step) => {
        const clock = new SimulatedClock();
        clock.set(0);
        const woken: Array<{ at: number; moment: number }> = [];
        const items = moments.map((moment, i) => ({ name: String(i), moment, wakeGeneration: 0 }));
        const wheel = new WakeWheel<(typeof items)[number]>(clock, (it) => woken.push({ at: clock.now(), moment: it.moment }));
        for (const it of items) wheel.schedule(it, it.moment);
        for (let t = 0; t <= 210; t += step) clock.increment(step);
        expect(woken).toHaveLength(items.length);
        const seen = woken.map((w) => w.moment);
        expect(seen).toEqual([...seen].sort((x, y) => x - y));
        for (const w of woken) {
          expect(w.at).toBeGreaterThanOrEqual(w.moment);
          expect(w.at - w.moment).toBeLessThanOrEqual(step);
        }
      }),
      { numRuns: 200, seed: 8 },
    );
  });
});
