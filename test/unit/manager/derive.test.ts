/**
 * R22: derived credentials (`manager.derive`) on the testing kit's manual clock and simulated
 * endpoint: one exchange per parent change (also with a herd of callers), re-exchange on the child's
 * own expiry, reauthRequired together with the parent and back on setToken, parent removal.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTokenManager } from '../../../machines/manager/manager.js';
import { derivedCredentials } from '../../../machines/manager/derive.js';
import { memoryStorage } from '../../../machines/manager/memory-storage.js';
import { TOKEN_TYPES } from '../../../machines/lifecycle/exchange-response.js';
import type { TokenEvent, TokenManager } from '../../../machines/manager/api-types.js';
import { manualClock, simulatedEndpoint, type ManualClock, type SimulatedEndpoint } from '../../../testing/index.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

interface World {
  clock: ManualClock;
  endpoint: SimulatedEndpoint;
  manager: TokenManager;
  events: TokenEvent[];
}

let world: World | undefined;

async function setup(options: { backgroundRefresh?: boolean; parentExpiresIn?: number; childExpiresIn?: number } = {}): Promise<World> {
  const clock = manualClock();
  const endpoint = simulatedEndpoint({ clock, expiresIn: options.childExpiresIn ?? 3600, initialRefreshToken: 'rt-0', defaultOutcome: { type: 'rotate', expiresIn: options.parentExpiresIn ?? 3600 } });
  const manager = createTokenManager({
    endpoint,
    storage: memoryStorage({ now: () => clock.now() }),
    clock,
    refreshThreshold: '5m',
    backgroundRefresh: options.backgroundRefresh ?? true,
    retry: { minDelay: '1s', maxDelay: '1s', jitter: 0 },
    derivedCredentials: derivedCredentials(),
  });
  const events: TokenEvent[] = [];
  manager.subscribe((event) => events.push(event));
  await manager.setToken('user', { access_token: 'parent-0', token_type: 'Bearer', expires_in: options.parentExpiresIn ?? 3600, refresh_token: 'rt-0' });
  world = { clock, endpoint, manager, events };
  return world;
}

afterEach(async () => {
  await world?.manager.stop().catch(() => undefined);
  world = undefined;
});

const subjects = (endpoint: SimulatedEndpoint): string[] => endpoint.exchanges.map((e) => e.request.subjectToken);

describe('derive(): the first exchange', () => {
  it('exchanges the parent’s access token for the audience and scope, and resolves to the child’s token', async () => {
    const { endpoint, manager } = await setup();
    const child = await manager.derive('orders', { from: 'user', audience: 'orders-api', scope: 'orders:read' });
    expect(child.accessToken).toBe('xt-1');
    expect(child.refreshToken).toBeUndefined();
    expect(endpoint.exchanges).toHaveLength(1);
    expect(endpoint.exchanges[0]?.request).toEqual({
      subjectToken: 'parent-0',
      subjectTokenType: TOKEN_TYPES.accessToken,
      requestedTokenType: TOKEN_TYPES.accessToken,
      audience: 'orders-api',
      scope: 'orders:read',
    });
    expect(endpoint.calls).toHaveLength(0); // the parent was fresh: no refresh
    await expect(manager.getToken('orders')).resolves.toMatchObject({ accessToken: 'xt-1' });
    expect(endpoint.exchanges).toHaveLength(1);
  });

  it('status() names the parent; the child has no refresh token', async () => {
    const { manager } = await setup();
    await manager.derive('orders', { from: 'user', audience: 'orders-api' });
    expect(manager.status('orders')).toMatchObject({ state: 'valid', parent: 'user', hasRefreshToken: false });
    expect(manager.status('user').parent).toBeUndefined();
  });

  it('deriving again with the same options exchanges nothing more; new options exchange once', async () => {
    const { endpoint, manager } = await setup();
    await manager.derive('orders', { from: 'user', audience: 'orders-api' });
    await manager.derive('orders', { from: 'user', audience: 'orders-api' });
    expect(endpoint.exchanges).toHaveLength(1);
    const again = await manager.derive('orders', { from: 'user', audience: 'billing-api' });
    expect(again.accessToken).toBe('xt-2');
    expect(endpoint.exchanges.map((e) => e.request.audience)).toEqual(['orders-api', 'billing-api']);
  });

  it.each([
    ['no parent key', { from: '' }],
    ['itself as parent', { from: 'orders' }],
    ['an empty audience', { from: 'user', audience: '' }],
  ])('%s is invalid_config', async (_name, options) => {
    const { manager } = await setup();
    await expect(manager.derive('orders', options)).rejects.toMatchObject({ code: 'invalid_config' });
  });

  it('a parent that does not exist is not_found, and nothing is registered', async () => {
    const { endpoint, manager } = await setup();
    await expect(manager.derive('orders', { from: 'nobody' })).rejects.toMatchObject({ code: 'not_found' });
    expect(manager.status('orders').state).toBe('idle');
    expect(endpoint.exchanges).toHaveLength(0);
  });

  it('a loop of derivations is refused', async () => {
    const { manager } = await setup();
    await manager.derive('a', { from: 'user' });
    await manager.derive('b', { from: 'a' });
    await expect(manager.derive('a', { from: 'b' })).rejects.toMatchObject({ code: 'invalid_config' });
  });

  it('an endpoint without tokenExchange is invalid_config', async () => {
    const clock = manualClock();
    const { tokenExchange: _dropped, ...endpoint } = simulatedEndpoint({ clock });
    const manager = createTokenManager({ endpoint, clock, derivedCredentials: derivedCredentials() });
    await manager.setToken('user', { access_token: 'p', token_type: 'Bearer', expires_in: 3600, refresh_token: 'r' });
    await expect(manager.derive('orders', { from: 'user' })).rejects.toMatchObject({ code: 'invalid_config' });
    await manager.stop();
  });

  it('a manager made without derivedCredentials() refuses derive() (a plug-in), and any other value for it', async () => {
    const clock = manualClock();
    const endpoint = simulatedEndpoint({ clock });
    const manager = createTokenManager({ endpoint, clock });
    await manager.setToken('user', { access_token: 'p', token_type: 'Bearer', expires_in: 3600, refresh_token: 'r' });
    await expect(manager.derive('orders', { from: 'user' })).rejects.toMatchObject({ code: 'invalid_config', message: expect.stringMatching(/derivedCredentials\(\)/) });
    expect(endpoint.exchanges).toHaveLength(0);
    await manager.stop();
    expect(() => createTokenManager({ endpoint, derivedCredentials: {} as never })).toThrow(/derivedCredentials\(\)/);
  });

  it('setToken on a derived key is refused (its token comes by exchange); a stored key cannot be derived over', async () => {
    const { manager } = await setup();
    await manager.derive('orders', { from: 'user' });
    await expect(manager.setToken('orders', { access_token: 'x', token_type: 'Bearer' })).rejects.toMatchObject({ code: 'invalid_config' });
    await manager.setToken('plain', { access_token: 'x', token_type: 'Bearer', refresh_token: 'r' });
    await expect(manager.derive('plain', { from: 'user' })).rejects.toMatchObject({ code: 'invalid_config' });
  });
});

describe('one exchange per parent change', () => {
  it('each background refresh of the parent re-exchanges the child exactly once, with the new token', async () => {
    const { clock, endpoint, manager } = await setup({ parentExpiresIn: 600, childExpiresIn: 3600 });
    await manager.derive('orders', { from: 'user', audience: 'orders-api' });
    for (let i = 0; i < 3; i++) await clock.advance(5 * MINUTE); // parent refreshes at 5 min before expiry
    expect(endpoint.calls.length).toBeGreaterThanOrEqual(2);
    const parentTokens = ['parent-0', ...endpoint.calls.map((_c, i) => `at-${i + 1}`)];
    expect(subjects(endpoint)).toEqual(parentTokens);
    expect(await manager.getToken('orders')).toMatchObject({ accessToken: `xt-${parentTokens.length}` });
  });

  it('a new login of the parent (setToken) re-exchanges the child once', async () => {
    const { endpoint, manager } = await setup();
    await manager.derive('orders', { from: 'user' });
    await manager.setToken('user', { access_token: 'parent-login-2', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-x' });
    await world!.clock.settle();
    expect(subjects(endpoint)).toEqual(['parent-0', 'parent-login-2']);
    expect((await manager.getToken('orders')).accessToken).toBe('xt-2');
  });

  it('a forced refresh of the parent with a herd of child callers: one parent refresh, one exchange', async () => {
    const { clock, endpoint, manager } = await setup();
    await manager.derive('orders', { from: 'user' });
    endpoint.scriptExchange('hang');
    await manager.refresh('user');
    await clock.settle();
    // The child's re-exchange is in flight; a herd asks for the child meanwhile.
    const herd = Array.from({ length: 50 }, () => manager.getToken('orders'));
    expect(endpoint.answerExchange()).toBe(true);
    const tokens = await Promise.all(herd);
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(subjects(endpoint)).toEqual(['parent-0', 'at-1']);
    expect(endpoint.calls).toHaveLength(1);
  });

  it('a herd at the child’s expiry, with the parent inside its refresh window: one parent refresh, one exchange', async () => {
    const { clock, endpoint, manager } = await setup({ backgroundRefresh: false, parentExpiresIn: 3600, childExpiresIn: 3600 });
    await manager.derive('orders', { from: 'user' });
    await clock.advance(HOUR - MINUTE); // both inside their windows, neither refreshed (no background refresh)
    const herd = Array.from({ length: 100 }, () => manager.getToken('orders'));
    const tokens = await Promise.all(herd);
    expect(new Set(tokens.map((t) => t.accessToken))).toEqual(new Set(['xt-2']));
    expect(endpoint.calls).toHaveLength(1); // the parent refreshed once, for the exchange
    expect(subjects(endpoint)).toEqual(['parent-0', 'at-1']); // and the child exchanged once, with the new token
    await clock.settle();
    expect(endpoint.exchanges).toHaveLength(2); // the parent's change was already taken: no second exchange
  });

  it('parent changes while an exchange is in flight make one more exchange, not one per change', async () => {
    const { clock, endpoint, manager } = await setup();
    await manager.derive('orders', { from: 'user' });
    endpoint.scriptExchange('hang');
    await manager.refresh('user'); // change 1: exchange in flight (hung)
    await clock.settle();
    await clock.advance(3_000);
    await manager.refresh('user'); // change 2
    await clock.advance(3_000);
    await manager.refresh('user'); // change 3
    await clock.settle();
    endpoint.answerExchange();
    await clock.settle();
    expect(subjects(endpoint)).toEqual(['parent-0', 'at-1', 'at-3']);
    expect((await manager.getToken('orders')).accessToken).toBe('xt-3');
  });

  it('the child re-exchanges on its own expiry, with the parent unchanged', async () => {
    const { clock, endpoint, manager } = await setup({ parentExpiresIn: 4 * HOUR, childExpiresIn: 600 });
    await manager.derive('orders', { from: 'user' });
    await clock.advance(5 * MINUTE); // the child's refresh moment (half its 10-minute lifetime)
    expect(subjects(endpoint)).toEqual(['parent-0', 'parent-0']);
    expect(endpoint.calls).toHaveLength(0);
  });

  it('a transient exchange failure is retried with backoff, serving the still-valid child token meanwhile', async () => {
    const { clock, endpoint, manager } = await setup({ parentExpiresIn: 4 * HOUR, childExpiresIn: 600 });
    await manager.derive('orders', { from: 'user' });
    endpoint.scriptExchange('transient');
    await clock.advance(5 * MINUTE);
    expect(manager.status('orders')).toMatchObject({ state: 'degraded', detail: 'retrying', lastError: { code: 'refresh_failed' } });
    expect((await manager.getToken('orders')).accessToken).toBe('xt-1');
    await clock.advance(2_000); // backoff, never under the minimum interval between refreshes (2 s)
    expect(manager.status('orders').state).toBe('valid');
    expect(subjects(endpoint)).toEqual(['parent-0', 'parent-0', 'parent-0']);
  });
});

describe('reauthRequired with the parent', () => {
  it('the parent’s rejection at expiry takes the child along, and setToken on the parent brings it back', async () => {
    const { clock, endpoint, manager, events } = await setup({ parentExpiresIn: 600 });
    await manager.derive('orders', { from: 'user' });
    endpoint.script('invalid_grant');
    await clock.advance(10 * MINUTE);
    expect(manager.status('user').state).toBe('reauthRequired');
    expect(manager.status('orders')).toMatchObject({ state: 'reauthRequired', reason: 'parent_reauth_required', parent: 'user' });
    await expect(manager.getToken('orders')).rejects.toMatchObject({ code: 'reauth_required', reason: 'parent_reauth_required' });
    expect(events.filter((e) => e.type === 'reauth_required').map((e) => e.key)).toEqual(['user', 'orders']);
    const before = endpoint.exchanges.length;

    await manager.setToken('user', { access_token: 'parent-again', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-new' });
    await clock.settle();
    expect(manager.status('orders').state).toBe('valid');
    expect(subjects(endpoint).slice(before)).toEqual(['parent-again']);
    expect((await manager.getToken('orders')).accessToken).toMatch(/^xt-/);
  });

  it('a child derived from a parent already in reauthRequired is there too, without an exchange', async () => {
    const { clock, endpoint, manager } = await setup({ parentExpiresIn: 600 });
    endpoint.script('invalid_grant');
    await clock.advance(10 * MINUTE);
    expect(manager.status('user').state).toBe('reauthRequired');
    await expect(manager.derive('orders', { from: 'user' })).rejects.toMatchObject({ code: 'reauth_required', reason: 'parent_reauth_required' });
    expect(endpoint.exchanges).toHaveLength(0);
  });

  it('a refused exchange (invalid_grant) is the child’s own rejection; the parent’s next token is tried once', async () => {
    const { clock, endpoint, manager } = await setup({ parentExpiresIn: 4 * HOUR, childExpiresIn: 600 });
    await manager.derive('orders', { from: 'user' });
    endpoint.scriptExchange('invalid_grant');
    await clock.advance(10 * MINUTE);
    expect(manager.status('orders')).toMatchObject({ state: 'reauthRequired', reason: 'invalid_grant' });
    expect(manager.status('user').state).toBe('valid');
    await clock.advance(10 * MINUTE);
    expect(endpoint.exchanges).toHaveLength(2); // no retry of a refused exchange
    await manager.refresh('user');
    await clock.settle();
    expect(manager.status('orders').state).toBe('valid');
    expect(subjects(endpoint)).toEqual(['parent-0', 'parent-0', 'at-1']);
  });
});

describe('removing', () => {
  it('removing the parent removes its derived credentials first (revoking each as asked)', async () => {
    const { endpoint, manager } = await setup();
    await manager.derive('orders', { from: 'user' });
    await manager.derive('audit', { from: 'orders' });
    await manager.remove('user');
    expect(endpoint.revoked).toEqual(['xt-2', 'xt-1', 'rt-0']);
    for (const key of ['user', 'orders', 'audit']) expect(manager.status(key).state).toBe('idle');
    await expect(manager.getToken('orders')).rejects.toMatchObject({ code: 'not_found' });
    // The parent's later changes reach nobody.
    await manager.setToken('user', { access_token: 'back', token_type: 'Bearer', expires_in: 3600, refresh_token: 'r' });
    await world!.clock.settle();
    expect(endpoint.exchanges).toHaveLength(2);
  });

  it('removing a child leaves the parent alone, and the child can be derived again', async () => {
    const { endpoint, manager } = await setup();
    await manager.derive('orders', { from: 'user' });
    await manager.remove('orders', { revoke: false });
    expect(manager.status('user').state).toBe('valid');
    await manager.refresh('user');
    await world!.clock.settle();
    expect(endpoint.exchanges).toHaveLength(1);
    await expect(manager.derive('orders', { from: 'user' })).resolves.toMatchObject({ accessToken: 'xt-2' });
  });
});

describe('secrets', () => {
  it('no event or status holds the parent’s or the child’s token', async () => {
    const { clock, endpoint, manager, events } = await setup({ parentExpiresIn: 600 });
    await manager.derive('orders', { from: 'user', audience: 'orders-api' });
    endpoint.scriptExchange({ type: 'error', error: Object.assign(new Error(`refused ${'parent-0'}`), { code: 'invalid_request', retryable: false }) });
    await clock.advance(5 * MINUTE);
    const shown = JSON.stringify([events, manager.status('orders'), manager.status('user'), manager.actor('orders').getSnapshot().context]);
    for (const secret of ['parent-0', 'at-1', 'xt-1', 'xt-2', 'rt-0']) expect(shown).not.toContain(secret);
  });
});
