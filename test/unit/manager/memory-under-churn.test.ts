/**
 * Memory under churn (issue 21 case 5): users who log in and out, and tokens set again and again,
 * leave nothing behind in the manager. Counted, not timed: the credentials the manager's map holds
 * and the entries of its wake wheel. remove() lets go of a credential whatever still holds it (a
 * refresh in flight, callers waiting for it, a write retry), and nothing brings it back.
 */
import { describe, expect, it } from 'vitest';
import { createTokenManager } from '../../../machines/manager/manager.js';
import type { TokenEvent } from '../../../machines/manager/api-types.js';
import { internalsOf, type ManagerInternals } from '../../../machines/manager/internals.js';
import { memoryStorage } from '../../../machines/manager/memory-storage.js';
import type { TokenStorage } from '../../../machines/lifecycle/types.js';
import { advance, settle } from '../../support/fake-endpoint.js';
import { simulatedManager } from '../../support/simulated-manager.js';

const CYCLES = 2_000;
const login = (n = 0) => ({ access_token: `at-login-${n}`, token_type: 'Bearer', expires_in: 3600 + n, refresh_token: `rt-login-${n}` });

function held(manager: object): ManagerInternals {
  const internals = internalsOf(manager);
  if (!internals) throw new Error('manager internals not registered');
  return internals;
}

describe('set and remove on distinct keys', () => {
  it(`${CYCLES} logins and logouts leave no credential and no wake-up behind`, async () => {
    const { manager, storage } = simulatedManager();
    for (let i = 0; i < CYCLES; i++) {
      await manager.setToken(`u${i}`, login(i));
      await manager.remove(`u${i}`, { revoke: false });
    }
    await settle();
    expect(held(manager).credentials()).toBe(0);
    expect(held(manager).scheduledWakes()).toBe(0);
    expect(await storage.keys()).toEqual([]);
    await manager.stop();
  });

  it('a removed key reads as never set, and a new login for it starts afresh', async () => {
    const { manager } = simulatedManager();
    await manager.setToken('u', login());
    await manager.remove('u', { revoke: false });
    expect(manager.status('u')).toEqual({ key: 'u', state: 'idle', needsRefresh: false, hasRefreshToken: false });
    expect(manager.peekToken('u')).toBeUndefined();
    await expect(manager.getToken('u')).rejects.toMatchObject({ code: 'not_found' });
    await manager.setToken('u', login(1));
    expect((await manager.getToken('u')).accessToken).toBe('at-login-1');
    expect(held(manager).credentials()).toBe(1);
    await manager.stop();
  });
});

describe('set again and again on one key', () => {
  it(`${CYCLES} logins on one key keep one credential and one wake-up`, async () => {
    const { manager } = simulatedManager();
    for (let i = 0; i < CYCLES; i++) await manager.setToken('k', login(i % 50));
    await settle();
    expect(held(manager).credentials()).toBe(1);
    expect(held(manager).scheduledWakes()).toBe(1);
    await manager.stop();
  });

  it(`${CYCLES} logins and logouts on one key leave nothing`, async () => {
    const { manager } = simulatedManager();
    for (let i = 0; i < CYCLES; i++) {
      await manager.setToken('k', login(i % 50));
      await manager.remove('k', { revoke: false });
    }
    expect(held(manager).credentials()).toBe(0);
    expect(held(manager).scheduledWakes()).toBe(0);
    await manager.stop();
  });

  it('background refreshes of many credentials over many hours keep one wake-up per credential', async () => {
    const { clock, manager } = simulatedManager();
    for (let i = 0; i < 50; i++) await manager.setToken(`u${i}`, { ...login(), expires_in: 600 + i });
    for (let hour = 0; hour < 12; hour++) await advance(clock, 3_600_000);
    expect(held(manager).credentials()).toBe(50);
    expect(held(manager).scheduledWakes()).toBeLessThanOrEqual(50);
    await manager.stop();
  });
});

describe('remove() lets go of a credential something still holds', () => {
  it('a refresh in flight: waiters get not_found, its late result neither revives nor stores the credential', async () => {
    const { endpoint, manager, storage } = simulatedManager();
    const events: TokenEvent[] = [];
    manager.subscribe((event) => events.push(event));
    await manager.setToken('k', login());
    endpoint.next({ kind: 'hold' });
    const refreshing = manager.refresh('k');
    await settle();
    const waiters = Array.from({ length: 5 }, () => manager.getToken('k'));
    await settle();
    await manager.remove('k', { revoke: false });
    expect(held(manager).credentials()).toBe(0);
    for (const waiter of waiters) await expect(waiter).rejects.toMatchObject({ code: 'not_found' });
    endpoint.release();
    await expect(refreshing).rejects.toBeDefined();
    await settle();
    expect(held(manager).credentials()).toBe(0);
    expect(held(manager).scheduledWakes()).toBe(0);
    expect(await storage.get('k')).toBeUndefined();
    expect(events.filter((e) => e.type === 'refreshed' || e.type === 'reauth_required')).toEqual([]);
    await manager.stop();
  });

  it('a pending write retry: it is cancelled and the key stays removed', async () => {
    const inner = memoryStorage();
    let failing = false;
    const storage: TokenStorage = {
      get: (key) => inner.get(key),
      delete: (key) => inner.delete(key),
      set: (key, record, options) => (failing ? Promise.reject(new Error('disk full')) : inner.set(key, record, options)),
    };
    const { clock, manager } = simulatedManager({ storage });
    await manager.setToken('k', login());
    failing = true;
    await manager.refresh('k'); // served from memory; a write retry is scheduled
    failing = false;
    await manager.remove('k', { revoke: false });
    await advance(clock, 120_000);
    expect(await inner.get('k')).toBeUndefined();
    expect(held(manager).credentials()).toBe(0);
    await manager.stop();
  });

  it('a key whose actor a caller watches stays, idle, with that same actor', async () => {
    const { manager } = simulatedManager();
    await manager.setToken('k', login());
    const actor = manager.actor('k');
    await manager.remove('k', { revoke: false });
    expect(manager.actor('k')).toBe(actor);
    expect(manager.status('k').state).toBe('idle');
    await manager.setToken('k', login(1));
    expect(manager.actor('k')).toBe(actor);
    expect(manager.status('k').state).toBe('valid');
    await manager.stop();
  });

  it("another process's write to a removed key is not taken in until the key is asked for", async () => {
    const { clock, manager, storage, endpoint } = simulatedManager();
    const other = createTokenManager({ endpoint, storage, clock });
    await manager.setToken('k', login());
    await manager.remove('k', { revoke: false });
    await other.setToken('k', login(7));
    await settle();
    expect(held(manager).credentials()).toBe(0);
    expect((await manager.getToken('k')).accessToken).toBe('at-login-7');
    await other.stop();
    await manager.stop();
  });
});
