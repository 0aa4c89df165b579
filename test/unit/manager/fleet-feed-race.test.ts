/**
 * R7 across instances: no second refresh in one cycle when the change feed adopts another
 * instance's result just after our own refresh began (seen in fleet-processes under load).
 *
 * Manager B hears A's result on the change feed while B is not refreshing, and starts reading it;
 * before that read is answered B's own refresh begins. The read lands while B is `refreshing`
 * (announceRecord leaves it alone), so B's storedVersion already equals the stored version; under
 * the lock, reconcileStored finds nothing newer and B refreshes again with A's new refresh token.
 * On Redis the order is natural: the feed's GET was sent before B's lock script, so it is answered first.
 */
import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createTokenManager } from '../../../machines/manager/manager.js';
import { memoryStorage } from '../../../machines/manager/memory-storage.js';
import type { TokenStorage } from '../../../machines/lifecycle/types.js';
import { scriptedEndpoint, settle } from '../../support/fake-endpoint.js';

const T0 = 1_000_000;
const KEY = 'shared';
const login = { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' };

describe('a change-feed adoption racing the start of a refresh (R7)', () => {
  it("B adopts A's result from the change feed after its own refresh began: B sends nothing", async () => {
    const clock = new SimulatedClock();
    clock.set(T0);
    const shared = memoryStorage({ now: () => clock.now() });
    const endpoint = scriptedEndpoint();
    // B's view of the store: its read of A's result (not of A's marker) is held, and its lock reply
    // comes after that read's reply, as on one Redis connection where the read was sent first.
    const gate: { armed: boolean; held: (() => void) | undefined } = { armed: false, held: undefined };
    const storageB: TokenStorage = {
      async get(key) {
        const record = await shared.get(key);
        if (gate.armed && record !== undefined && record.accessToken !== 'at-0') {
          gate.armed = false;
          await new Promise<void>((resolve) => (gate.held = resolve));
        }
        return record;
      },
      set: (key, record, options) => shared.set(key, record, options),
      delete: (key) => shared.delete(key),
      keys: () => shared.keys(),
      async lock(key, ttlMs) {
        const held = gate.held;
        gate.held = undefined;
        if (held) {
          held();
          await settle();
        }
        return shared.lock(key, ttlMs);
      },
      subscribe: (listener) => shared.subscribe(listener),
    };
    const options = { endpoint, clock, refreshThreshold: '5m', backgroundRefresh: false, random: () => 0 };
    const a = createTokenManager({ ...options, storage: shared });
    const b = createTokenManager({ ...options, storage: storageB });
    await a.setToken(KEY, login);
    await b.getToken(KEY); // loads the credential and subscribes B to the change feed

    // Both are due: the refresh window of the 1 h token is open.
    clock.set(T0 + 3_600_000 - 4 * 60_000);
    gate.armed = true;
    expect((await a.getToken(KEY)).accessToken).toBe('at-1');
    await settle();
    expect(gate.held).toBeDefined(); // B's feed read of A's result is in flight

    // B's own refresh begins now (its timer or a caller), before that read is answered.
    const token = await b.getToken(KEY);
    await settle();

    // One refresh for the cycle: B takes A's token, it does not send A's new refresh token again.
    expect(endpoint.received).toEqual(['rt-0']);
    expect(token.accessToken).toBe('at-1');
    await Promise.all([a.stop(), b.stop()]);
  });
});
