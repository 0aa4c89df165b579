import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createTokenManager } from '../../../machines/manager/manager.js';
import { memoryStorage } from '../../../machines/manager/memory-storage.js';
import { internalsOf } from '../../../machines/manager/internals.js';
import { InvalidGrantError, RefreshFailedError } from '../../../machines/lifecycle/errors.js';
import type { TokenEvent } from '../../../machines/manager/api-types.js';
import { scriptedEndpoint, settle } from '../../support/fake-endpoint.js';

/** A dormant credential (valid, far from refresh: no live actor) on a simulated clock. */
async function dormant() {
  const clock = new SimulatedClock();
  clock.set(1_000_000);
  const endpoint = scriptedEndpoint({ expiresIn: 3600 });
  const manager = createTokenManager({ endpoint, storage: memoryStorage({ now: () => clock.now() }), clock, random: () => 0.5 });
  await manager.setToken('k', { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' });
  await settle();
  const events: string[] = [];
  manager.subscribe((e: TokenEvent) => events.push(e.type === 'state' ? `${e.previous.state}>${e.state}` : e.type));
  return { clock, endpoint, manager, events };
}

describe('a dormant credential refreshes with no actor, and tells what a live one would', () => {
  it('refresh(): valid > refreshing > valid, refreshed, one request, dormant again afterwards', async () => {
    const { endpoint, manager, events } = await dormant();
    const scheduled = internalsOf(manager)?.scheduledWakes();
    expect((await manager.refresh('k')).accessToken).toBe('at-1');
    expect(events).toEqual(['valid>refreshing', 'refreshed', 'refreshing>valid']);
    expect(endpoint.received).toEqual(['rt-0']);
    expect(manager.status('k')).toMatchObject({ state: 'valid', hasRefreshToken: true });
    expect(manager.status('k').lastRefreshAt).toBeDefined();
    expect(internalsOf(manager)?.scheduledWakes()).toBe(scheduled); // asleep in the wake wheel again
    await manager.stop();
  });

  it('a transient failure is handed to the actor: degraded.retrying with lastError and a retry, the old token served', async () => {
    const { endpoint, manager, events } = await dormant();
    endpoint.next({ kind: 'throw', error: new RefreshFailedError('down', { status: 503 }) });
    await expect(manager.refresh('k')).rejects.toMatchObject({ code: 'refresh_failed' });
    expect(events).toEqual(['valid>refreshing', 'refresh_failed', 'refreshing>degraded']);
    const status = manager.status('k');
    expect(status).toMatchObject({ state: 'degraded', detail: 'retrying', lastError: { code: 'refresh_failed', retryable: true } });
    expect(status.retryAt).toBeGreaterThan(1_000_000);
    expect((await manager.getToken('k')).accessToken).toBe('at-0');
    expect(endpoint.received).toEqual(['rt-0']); // the hand-over sent nothing again
    await manager.stop();
  });

  it('a rejection while valid is degraded.rejected, with the reason', async () => {
    const { endpoint, manager } = await dormant();
    endpoint.next({ kind: 'throw', error: new InvalidGrantError() });
    await expect(manager.refresh('k')).rejects.toMatchObject({ code: 'invalid_grant' });
    expect(manager.status('k')).toMatchObject({ state: 'degraded', detail: 'rejected' });
    await expect(manager.refresh('k')).rejects.toMatchObject({ code: 'reauth_required', reason: 'invalid_grant' });
    expect(endpoint.received).toEqual(['rt-0']);
    await manager.stop();
  });

  it('actor(key) asked mid-refresh takes the refresh over: one request, the actor ends valid with the new token', async () => {
    const { endpoint, manager } = await dormant();
    endpoint.next({ kind: 'hold' });
    const refreshing = manager.refresh('k');
    await settle();
    const actor = manager.actor('k');
    expect(actor.getSnapshot().value).toBe('refreshing');
    endpoint.release();
    expect((await refreshing).accessToken).toBe('at-1');
    await settle();
    expect(actor.getSnapshot().value).toBe('valid');
    expect(endpoint.received).toEqual(['rt-0']);
    await manager.stop();
  });

  it('setToken() mid-refresh wins: the new login is served, the refresh result is not stored over it', async () => {
    const { endpoint, manager } = await dormant();
    endpoint.next({ kind: 'hold' });
    const refreshing = manager.refresh('k').catch((e: unknown) => e);
    await settle();
    await manager.setToken('k', { access_token: 'at-login', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-login' });
    endpoint.release();
    await refreshing;
    await settle();
    expect((await manager.getToken('k')).accessToken).toBe('at-login');
    expect(manager.status('k').state).toBe('valid');
    await manager.stop();
  });

  it('remove() mid-refresh: the credential is gone, its waiters released', async () => {
    const { endpoint, manager, events } = await dormant();
    endpoint.next({ kind: 'hold' });
    const waiting = manager.refresh('k').then(() => 'resolved', (e: unknown) => e);
    await settle();
    expect(manager.status('k').state).toBe('refreshing');
    await manager.remove('k', { revoke: false });
    expect(events).toContain('refreshing>idle');
    endpoint.release();
    await settle();
    expect(await waiting).toMatchObject({ code: 'refresh_failed' }); // released, as a live actor's UNLOAD does
    expect(manager.status('k').state).toBe('idle');
    await manager.stop();
  });
});
