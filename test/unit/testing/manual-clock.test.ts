/**
 * manualClock(): the clock a test moves by hand, as the manager's `clock` option.
 */
import { describe, expect, it } from 'vitest';
import { createTokenManager } from '../../../index.js';
import { DEFAULT_START, manualClock, simulatedEndpoint } from '../../../testing/index.js';

describe('manualClock', () => {
  it('starts at a fixed epoch, or where it is told', () => {
    expect(manualClock().now()).toBe(DEFAULT_START);
    expect(manualClock({ start: 5 }).now()).toBe(5);
  });

  it('runs the timers that fall due in the order of their due time, each at its own time', async () => {
    const clock = manualClock({ start: 0 });
    const ran: Array<[string, number]> = [];
    clock.setTimeout(() => ran.push(['c', clock.now()]), 300);
    clock.setTimeout(() => ran.push(['a', clock.now()]), 100);
    clock.setTimeout(() => ran.push(['b', clock.now()]), 100);
    clock.setTimeout(() => ran.push(['late', clock.now()]), 301);
    await clock.advance(300);
    expect(ran).toEqual([
      ['a', 100],
      ['b', 100],
      ['c', 300],
    ]);
    expect(clock.now()).toBe(300);
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextTimerAt()).toBe(301);
  });

  it('lets promise chains run after each timer, so a timer armed by async work falls due in the same advance', async () => {
    const clock = manualClock({ start: 0 });
    const ran: number[] = [];
    clock.setTimeout(async () => {
      await Promise.resolve();
      await Promise.resolve();
      clock.setTimeout(() => ran.push(clock.now()), 50);
    }, 100);
    await clock.advance(200);
    expect(ran).toEqual([150]);
  });

  it('runs a zero-delay timer on advance(0), never on settle()', async () => {
    const clock = manualClock({ start: 0 });
    let ran = 0;
    clock.setTimeout(() => ran++, 0);
    await clock.settle();
    expect(ran).toBe(0);
    await clock.advance(0);
    expect(ran).toBe(1);
  });

  it('forgets a cleared timer and never runs an infinite one', async () => {
    const clock = manualClock({ start: 0 });
    let ran = 0;
    const handle = clock.setTimeout(() => ran++, 10);
    clock.setTimeout(() => ran++, Number.POSITIVE_INFINITY);
    clock.clearTimeout(handle);
    await clock.advance(1e12);
    expect(ran).toBe(0);
  });

  it('set() forward runs what falls due; set() back (a wall clock set back) runs nothing and keeps due times', async () => {
    const clock = manualClock({ start: 1000 });
    const ran: number[] = [];
    clock.setTimeout(() => ran.push(clock.now()), 500);
    await clock.set(0);
    expect(clock.now()).toBe(0);
    expect(ran).toEqual([]);
    await clock.set(1499);
    expect(ran).toEqual([]);
    await clock.set(2000);
    expect(ran).toEqual([1500]);
    expect(clock.now()).toBe(2000);
  });

  it('refuses to go back with advance() and refuses times that are not finite numbers', async () => {
    const clock = manualClock();
    await expect(clock.advance(-1)).rejects.toThrow(RangeError);
    await expect(clock.advance(Number.NaN)).rejects.toThrow(TypeError);
    await expect(clock.set(Number.POSITIVE_INFINITY)).rejects.toThrow(TypeError);
    expect(() => manualClock({ start: Number.NaN })).toThrow(TypeError);
  });

  it('stops a timer that re-arms itself forever at zero delay instead of hanging', async () => {
    const clock = manualClock({ start: 0 });
    const loop = (): void => void clock.setTimeout(loop, 0);
    loop();
    await expect(clock.advance(0)).rejects.toThrow(/timer loop/);
  });

  it('drives a real manager: the background refresh starts when the clock reaches the refresh moment', async () => {
    const clock = manualClock();
    const endpoint = simulatedEndpoint({ clock });
    const manager = createTokenManager({ endpoint, clock, refreshThreshold: '5m', random: () => 0 });
    await manager.setToken('k', { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' });
    await clock.advance(55 * 60_000 - 1);
    expect(endpoint.calls).toHaveLength(0);
    await clock.advance(1);
    expect(endpoint.calls.map((c) => [c.refreshToken, c.at - DEFAULT_START])).toEqual([['rt-0', 55 * 60_000]]);
    expect(manager.status('k').state).toBe('valid');
    expect((await manager.getToken('k')).accessToken).toBe('at-1');
    await manager.stop();
  });
});
