/** Dormant credentials (no live actor) behave exactly as live ones, on one shared timer. */
import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createTokenManager } from '../../../machines/manager/manager.js';
import { memoryStorage } from '../../../machines/manager/memory-storage.js';
import { InvalidGrantError, RefreshFailedError } from '../../../machines/lifecycle/errors.js';
import type { TokenEvent, TokenManagerOptions } from '../../../machines/manager/api-types.js';
import { advance, scriptedEndpoint } from '../../support/fake-endpoint.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

function pendingTimers(clock: SimulatedClock): number {
  return (clock as unknown as { timeouts: Map<unknown, unknown> }).timeouts.size;
}

async function story(extra: Partial<TokenManagerOptions>) {
  const clock = new SimulatedClock();
  clock.set(5_000_000);
  const endpoint = scriptedEndpoint();
  const manager = createTokenManager({ endpoint, clock, storage: memoryStorage(), random: () => 0, minRefreshInterval: '1s', ...extra });
  const events: TokenEvent[] = [];
  const statuses: unknown[] = [];
  manager.subscribe((e) => events.push(e));
  await manager.setToken('k', { access_token: 'a', token_type: 'Bearer', expires_in: 3600, refresh_token: 'r' });
  statuses.push(manager.status('k'));
  await advance(clock, HOUR - 5 * MIN);
  statuses.push(manager.status('k'));
  endpoint.next({ kind: 'throw', error: new RefreshFailedError('down', { status: 503 }) });
  await advance(clock, HOUR - 5 * MIN);
  statuses.push(manager.status('k'));
  await advance(clock, 1_000);
  statuses.push(manager.status('k'));
  statuses.push(await manager.getToken('k'));
  await manager.refresh('k');
  statuses.push(manager.status('k'));
  endpoint.next({ kind: 'throw', error: new InvalidGrantError() });
  await advance(clock, HOUR);
  statuses.push(manager.status('k'));
  await manager.stop();
  return { events, statuses, received: endpoint.received };
}

describe('dormancy', () => {
  it('a dormant manager and an all-live manager (with an inspector) tell the same story', async () => {
    const dormant = await story({});
    const live = await story({ inspect: () => undefined });
    expect(dormant.received).toEqual(live.received);
    expect(dormant.events).toEqual(live.events);
    expect(dormant.statuses).toEqual(live.statuses);
    expect(dormant.received.length).toBeGreaterThanOrEqual(4);
  });

  it('many far-from-expiry credentials share one timer and still refresh on time', async () => {
    const clock = new SimulatedClock();
    clock.set(0);
    const endpoint = scriptedEndpoint();
    const manager = createTokenManager({ endpoint, clock });
    for (let i = 0; i < 200; i++) {
      await manager.setToken(`k${i}`, { access_token: `a${i}`, token_type: 'Bearer', expires_in: 3600 + i, refresh_token: `r${i}` });
    }
    expect(pendingTimers(clock)).toBe(1);
    expect(manager.status('k7')).toMatchObject({ state: 'valid', refreshAt: (3600 + 7) * 1000 - 5 * MIN });
    expect(manager.peekToken('k7')?.accessToken).toBe('a7');
    await advance(clock, HOUR - 5 * MIN + 100_000);
    expect(endpoint.received).toHaveLength(101);
    await advance(clock, 100_000);
    expect(endpoint.received).toHaveLength(200);
    expect(pendingTimers(clock)).toBe(1);
    await manager.stop();
  });

  it('actor(key) wakes a dormant credential and keeps it live for whoever watches', async () => {
    const clock = new SimulatedClock();
    const manager = createTokenManager({ endpoint: scriptedEndpoint(), clock });
    await manager.setToken('k', { access_token: 'a', token_type: 'Bearer', expires_in: 3600, refresh_token: 'r' });
    const actor = manager.actor('k');
    expect(actor.getSnapshot().value).toBe('valid');
    await advance(clock, HOUR - 5 * MIN);
    expect(manager.actor('k')).toBe(actor);
    expect(actor.getSnapshot().value).toBe('valid');
    expect(actor.getSnapshot().context.lastRefreshAt).toBe(clock.now());
    await manager.stop();
  });
});

describe('events see a settled credential', () => {
  it('status() and peekToken() read inside the first state event are already up to date', async () => {
    const manager = createTokenManager({ endpoint: scriptedEndpoint(), clock: new SimulatedClock() });
    const seen: unknown[] = [];
    manager.subscribe((e) => {
      if (e.type === 'state') seen.push([e.state, manager.status('k').state, manager.peekToken('k')?.accessToken]);
    });
    await manager.setToken('k', { access_token: 'a', token_type: 'Bearer', expires_in: 3600, refresh_token: 'r' });
    expect(seen).toEqual([['valid', 'valid', 'a']]);
    await manager.stop();
  });
});
