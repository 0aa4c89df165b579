/**
 * remove() (issue 8): what is revoked (and with which hint), what happens when revocation or the
 * delete fails, and what is left of a live or dormant credential afterwards.
 */
import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { RevocationFailedError, StorageFailedError } from '../../../machines/lifecycle/errors.js';
import { createTokenManager } from '../../../machines/manager/manager.js';
import type { TokenManagerOptions } from '../../../machines/manager/api-types.js';
import { memoryStorage } from '../../../machines/manager/memory-storage.js';
import type { RevokeOptions, TokenEndpoint, TokenStorage } from '../../../machines/lifecycle/types.js';
import { advance, scriptedEndpoint } from '../../support/fake-endpoint.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = 10_000_000;
const login = { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' };

function setup(extra: Partial<TokenManagerOptions> = {}, revoke?: TokenEndpoint['revoke'] | null) {
  const clock = new SimulatedClock();
  clock.set(T0);
  const scripted = scriptedEndpoint();
  const revoked: Array<[string, RevokeOptions | undefined]> = [];
  const endpoint: TokenEndpoint = {
    refresh: (token, options) => scripted.refresh(token, options),
    ...(revoke === null
      ? {}
      : {
          revoke:
            revoke ??
            (async (token, options) => {
              revoked.push([token, options]);
            }),
        }),
  };
  const storage = memoryStorage({ now: () => clock.now() });
  const manager = createTokenManager({ endpoint, storage, clock, random: () => 0, ...extra });
  return { clock, scripted, storage, manager, revoked };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('what remove() revokes', () => {
  it('the refresh token, hinted as such, then deletes', async () => {
    const { storage, manager, revoked } = setup();
    await manager.setToken('k', login);
    await manager.remove('k');
    expect(revoked).toEqual([['rt-0', { hint: 'refresh_token' }]]);
    expect(await storage.get('k')).toBeUndefined();
    await manager.stop();
  });

  it('the access token, hinted as such, when there is no refresh token', async () => {
    const { manager, revoked } = setup();
    await manager.setToken('k', { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600 });
    await manager.remove('k');
    expect(revoked).toEqual([['at-0', { hint: 'access_token' }]]);
    await manager.stop();
  });

  it('nothing with { revoke: false }, even with an endpoint that cannot revoke', async () => {
    const { storage, manager } = setup({}, null);
    await manager.setToken('k', login);
    await manager.remove('k', { revoke: false });
    expect(await storage.get('k')).toBeUndefined();
    await manager.stop();
  });

  it('nothing when the record holds no token at all, and the key is deleted', async () => {
    const { storage, manager } = setup({}, null);
    await storage.set('k', { accessToken: '', tokenType: 'Bearer', obtainedAt: T0, version: 1 });
    await manager.remove('k');
    expect(await storage.get('k')).toBeUndefined();
    await manager.stop();
  });

  it('a key that does not exist is not an error, and nothing is revoked', async () => {
    const { manager, revoked } = setup();
    await expect(manager.remove('nobody')).resolves.toBeUndefined();
    expect(revoked).toEqual([]);
    await manager.stop();
  });
});

describe('when remove() fails the key is kept', () => {
  it('an endpoint without revoke(): revocation_failed that says how to delete anyway', async () => {
    const { storage, manager } = setup({}, null);
    await manager.setToken('k', login);
    const error = await failure(manager.remove('k'));
    expect(error).toBeInstanceOf(RevocationFailedError);
    expect(error).toMatchObject({ key: 'k', message: 'The endpoint cannot revoke tokens; pass { revoke: false } to delete without revoking' });
    expect(await storage.get('k')).toBeDefined();
    expect((await manager.getToken('k')).accessToken).toBe('at-0');
    await manager.stop();
  });

  it('a revocation_failed from the endpoint is passed on as is', async () => {
    const own = new RevocationFailedError('server said no');
    const { storage, manager } = setup({}, async () => Promise.reject(own));
    await manager.setToken('k', login);
    await expect(manager.remove('k')).rejects.toBe(own);
    expect(await storage.get('k')).toBeDefined();
    await manager.stop();
  });

  it('any other revocation failure becomes revocation_failed with it as the cause, no token in the message', async () => {
    const cause = new Error('offline');
    const { manager } = setup({}, async () => Promise.reject(cause));
    await manager.setToken('k', login);
    const error = await failure(manager.remove('k'));
    expect(error).toBeInstanceOf(RevocationFailedError);
    expect(error).toMatchObject({ key: 'k', cause, message: 'Token revocation failed' });
    expect(manager.status('k').state).toBe('valid');
    await manager.stop();
  });

  function failingDelete(error: unknown) {
    return (inner: TokenStorage): TokenStorage => ({
      get: (key) => inner.get(key),
      set: (key, record, options) => inner.set(key, record, options),
      delete: async () => Promise.reject(error),
    });
  }

  it('a delete that fails with an untyped error: storage_failed with the cause', async () => {
    const cause = new Error('EIO');
    const storage = failingDelete(cause)(memoryStorage());
    const manager = createTokenManager({ endpoint: scriptedEndpoint(), storage, clock: new SimulatedClock() });
    await manager.setToken('k', login);
    const error = await failure(manager.remove('k', { revoke: false }));
    expect(error).toBeInstanceOf(StorageFailedError);
    expect(error).toMatchObject({ code: 'storage_failed', key: 'k', cause, message: 'Could not delete the tokens' });
    expect((await manager.getToken('k')).accessToken).toBe('at-0');
    await manager.stop();
  });

  it("a delete that fails with the storage's own typed error passes it on", async () => {
    const own = new StorageFailedError('read-only');
    const storage = failingDelete(own)(memoryStorage());
    const manager = createTokenManager({ endpoint: scriptedEndpoint(), storage, clock: new SimulatedClock() });
    await manager.setToken('k', login);
    await expect(manager.remove('k', { revoke: false })).rejects.toBe(own);
    await manager.stop();
  });

  it('a key that cannot be read is not taken for a missing one', async () => {
    const own = new StorageFailedError('unreadable');
    const deleted: string[] = [];
    const storage: TokenStorage = {
      get: async () => Promise.reject(own),
      set: async () => undefined,
      delete: async (key) => {
        deleted.push(key);
      },
    };
    const manager = createTokenManager({ endpoint: scriptedEndpoint(), storage, clock: new SimulatedClock() });
    await expect(manager.remove('k')).rejects.toBe(own);
    expect(deleted).toEqual([]);
    await manager.stop();
  });
});

describe('after remove()', () => {
  const modes: Array<[string, Partial<TokenManagerOptions>]> = [
    ['a dormant credential', {}],
    ['a live credential', { inspect: () => undefined }],
  ];
  it.each(modes)('%s is idle, served no more, and never refreshed', async (_, extra) => {
    const { clock, scripted, manager } = setup(extra);
    await manager.setToken('k', login);
    await manager.remove('k');
    expect(manager.status('k')).toEqual({ key: 'k', state: 'idle', needsRefresh: false, hasRefreshToken: false });
    expect(manager.peekToken('k')).toBeUndefined();
    await expect(manager.getToken('k')).rejects.toMatchObject({ code: 'not_found' });
    await advance(clock, 2 * HOUR);
    expect(scripted.received).toEqual([]);
    await manager.stop();
  });

  it('a key stored again by another process loads, refreshes and persists as any other', async () => {
    const { storage, scripted, manager, clock } = setup();
    await manager.setToken('k', login);
    await manager.remove('k', { revoke: false });
    const other = createTokenManager({ endpoint: scriptedEndpoint(), storage, clock });
    await other.setToken('k', { ...login, access_token: 'at-other' });
    await other.stop();
    expect((await manager.getToken('k')).accessToken).toBe('at-other');
    expect((await manager.refresh('k')).accessToken).toBe('at-1');
    expect(await storage.get('k')).toMatchObject({ accessToken: 'at-1', refreshToken: 'rt-1' });
    expect(scripted.received).toEqual(['rt-0']);
    await manager.stop();
  });

  it('a new login after remove() starts at version 1 again, is served, and announced as a state change', async () => {
    const { storage, manager } = setup();
    const states: string[] = [];
    manager.subscribe((e) => {
      if (e.type === 'state') states.push(`${e.previous.state}>${e.state}`);
    });
    await manager.setToken('k', login);
    await manager.setToken('k', login);
    expect((await storage.get('k'))?.version).toBe(2);
    await manager.remove('k');
    await manager.setToken('k', { ...login, access_token: 'at-again' });
    expect((await storage.get('k'))?.version).toBe(1);
    expect((await manager.getToken('k')).accessToken).toBe('at-again');
    expect(states).toEqual(['idle>valid', 'idle>valid']);
    expect(manager.status('k').state).toBe('valid');
    await manager.stop();
  });
});
