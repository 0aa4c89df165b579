import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createTokenManager } from '../../../machines/manager/manager.js';
import { memoryStorage } from '../../../machines/manager/memory-storage.js';
import { advance, scriptedEndpoint } from '../../support/fake-endpoint.js';

const HOUR = 3_600_000;

function setup() {
  const clock = new SimulatedClock();
  clock.set(1_000_000);
  const endpoint = scriptedEndpoint({ expiresIn: 3600 });
  const manager = createTokenManager({ endpoint, storage: memoryStorage({ now: () => clock.now() }), clock, backgroundRefresh: false });
  return { clock, endpoint, manager };
}

describe('getToken on a fresh token hands back one settled promise per token', () => {
  it('returns a Promise, the same one on every call while the token is the same', async () => {
    const { manager } = setup();
    await manager.setToken('k', { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' });
    const first = manager.getToken('k');
    expect(first).toBeInstanceOf(Promise);
    expect(manager.getToken('k')).toBe(first);
    expect((await first).accessToken).toBe('at-0');
    expect(await manager.getToken('k')).toBe(manager.peekToken('k'));
    await manager.stop();
  });

  it('a new token (refresh, setToken) gets a new promise resolving to it, never the old token', async () => {
    const { clock, manager } = setup();
    await manager.setToken('k', { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' });
    const before = manager.getToken('k');
    await manager.refresh('k');
    const afterRefresh = manager.getToken('k');
    expect(afterRefresh).not.toBe(before);
    expect((await afterRefresh).accessToken).toBe('at-1');
    await manager.setToken('k', { access_token: 'at-set', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-set' });
    expect((await manager.getToken('k')).accessToken).toBe('at-set');
    // Past its refresh moment the held promise is not used: the caller waits for the refresh.
    await advance(clock, HOUR);
    expect((await manager.getToken('k')).accessToken).toBe('at-2');
    await manager.stop();
  });

  it('still rejects (never throws) when there is nothing to serve, or the clock throws', async () => {
    const { manager } = setup();
    const missing = manager.getToken('nobody');
    expect(missing).toBeInstanceOf(Promise);
    await expect(missing).rejects.toMatchObject({ code: 'not_found' });

    let clockBroke = false;
    const broken = createTokenManager({
      endpoint: scriptedEndpoint({ expiresIn: 3600 }),
      backgroundRefresh: false,
      clock: {
        now: () => {
          if (clockBroke) throw new Error('clock broke');
          return 1_000_000;
        },
        setTimeout: () => 0,
        clearTimeout: () => undefined,
      },
    });
    await broken.setToken('k', { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' });
    clockBroke = true;
    let result: Promise<unknown> | undefined;
    expect(() => { result = broken.getToken('k'); }).not.toThrow();
    await expect(result).rejects.toThrow('clock broke');
    await manager.stop();
  });

  it('after stop() a fresh token is no longer served: stopped', async () => {
    const { manager } = setup();
    await manager.setToken('k', { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' });
    await manager.getToken('k');
    await manager.stop();
    await expect(manager.getToken('k')).rejects.toMatchObject({ code: 'stopped' });
  });
});
