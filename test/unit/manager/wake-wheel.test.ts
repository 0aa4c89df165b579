/**
 * machines/manager/wake-wheel.ts on its own: the one timer that wakes dormant credentials. Order of wake-ups
 * (the heap), rescheduling and cancelling (each item's place in the heap), re-arming, stop, and that
 * the heap never keeps an entry for an item no longer scheduled (issue 21 case 5).
 */
import fc from 'fast-check';
import { SimulatedClock } from 'xstate';
import { describe, expect, it, vi } from 'vitest';
import { WakeWheel, type Wakeable } from '../../../machines/manager/wake-wheel.js';

interface Item extends Wakeable {
  readonly name: string;
}

const item = (name: string): Item => ({ name, wakeIndex: -1 });

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
        const items = moments.map((moment, i) => ({ name: String(i), moment, wakeIndex: -1 }));
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
  it('rescheduling one item many times keeps one heap entry; cancelling takes it out (no stale entries)', () => {
    const { clock, wheel, woken } = setup();
    const a = item('a');
    const b = item('b');
    wheel.schedule(b, 1_000_000);
    for (let i = 0; i < 10_000; i++) wheel.schedule(a, 2_000 + (i % 7) * 1_000);
    expect(wheel.size).toBe(2);
    wheel.cancel(a);
    expect(wheel.size).toBe(1);
    expect(a.wakeIndex).toBe(-1);
    wheel.cancel(a); // cancelling what is not scheduled changes nothing
    expect(wheel.size).toBe(1);
    for (let i = 0; i < 10_000; i++) {
      const it = item(`u${i}`);
      wheel.schedule(it, 5_000 + i);
      wheel.cancel(it);
    }
    expect(wheel.size).toBe(1);
    clock.increment(1_000_000);
    expect(woken).toEqual([['b', 1_001_000]]);
  });

  it('stop() leaves every item unscheduled', () => {
    const { wheel } = setup();
    const items = ['a', 'b', 'c'].map(item);
    items.forEach((it, i) => wheel.schedule(it, 2_000 + i));
    wheel.stop();
    expect(items.map((it) => it.wakeIndex)).toEqual([-1, -1, -1]);
  });

  it('any mix of schedules, reschedules and cancels wakes exactly the scheduled items at their newest moments', () => {
    type Op = { kind: 'schedule'; item: number; at: number } | { kind: 'cancel'; item: number };
    const op = fc.oneof(
      fc.record({ kind: fc.constant('schedule' as const), item: fc.integer({ min: 0, max: 9 }), at: fc.integer({ min: 1, max: 300 }) }),
      fc.record({ kind: fc.constant('cancel' as const), item: fc.integer({ min: 0, max: 9 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops: Op[]) => {
        const clock = new SimulatedClock();
        clock.set(0);
        const woken: Array<{ name: string; at: number }> = [];
        const items = Array.from({ length: 10 }, (_, i) => item(String(i)));
        const wheel = new WakeWheel<Item>(clock, (it) => woken.push({ name: it.name, at: clock.now() }));
        const model = new Map<string, number>();
        for (const o of ops) {
          const it = items[o.item] as Item;
          if (o.kind === 'schedule') {
            wheel.schedule(it, o.at);
            model.set(it.name, o.at);
          } else {
            wheel.cancel(it);
            model.delete(it.name);
          }
          expect(wheel.size).toBe(model.size);
        }
        for (let t = 0; t < 300; t++) clock.increment(1);
        expect(woken.map((w) => w.name).sort()).toEqual([...model.keys()].sort());
        for (const w of woken) expect(w.at).toBe(model.get(w.name));
        expect(wheel.size).toBe(0);
      }),
      { numRuns: 300, seed: 21 },
    );
  });
});
