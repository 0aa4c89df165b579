/**
 * status(), events and onReauthRequired (issue 8): the exact fields each state reports, the shape of
 * state events, listeners and callbacks that throw, and one reauth announcement per episode.
 */
import { describe, expect, it } from 'vitest';
import { InvalidGrantError, RefreshFailedError } from '../../../machines/lifecycle/errors.js';
import { createTokenManager } from '../../../machines/manager/manager.js';
import type { TokenEvent, TokenManagerOptions } from '../../../machines/manager/api-types.js';
import { advance, scriptedEndpoint } from '../../support/fake-endpoint.js';
import { simulatedManager, T0 } from '../../support/simulated-manager.js';

const SEC = 1_000;
const MIN = 60_000;
const HOUR = 60 * MIN;
const login = { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' };

function setup(extra: Partial<TokenManagerOptions> = {}) {
  const set = simulatedManager({ retry: { minDelay: '4s', maxDelay: '4s', jitter: 0 }, ...extra });
  const events: TokenEvent[] = [];
  set.manager.subscribe((e) => events.push(e));
  return { ...set, events };
}

const modes: Array<[string, Partial<TokenManagerOptions>]> = [
  ['dormant', {}],
  ['live', { inspect: () => undefined }],
];

describe.each(modes)('status() of a %s credential, field by field', (_, extra) => {
  it('fresh after a login', async () => {
    const { manager } = setup(extra);
    await manager.setToken('k', login);
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

  it('after a refresh: lastRefreshAt', async () => {
    const { clock, manager } = setup(extra);
    await manager.setToken('k', login);
    await advance(clock, HOUR - 5 * MIN);
    const at = T0 + HOUR - 5 * MIN;
    expect(manager.status('k')).toEqual({
      key: 'k',
      state: 'valid',
      expiresAt: at + HOUR,
      timeUntilExpiry: HOUR,
      refreshAt: at + HOUR - 5 * MIN,
      timeUntilRefresh: HOUR - 5 * MIN,
      lastRefreshAt: at,
      needsRefresh: false,
      hasRefreshToken: true,
    });
    await manager.stop();
  });

  it('past the refresh moment with no background refresh: needsRefresh, timeUntilRefresh 0', async () => {
    const { clock, manager } = setup({ ...extra, backgroundRefresh: false });
    await manager.setToken('k', login);
    await advance(clock, HOUR - MIN);
    expect(manager.status('k')).toEqual({
      key: 'k',
      state: 'nearExpiry',
      expiresAt: T0 + HOUR,
      timeUntilExpiry: MIN,
      refreshAt: T0 + HOUR - 5 * MIN,
      timeUntilRefresh: 0,
      needsRefresh: true,
      hasRefreshToken: true,
    });
    await manager.stop();
  });

  it('degraded while retrying: detail, retryAt and lastError, no reason', async () => {
    const { clock, endpoint, manager } = setup(extra);
    await manager.setToken('k', login);
    endpoint.next({ kind: 'throw', error: new RefreshFailedError('down', { status: 503 }) });
    await advance(clock, HOUR - 5 * MIN);
    const at = T0 + HOUR - 5 * MIN;
    expect(manager.status('k')).toEqual({
      key: 'k',
      state: 'degraded',
      detail: 'retrying',
      expiresAt: T0 + HOUR,
      timeUntilExpiry: 5 * MIN,
      refreshAt: at,
      timeUntilRefresh: 0,
      needsRefresh: true,
      hasRefreshToken: true,
      retryAt: at + 4 * SEC,
      lastError: { code: 'refresh_failed', retryable: true },
    });
    await manager.stop();
  });

  it('degraded after a rejection: reason; then reauthRequired at expiry: reason, no retryAt', async () => {
    const { clock, endpoint, manager } = setup(extra);
    await manager.setToken('k', login);
    endpoint.next({ kind: 'throw', error: new InvalidGrantError({ status: 400 }) });
    await advance(clock, HOUR - 5 * MIN);
    expect(manager.status('k')).toMatchObject({ state: 'degraded', detail: 'rejected', reason: 'invalid_grant', lastError: { code: 'invalid_grant', retryable: false } });
    expect(manager.status('k').retryAt).toBeUndefined();
    await advance(clock, 5 * MIN);
    const status = manager.status('k');
    expect(status).toMatchObject({ state: 'reauthRequired', reason: 'invalid_grant', timeUntilExpiry: 0, needsRefresh: true });
    expect(status.detail).toBeUndefined();
    // A new login ends the episode: no reason, no error left.
    await manager.setToken('k', login);
    const after = manager.status('k');
    expect(after.state).toBe('valid');
    expect(after.reason).toBeUndefined();
    expect(after.lastError).toBeUndefined();
    await manager.stop();
  });

  it('a token without a refresh token or expiry', async () => {
    const { manager } = setup(extra);
    await manager.setToken('k', { access_token: 'at-0', token_type: 'Bearer' });
    expect(manager.status('k')).toEqual({ key: 'k', state: 'valid', needsRefresh: false, hasRefreshToken: false });
    await manager.stop();
  });
});

describe('status() of keys with nothing to show', () => {
  it('the default key, an unknown key, and a key being loaded are idle', async () => {
    const { manager } = setup();
    expect(manager.status()).toEqual({ key: 'default', state: 'idle', needsRefresh: false, hasRefreshToken: false });
    expect(manager.status('nobody')).toEqual({ key: 'nobody', state: 'idle', needsRefresh: false, hasRefreshToken: false });
    await manager.setToken('default', login);
    expect(manager.status()).toMatchObject({ key: 'default', state: 'valid' });
    expect(manager.peekToken()?.accessToken).toBe('at-0');
    expect((await manager.getToken()).accessToken).toBe('at-0');
    await manager.stop();
  });

  it('actor(key) of a key not stored yet: idle, and it stays idle', async () => {
    const { manager } = setup();
    const actor = manager.actor('later');
    expect(actor.getSnapshot().value).toBe('idle');
    expect(manager.status('later')).toEqual({ key: 'later', state: 'idle', needsRefresh: false, hasRefreshToken: false });
    await manager.stop();
  });

  it('actor(key) of a stored key not loaded yet loads it in the background', async () => {
    const { storage, manager, clock } = setup();
    const other = createTokenManager({ endpoint: scriptedEndpoint(), storage, clock });
    await other.setToken('k', login);
    await other.stop();
    const actor = manager.actor('k');
    await advance(clock, 0);
    expect(actor.getSnapshot().value).toBe('valid');
    expect(manager.status('k').state).toBe('valid');
    await manager.stop();
  });
});

describe('events', () => {
  it('state events carry detail and previous detail only when there is one', async () => {
    const { clock, endpoint, manager, events } = setup();
    await manager.setToken('k', login);
    endpoint.next({ kind: 'throw', error: new RefreshFailedError('down', { status: 503 }) });
    await advance(clock, HOUR - 5 * MIN);
    await advance(clock, 4 * SEC);
    const states = events.filter((e) => e.type === 'state');
    const at = T0 + HOUR - 5 * MIN;
    expect(states).toEqual([
      { type: 'state', key: 'k', at: T0, state: 'valid', previous: { state: 'idle' } },
      { type: 'state', key: 'k', at, state: 'nearExpiry', previous: { state: 'valid' } },
      { type: 'state', key: 'k', at, state: 'refreshing', previous: { state: 'nearExpiry' } },
      { type: 'state', key: 'k', at, state: 'degraded', detail: 'retrying', previous: { state: 'refreshing' } },
      { type: 'state', key: 'k', at: at + 4 * SEC, state: 'refreshing', previous: { state: 'degraded', detail: 'retrying' } },
      { type: 'state', key: 'k', at: at + 4 * SEC, state: 'valid', previous: { state: 'refreshing' } },
    ]);
    await manager.stop();
  });

  it('a listener that throws disturbs neither the others nor the lifecycle; unsubscribing stops delivery', async () => {
    const { clock, manager, events } = setup();
    manager.subscribe(() => {
      throw new Error('listener bug');
    });
    const late: TokenEvent[] = [];
    const off = manager.subscribe((e) => late.push(e));
    await manager.setToken('k', login);
    expect(late).toHaveLength(1);
    off();
    await advance(clock, HOUR - 5 * MIN);
    expect(late).toHaveLength(1);
    expect(events.map((e) => e.type)).toContain('refreshed');
    expect(manager.status('k').state).toBe('valid');
    await manager.stop();
  });
});

describe('onReauthRequired', () => {
  it('a callback that throws: the credential still reaches reauthRequired, with its event, and callers get reauth_required', async () => {
    const calls: string[] = [];
    const { clock, manager, events } = setup({
      onReauthRequired: (key, reason) => {
        calls.push(`${key}:${reason}`);
        throw new Error('callback bug');
      },
    });
    await manager.setToken('k', { access_token: 'at-0', token_type: 'Bearer', expires_in: 600 });
    await advance(clock, 600 * SEC);
    expect(calls).toEqual(['k:refresh_token_missing']);
    expect(events.filter((e) => e.type === 'reauth_required')).toEqual([{ type: 'reauth_required', key: 'k', at: T0 + 600 * SEC, reason: 'refresh_token_missing' }]);
    expect(manager.status('k')).toMatchObject({ state: 'reauthRequired', reason: 'refresh_token_missing' });
    await expect(manager.getToken('k')).rejects.toMatchObject({ code: 'reauth_required', reason: 'refresh_token_missing', key: 'k' });
    await manager.stop();
  });

  it('once per episode: a new login, then a new rejection, is a second episode', async () => {
    const calls: string[] = [];
    const { clock, endpoint, manager } = setup({ backgroundRefresh: false, onReauthRequired: (_k, reason) => calls.push(reason) });
    await manager.setToken('k', login);
    await advance(clock, HOUR);
    endpoint.next({ kind: 'throw', error: new InvalidGrantError({ status: 400 }) });
    await expect(manager.getToken('k')).rejects.toMatchObject({ code: 'reauth_required' });
    await expect(manager.getToken('k')).rejects.toMatchObject({ code: 'reauth_required' });
    expect(calls).toEqual(['invalid_grant']);
    await manager.setToken('k', login);
    await advance(clock, HOUR);
    endpoint.next({ kind: 'throw', error: new InvalidGrantError({ status: 400 }) });
    await expect(manager.getToken('k')).rejects.toMatchObject({ code: 'reauth_required' });
    expect(calls).toEqual(['invalid_grant', 'invalid_grant']);
    await manager.stop();
  });

  it('once per episode also when the new login comes from another process', async () => {
    const calls: string[] = [];
    const { clock, endpoint, storage, manager } = setup({ backgroundRefresh: false, onReauthRequired: (_k, reason) => calls.push(reason) });
    await manager.setToken('k', login);
    await advance(clock, HOUR);
    endpoint.next({ kind: 'throw', error: new InvalidGrantError({ status: 400 }) });
    await expect(manager.getToken('k')).rejects.toMatchObject({ code: 'reauth_required' });
    const other = createTokenManager({ endpoint: scriptedEndpoint(), storage, clock });
    await other.setToken('k', { ...login, access_token: 'at-other', refresh_token: 'rt-other' });
    await other.stop();
    await advance(clock, 0);
    expect(manager.status('k').state).toBe('valid');
    expect((await manager.getToken('k')).accessToken).toBe('at-other');
    await advance(clock, HOUR);
    endpoint.next({ kind: 'throw', error: new InvalidGrantError({ status: 400 }) });
    await expect(manager.getToken('k')).rejects.toMatchObject({ code: 'reauth_required' });
    expect(calls).toEqual(['invalid_grant', 'invalid_grant']);
    await manager.stop();
  });
});
