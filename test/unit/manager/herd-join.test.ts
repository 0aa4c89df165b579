import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createTokenManager } from '../../../machines/manager/manager.js';
import { memoryStorage } from '../../../machines/manager/memory-storage.js';
import { InvalidGrantError } from '../../../machines/lifecycle/errors.js';
import { advance, scriptedEndpoint, settle } from '../../support/fake-endpoint.js';

const HOUR = 3_600_000;

async function atExpiry() {
  const clock = new SimulatedClock();
  clock.set(1_000_000);
  const endpoint = scriptedEndpoint({ expiresIn: 3600 });
  const manager = createTokenManager({ endpoint, storage: memoryStorage({ now: () => clock.now() }), clock, backgroundRefresh: false });
  await manager.setToken('k', { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' });
  await advance(clock, HOUR);
  return { clock, endpoint, manager };
}

describe('a herd at expiry joins one refresh through one shared outcome (R7)', () => {
  it('the first getToken() starts the refresh in its own turn; callers without a signal share one promise', async () => {
    const { endpoint, manager } = await atExpiry();
    endpoint.next({ kind: 'hold' });
    const first = manager.getToken('k');
    expect(manager.status('k').state).toBe('refreshing'); // no await in between
    const herd = Array.from({ length: 1_000 }, () => manager.getToken('k'));
    expect(new Set(herd).size).toBe(1);
    await settle();
    endpoint.release();
    const tokens = await Promise.all([first, ...herd]);
    expect(new Set(tokens.map((t) => t.accessToken))).toEqual(new Set(['at-1']));
    expect(endpoint.received).toEqual(['rt-0']);
    // Settled: the next refresh gets a new shared promise, not the old outcome.
    expect(manager.getToken('k')).not.toBe(herd[0]);
    await manager.stop();
  });

  it('a failure rejects every joined caller with the same typed error', async () => {
    const { endpoint, manager } = await atExpiry();
    endpoint.next({ kind: 'hold' });
    endpoint.next({ kind: 'throw', error: new InvalidGrantError() });
    const callers = Array.from({ length: 100 }, () => manager.getToken('k').then(() => 'resolved', (e: unknown) => e));
    await settle();
    endpoint.release();
    const outcomes = await Promise.all(callers);
    for (const outcome of outcomes) expect(outcome).toMatchObject({ code: 'reauth_required', reason: 'invalid_grant' });
    expect(endpoint.received).toEqual(['rt-0']);
    await manager.stop();
  });

  it('a caller with a signal waits on its own: its abort ends only its wait, the herd still gets the token', async () => {
    const { endpoint, manager } = await atExpiry();
    endpoint.next({ kind: 'hold' });
    const herd = Array.from({ length: 10 }, () => manager.getToken('k'));
    const controller = new AbortController();
    const aborting = manager.getToken('k', { signal: controller.signal });
    controller.abort(new Error('gave up'));
    await expect(aborting).rejects.toThrow('gave up');
    await settle();
    endpoint.release();
    for (const token of await Promise.all(herd)) expect(token.accessToken).toBe('at-1');
    await manager.stop();
  });

  it('stop() while a herd waits rejects the joined callers with stopped', async () => {
    const { endpoint, manager } = await atExpiry();
    endpoint.next({ kind: 'hold' });
    const joined = manager.getToken('k').then(() => 'resolved', (e: unknown) => e);
    await settle();
    const stopping = manager.stop();
    endpoint.release();
    await stopping.catch(() => undefined);
    expect(await joined).toMatchObject({ code: 'stopped' });
  });
});
