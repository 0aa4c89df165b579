import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createTokenManager } from '../../../machines/manager/manager.js';
import { memoryStorage } from '../../../machines/manager/memory-storage.js';
import { InvalidGrantError, RefreshFailedError } from '../../../machines/lifecycle/errors.js';
import { advance, scriptedEndpoint, settle } from '../../support/fake-endpoint.js';

const HOUR = 3_600_000;
const MIN = 60_000;

function setup(opts: { expiresIn?: number; backgroundRefresh?: boolean } = {}) {
  const clock = new SimulatedClock();
  clock.set(1_000_000);
  const endpoint = scriptedEndpoint({ expiresIn: opts.expiresIn ?? 3600 });
  const storage = memoryStorage({ now: () => clock.now() });
  const manager = createTokenManager({
    endpoint,
    storage,
    clock,
    random: () => 0.5,
    backgroundRefresh: opts.backgroundRefresh ?? true,
  });
  return { clock, endpoint, storage, manager };
}

describe('manager basics', () => {
  it('serves a fresh token with no request (R2) and refreshes in the background at refreshAt (R3)', async () => {
    const { clock, endpoint, manager } = setup();
    await manager.setToken('k', { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' });
    expect((await manager.getToken('k')).accessToken).toBe('at-0');
    expect(manager.status('k').state).toBe('valid');
    await advance(clock, HOUR - 5 * MIN - 1);
    expect(endpoint.received).toEqual([]);
    await advance(clock, 1);
    expect(endpoint.received).toEqual(['rt-0']);
    expect(manager.status('k').state).toBe('valid');
    const token = await manager.getToken('k');
    expect(token.accessToken).toBe('at-1');
    expect(token.refreshToken).toBe('rt-1');
    await manager.stop();
  });

  it('joins concurrent callers into one refresh (R7)', async () => {
    const { clock, endpoint, manager } = setup({ backgroundRefresh: false });
    await manager.setToken('k', { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' });
    await advance(clock, HOUR - MIN);
    endpoint.next({ kind: 'hold' });
    const calls = Array.from({ length: 100 }, () => manager.getToken('k'));
    await settle();
    expect(manager.status('k').state).toBe('refreshing');
    endpoint.release();
    const tokens = await Promise.all(calls);
    expect(endpoint.received).toEqual(['rt-0']);
    expect(new Set(tokens.map((t) => t.accessToken))).toEqual(new Set(['at-1']));
    await manager.stop();
  });

  it('degrades while valid, serves the old token, and recovers (R5)', async () => {
    const { clock, endpoint, manager } = setup({ backgroundRefresh: false });
    await manager.setToken('k', { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' });
    await advance(clock, HOUR - MIN);
    endpoint.next({ kind: 'throw', error: new RefreshFailedError('down', { status: 503, retryAfter: 10_000 }) });
    expect((await manager.getToken('k')).accessToken).toBe('at-0');
    const status = manager.status('k');
    expect(status.state).toBe('degraded');
    expect(status.detail).toBe('retrying');
    expect(status.retryAt).toBeGreaterThanOrEqual(clock.now() + 10_000);
    await advance(clock, 5_000);
    expect((await manager.getToken('k')).accessToken).toBe('at-0');
    expect(endpoint.received).toHaveLength(1);
    await advance(clock, 5_000);
    expect((await manager.getToken('k')).accessToken).toBe('at-1');
    expect(manager.status('k').state).toBe('valid');
    await manager.stop();
  });

  it('a rejection while valid serves the token until expiry, then requires re-auth once (R6)', async () => {
    const { clock, endpoint, manager } = setup();
    const reauth: string[] = [];
    const m = manager;
    await m.setToken('k', { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' });
    m.subscribe((e) => {
      if (e.type === 'reauth_required') reauth.push(e.reason);
    });
    endpoint.next({ kind: 'throw', error: new InvalidGrantError({ status: 400 }) });
    await advance(clock, HOUR - 5 * MIN);
    expect(m.status('k')).toMatchObject({ state: 'degraded', detail: 'rejected', reason: 'invalid_grant' });
    expect((await m.getToken('k')).accessToken).toBe('at-0');
    await advance(clock, 4 * MIN);
    expect(endpoint.received).toHaveLength(1);
    await advance(clock, MIN);
    expect(m.status('k').state).toBe('reauthRequired');
    await expect(m.getToken('k')).rejects.toMatchObject({ code: 'reauth_required', reason: 'invalid_grant' });
    expect(reauth).toEqual(['invalid_grant']);
    await m.stop();
  });

  it('an expired token with a transient failure is degraded.expired and recovers (R6)', async () => {
    const { clock, endpoint, manager } = setup({ backgroundRefresh: false });
    await manager.setToken('k', { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' });
    await advance(clock, HOUR);
    endpoint.next({ kind: 'throw', error: new TypeError('fetch failed') });
    await expect(manager.getToken('k')).rejects.toMatchObject({ code: 'refresh_failed', retryable: true });
    expect(manager.status('k')).toMatchObject({ state: 'degraded', detail: 'expired' });
    await advance(clock, 2_000);
    expect((await manager.getToken('k')).accessToken).toBe('at-1');
    await manager.stop();
  });

  it('a token shorter than the threshold does not loop (half-lifetime cap)', async () => {
    const { clock, endpoint, manager } = setup({ expiresIn: 300 });
    await manager.setToken('k', { access_token: 'at-0', token_type: 'Bearer', expires_in: 300, refresh_token: 'rt-0' });
    await advance(clock, 149_999);
    expect(endpoint.received).toHaveLength(0);
    await advance(clock, 1);
    expect(endpoint.received).toHaveLength(1);
    await advance(clock, 100_000);
    expect(endpoint.received).toHaveLength(1);
    await manager.stop();
  });

  it('a 40-day token does not refresh early (timer overflow, R11)', async () => {
    const { clock, endpoint, manager } = setup();
    await manager.setToken('k', { access_token: 'at-0', token_type: 'Bearer', expires_in: 40 * 24 * 3600, refresh_token: 'rt-0' });
    await advance(clock, 39 * 24 * HOUR);
    expect(endpoint.received).toHaveLength(0);
    expect(manager.status('k').state).toBe('valid');
    await advance(clock, 24 * HOUR);
    expect(endpoint.received).toHaveLength(1);
    await manager.stop();
  });
});
