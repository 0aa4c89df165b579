/**
 * Dormancy (issue 8): what a credential without a live actor serves, when it must not sleep, and
 * that an inspector keeps every actor live. A "late" clock moves time without firing timers, as an
 * event loop busy past a timer's moment would: the hot path must still stop at the refresh moment.
 */
import { SimulatedClock, type InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import { InvalidGrantError, RefreshFailedError } from '../../../machines/lifecycle/errors.js';
import { createTokenManager } from '../../../machines/manager/manager.js';
import type { TokenEvent, TokenManagerOptions } from '../../../machines/manager/api-types.js';
import { memoryStorage } from '../../../machines/manager/memory-storage.js';
import type { Clock } from '../../../machines/lifecycle/types.js';
import { advance, scriptedEndpoint, settle } from '../../support/fake-endpoint.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = 10_000_000;
const login = { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' };

/** A clock whose timers fire only when asked: `jump` moves time with every timer late. */
function lateClock(start: number) {
  let t = start;
  let next = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const clock: Clock & { jump(ms: number): void; catchUp(): Promise<void>; pending(): number } = {
    now: () => t,
    setTimeout(fn, ms) {
      timers.set(++next, { at: t + ms, fn });
      return next;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    jump(ms) {
      t += ms;
    },
    async catchUp() {
      for (;;) {
        const due = [...timers].filter(([, timer]) => timer.at <= t).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        due[1].fn();
        await settle();
      }
    },
    pending: () => timers.size,
  };
  return clock;
}

function pendingTimers(clock: SimulatedClock): number {
  return (clock as unknown as { timeouts: Map<unknown, unknown> }).timeouts.size;
}

const modes: Array<[string, Partial<TokenManagerOptions>]> = [
  ['dormant', {}],
  ['live (inspector attached)', { inspect: () => undefined }],
];

describe.each(modes)('the hot path of a %s credential', (_, extra) => {
  it('serves from memory until the refresh moment, not one millisecond after, even with late timers', async () => {
    const clock = lateClock(T0);
    const endpoint = scriptedEndpoint();
    const manager = createTokenManager({ endpoint, clock, random: () => 0, ...extra });
    await manager.setToken('k', login);
    clock.jump(HOUR - 5 * MIN - 1);
    expect(manager.peekToken('k')?.accessToken).toBe('at-0');
    expect((await manager.getToken('k')).accessToken).toBe('at-0');
    expect(endpoint.received).toEqual([]);
    clock.jump(1);
    expect(manager.peekToken('k')).toBeUndefined();
    // The slow path sees the refresh is due although no timer has fired yet.
    expect((await manager.getToken('k')).accessToken).toBe('at-1');
    expect(endpoint.received).toEqual(['rt-0']);
    expect(manager.peekToken('k')?.accessToken).toBe('at-1');
    await manager.stop();
  });

  it('with no refresh token, the first caller at expiry gets reauth_required even before the timer fires', async () => {
    const clock = lateClock(T0);
    const endpoint = scriptedEndpoint();
    const manager = createTokenManager({ endpoint, clock, random: () => 0, ...extra });
    await manager.setToken('k', { access_token: 'at-0', token_type: 'Bearer', expires_in: 600 });
    // Past the refresh moment (nothing to refresh with): still served, the credential is nearExpiry.
    clock.jump(300_000);
    expect((await manager.getToken('k')).accessToken).toBe('at-0');
    expect(manager.status('k').state).toBe('nearExpiry');
    clock.jump(300_000);
    await expect(manager.getToken('k')).rejects.toMatchObject({ code: 'reauth_required', reason: 'refresh_token_missing' });
    expect(manager.status('k').state).toBe('reauthRequired');
    expect(endpoint.received).toEqual([]);
    await manager.stop();
  });

  it('a token with no expiry is served from memory for ever, with no request', async () => {
    const clock = new SimulatedClock();
    clock.set(T0);
    const endpoint = scriptedEndpoint();
    const manager = createTokenManager({ endpoint, clock, ...extra });
    await manager.setToken('k', { access_token: 'forever', token_type: 'Bearer', refresh_token: 'rt-0' });
    await advance(clock, 400 * 24 * HOUR);
    expect(manager.peekToken('k')?.accessToken).toBe('forever');
    expect((await manager.getToken('k')).accessToken).toBe('forever');
    expect(manager.status('k')).toEqual({ key: 'k', state: 'valid', needsRefresh: false, hasRefreshToken: true });
    expect(endpoint.received).toEqual([]);
    await manager.stop();
  });

  it('stop() from a listener of the state change ends serving: getToken rejects, peekToken is empty', async () => {
    const clock = new SimulatedClock();
    clock.set(T0);
    const manager = createTokenManager({ endpoint: scriptedEndpoint(), clock, ...extra });
    await manager.setToken('k', login);
    let stopping: Promise<void> | undefined;
    manager.subscribe((event) => {
      if (event.type === 'state' && event.state === 'valid' && event.previous.state === 'refreshing') stopping = manager.stop();
    });
    await expect(manager.refresh('k')).rejects.toMatchObject({ code: 'stopped' });
    await settle();
    expect(stopping).toBeDefined();
    await stopping;
    expect(manager.peekToken('k')).toBeUndefined();
    await expect(manager.getToken('k')).rejects.toMatchObject({ code: 'stopped' });
  });
});

describe('a loaded record that must not sleep', () => {
  function pair() {
    const clock = new SimulatedClock();
    clock.set(T0);
    const endpoint = scriptedEndpoint();
    const storage = memoryStorage({ now: () => clock.now() });
    const make = (extra: Partial<TokenManagerOptions> = {}) => createTokenManager({ endpoint, storage, clock, random: () => 0, ...extra });
    return { clock, endpoint, storage, make };
  }

  it('a stored rejection, far from the refresh moment, is degraded.rejected after a restart', async () => {
    const { endpoint, make } = pair();
    const first = make();
    await first.setToken('k', login);
    endpoint.next({ kind: 'throw', error: new InvalidGrantError({ status: 400 }) });
    await expect(first.refresh('k')).rejects.toMatchObject({ code: 'invalid_grant' });
    await first.stop();
    const second = make();
    expect((await second.getToken('k')).accessToken).toBe('at-0');
    expect(second.status('k')).toMatchObject({ state: 'degraded', detail: 'rejected', reason: 'invalid_grant' });
    await expect(second.refresh('k')).rejects.toMatchObject({ code: 'reauth_required', reason: 'invalid_grant' });
    expect(endpoint.received).toEqual(['rt-0']);
    await second.stop();
  });

  it('a stored retry moment, far from the refresh moment, is retried on time after a restart', async () => {
    const { clock, endpoint, make } = pair();
    const first = make();
    await first.setToken('k', login);
    endpoint.next({ kind: 'throw', error: new RefreshFailedError('busy', { status: 429, retryAfter: 60_000 }) });
    await expect(first.refresh('k')).rejects.toMatchObject({ code: 'refresh_failed' });
    await first.stop();
    const second = make();
    expect((await second.getToken('k')).accessToken).toBe('at-0');
    expect(second.status('k')).toMatchObject({ state: 'degraded', detail: 'retrying', retryAt: T0 + 60_000 });
    await advance(clock, 60_000 - 1);
    expect(endpoint.received).toEqual(['rt-0']);
    await advance(clock, 1);
    expect(endpoint.received).toEqual(['rt-0', 'rt-0']);
    expect(second.status('k').state).toBe('valid');
    await second.stop();
  });

  it('a stored record with an empty access token is renewed on first use (R9)', async () => {
    const { endpoint, storage, make } = pair();
    await storage.set('k', { accessToken: '', tokenType: 'Bearer', obtainedAt: T0, expiresAt: T0 + HOUR, refreshToken: 'rt-0', version: 1 });
    const manager = make();
    expect(manager.peekToken('k')).toBeUndefined();
    expect((await manager.getToken('k')).accessToken).toBe('at-1');
    expect(endpoint.received).toEqual(['rt-0']);
    await manager.stop();
  });

  it('start(): a stored record with an empty access token is renewed in the background at once (R9)', async () => {
    const { clock, endpoint, storage, make } = pair();
    await storage.set('k', { accessToken: '', tokenType: 'Bearer', obtainedAt: T0, expiresAt: T0 + HOUR, refreshToken: 'rt-0', version: 1 });
    const manager = make();
    await manager.start();
    await advance(clock, 0);
    expect(endpoint.received).toEqual(['rt-0']);
    expect(manager.peekToken('k')?.accessToken).toBe('at-1');
    await manager.stop();
  });

  it('start(): a record loaded exactly at its refresh moment is refreshed at once', async () => {
    const { clock, endpoint, storage, make } = pair();
    // Lifetime 1 h, threshold 5 min: the refresh moment is now.
    await storage.set('k', { accessToken: 'at-s', tokenType: 'Bearer', obtainedAt: T0 - 55 * MIN, expiresAt: T0 + 5 * MIN, refreshToken: 'rt-0', version: 1 });
    const manager = make();
    await manager.start();
    await advance(clock, 0);
    expect(endpoint.received).toEqual(['rt-0']);
    await manager.stop();
  });

  it('a stored retry moment already passed does not show in status()', async () => {
    const { storage, make } = pair();
    await storage.set('k', { accessToken: 'at-s', tokenType: 'Bearer', obtainedAt: T0, expiresAt: T0 + HOUR, refreshToken: 'rt-0', retryAt: T0 - 1, version: 1 });
    const manager = make();
    expect((await manager.getToken('k')).accessToken).toBe('at-s');
    expect(manager.status('k')).toEqual({
      key: 'k',
      state: 'valid',
      expiresAt: T0 + HOUR,
      timeUntilExpiry: HOUR,
      refreshAt: T0 + HOUR - 5 * MIN,
      timeUntilRefresh: HOUR - 5 * MIN,
      needsRefresh: false,
      hasRefreshToken: true,
    });
    await manager.stop();
  });
});

describe('sleeping and waking', () => {
  it('after each refresh the credential sleeps again on the one shared timer', async () => {
    const clock = new SimulatedClock();
    clock.set(T0);
    const endpoint = scriptedEndpoint();
    const manager = createTokenManager({ endpoint, clock, random: () => 0 });
    await manager.setToken('a', login);
    await manager.setToken('b', { ...login, expires_in: 7200 });
    expect(pendingTimers(clock)).toBe(1);
    await advance(clock, HOUR - 5 * MIN);
    expect(endpoint.received).toEqual(['rt-0']);
    expect(manager.status('a')).toMatchObject({ state: 'valid', lastRefreshAt: T0 + HOUR - 5 * MIN });
    expect(pendingTimers(clock)).toBe(1);
    await manager.stop();
    expect(pendingTimers(clock)).toBe(0);
  });

  it('the state events of a wake-refresh-sleep cycle are those of a live credential, none repeated', async () => {
    const clock = new SimulatedClock();
    clock.set(T0);
    const manager = createTokenManager({ endpoint: scriptedEndpoint(), clock, random: () => 0 });
    const events: TokenEvent[] = [];
    manager.subscribe((e) => events.push(e));
    await manager.setToken('k', login);
    await advance(clock, HOUR - 5 * MIN);
    const states = events.filter((e) => e.type === 'state').map((e) => (e.type === 'state' ? `${e.previous.state}>${e.state}` : ''));
    expect(states).toEqual(['idle>valid', 'valid>nearExpiry', 'nearExpiry>refreshing', 'refreshing>valid']);
    expect(events.find((e) => e.type === 'state')).toEqual({ type: 'state', key: 'k', at: T0, state: 'valid', previous: { state: 'idle' } });
    await manager.stop();
  });

  it('renewAfterUnauthorized on a sleeping credential keeps the minimum interval since its last refresh', async () => {
    const clock = lateClock(T0);
    const endpoint = scriptedEndpoint();
    const manager = createTokenManager({ endpoint, clock, random: () => 0, minRefreshInterval: '10s' });
    await manager.setToken('k', login);
    await manager.refresh('k');
    await settle();
    const renewing = manager.renewAfterUnauthorized('k', 'at-1');
    let settled = false;
    void renewing.then(() => (settled = true));
    await settle();
    expect(settled).toBe(false);
    expect(endpoint.received).toEqual(['rt-0']);
    clock.jump(10_000);
    await clock.catchUp();
    expect((await renewing)?.accessToken).toBe('at-2');
    expect(endpoint.received).toEqual(['rt-0', 'rt-1']);
    await manager.stop();
  });
});

describe('an inspector keeps every actor live', () => {
  it('one actor per credential for its whole life, seen by the inspector through a refresh', async () => {
    const clock = new SimulatedClock();
    clock.set(T0);
    const seen: InspectionEvent[] = [];
    const manager = createTokenManager({ endpoint: scriptedEndpoint(), clock, random: () => 0, inspect: (e) => seen.push(e) });
    await manager.setToken('a', login);
    await manager.setToken('b', login);
    await advance(clock, HOUR - 5 * MIN);
    await advance(clock, HOUR - 5 * MIN);
    // Root actors only: each refresh also runs a child actor.
    const roots = new Set(seen.filter((e) => e.type === '@xstate.actor').map((e) => e.rootId));
    expect(roots.size).toBe(2);
    expect(manager.status('a')).toMatchObject({ state: 'valid', lastRefreshAt: T0 + 2 * (HOUR - 5 * MIN) });
    await manager.stop();
  });
});
