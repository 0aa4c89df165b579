/**
 * remove() (logout) while a write retry of the same credential is in flight: the retry's conflict
 * must not bring the removed credential back to life (no LOADED without tokens, no reauth_required).
 */
import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createTokenManager } from '../../../machines/manager/manager.js';
import type { TokenEvent } from '../../../machines/manager/api-types.js';
import { memoryStorage } from '../../../machines/manager/memory-storage.js';
import type { TokenStorage } from '../../../machines/lifecycle/types.js';
import { advance, scriptedEndpoint, settle } from '../../support/fake-endpoint.js';

const T0 = 10_000_000;
const login = { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' };

describe('remove() during a write retry', () => {
  it('the removed credential stays idle and nothing announces a re-authentication', async () => {
    const clock = new SimulatedClock();
    clock.set(T0);
    const inner = memoryStorage({ now: () => clock.now() });
    const writes: { mode: 'ok' | 'fail' | 'hold'; release?: () => void } = { mode: 'ok' };
    const storage: TokenStorage = {
      ...inner,
      get: (key) => inner.get(key),
      delete: (key) => inner.delete(key),
      async set(key, record, options) {
        if (writes.mode === 'fail') throw new Error('disk full');
        if (writes.mode === 'hold') await new Promise<void>((resolve) => (writes.release = resolve));
        return inner.set(key, record, options);
      },
    };
    const manager = createTokenManager({ endpoint: scriptedEndpoint(), storage, clock, random: () => 0, lockTtl: '30s' });
    const events: TokenEvent[] = [];
    manager.subscribe((event) => events.push(event));
    await manager.setToken('k', login);

    writes.mode = 'fail';
    await manager.refresh('k'); // the new tokens stay in memory; a write retry is scheduled
    expect(events.some((e) => e.type === 'storage_failed')).toBe(true);

    writes.mode = 'hold';
    await advance(clock, 30_000); // the retry starts and its write is held
    expect(writes.release).toBeDefined();

    await manager.remove('k', { revoke: false });
    writes.mode = 'ok';
    writes.release?.(); // the held write now meets an emptied key: a conflict
    await settle(20);

    expect(manager.status('k').state).toBe('idle');
    expect(events.filter((e) => e.type === 'reauth_required')).toEqual([]);
    expect(await inner.get('k')).toBeUndefined();
    await manager.stop();
  });
});
