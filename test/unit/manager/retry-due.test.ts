/**
 * A failed refresh's retry is not lost to whoever looks first (R5). In `degraded.retrying` the
 * retry timer refreshes at `retryAt`; a caller whose `getToken()` arrives after `retryAt` but before
 * that timer has run (a busy event loop) must get the same: the retry sent, not the credential taken
 * as settled because its token is still far from expiry (and the failure forgotten).
 */
import { describe, expect, it } from 'vitest';
import { createTokenManager } from '../../../machines/manager/manager.js';
import { memoryStorage } from '../../../machines/manager/memory-storage.js';
import { RefreshFailedError } from '../../../machines/lifecycle/errors.js';
import type { Clock } from '../../../machines/lifecycle/types.js';
import { scriptedEndpoint } from '../../support/fake-endpoint.js';
import { lifecycleRejection } from '../../support/rejection.js';

const T0 = 10_000_000;
const login = { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' };

/** A clock whose timers never run by themselves: time passes, the retry timer is late. */
function lateTimers(): Clock & { at: number } {
  return { at: T0, now() { return this.at; }, setTimeout: () => ({}), clearTimeout: () => undefined };
}

async function failedOnce(backgroundRefresh: boolean) {
  const clock = lateTimers();
  const endpoint = scriptedEndpoint();
  const manager = createTokenManager({
    endpoint,
    storage: memoryStorage({ now: () => clock.now() }),
    clock,
    random: () => 0,
    backgroundRefresh,
    retry: { minDelay: '1s', maxDelay: '1s', jitter: 0 },
  });
  await manager.setToken('k', login);
  endpoint.next({ kind: 'throw', error: new RefreshFailedError('the token endpoint is down') });
  expect(await lifecycleRejection(manager.refresh('k'))).toMatchObject({ code: 'refresh_failed' });
  const status = manager.status('k');
  expect(status).toMatchObject({ state: 'degraded', detail: 'retrying' });
  const retryAt = status.retryAt as number;
  expect(retryAt).toBeGreaterThan(T0);
  return { clock, endpoint, manager, retryAt };
}

describe('a retry that is due when a caller looks', () => {
  it('getToken() after retryAt sends the retry (the token still far from expiry) and gets its result', async () => {
    const { clock, endpoint, manager, retryAt } = await failedOnce(true);
    clock.at = retryAt + 500;
    // The caller joins the retry it set off (R7), as it would have joined the timer's.
    expect((await manager.getToken('k')).accessToken).toBe('at-1');
    expect(endpoint.received).toEqual(['rt-0', 'rt-0']);
    expect(manager.status('k')).toMatchObject({ state: 'valid' });
    expect(manager.status('k').lastError).toBeUndefined();
    await manager.stop();
  });

  it('before retryAt nothing is sent: still degraded.retrying', async () => {
    const { clock, endpoint, manager, retryAt } = await failedOnce(true);
    clock.at = retryAt - 500;
    expect((await manager.getToken('k')).accessToken).toBe('at-0');
    expect(endpoint.received).toEqual(['rt-0']);
    expect(manager.status('k')).toMatchObject({ state: 'degraded', detail: 'retrying' });
    await manager.stop();
  });

  it('with background refresh off there is no retry to lose: a fresh token is just served', async () => {
    const { clock, endpoint, manager, retryAt } = await failedOnce(false);
    clock.at = retryAt + 500;
    expect((await manager.getToken('k')).accessToken).toBe('at-0');
    expect(endpoint.received).toEqual(['rt-0']);
    await manager.stop();
  });
});
