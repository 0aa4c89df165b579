/**
 * simulatedEndpoint(): scripted answers of a token endpoint, recorded calls.
 */
import { describe, expect, it } from 'vitest';
import { createTokenManager, InvalidGrantError, RefreshFailedError } from '../../../index.js';
import { manualClock, simulatedEndpoint } from '../../../testing/index.js';

describe('simulatedEndpoint', () => {
  it('answers rotated, numbered tokens by default and records each call', async () => {
    const clock = manualClock({ start: 100 });
    const endpoint = simulatedEndpoint({ clock, initialRefreshToken: 'rt-0' });
    expect(await endpoint.refresh('rt-0')).toEqual({ access_token: 'at-1', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-1' });
    await clock.advance(5);
    expect(await endpoint.refresh('rt-1')).toMatchObject({ access_token: 'at-2', refresh_token: 'rt-2' });
    expect(endpoint.calls).toEqual([
      { refreshToken: 'rt-0', at: 100, outcome: 'rotate', settled: true },
      { refreshToken: 'rt-1', at: 105, outcome: 'rotate', settled: true },
    ]);
    expect(endpoint.currentRefreshToken).toBe('rt-2');
    expect(endpoint.lastAccessToken).toBe('at-2');
  });

  it('token exchange fails as a refresh does: transient with retryAfter and status, invalid_grant', async () => {
    const endpoint = simulatedEndpoint();
    endpoint.scriptExchange({ type: 'transient', retryAfter: 5_000, status: 429 }, 'invalid_grant');
    const request = { subjectToken: 'at-parent', subjectTokenType: 'urn:ietf:params:oauth:token-type:access_token' } as const;
    expect(await endpoint.tokenExchange(request).catch((e: unknown) => e)).toMatchObject({ code: 'refresh_failed', retryable: true, retryAfter: 5_000, status: 429 });
    expect(await endpoint.tokenExchange(request).catch((e: unknown) => e)).toBeInstanceOf(InvalidGrantError);
    expect(endpoint.exchanges.map((e) => [e.outcome, e.settled])).toEqual([['transient', true], ['invalid_grant', true]]);
  });

  it('plays scripted outcomes in order: ok keeps the refresh token, a transient failure, a rejection', async () => {
    const endpoint = simulatedEndpoint({ expiresIn: null });
    endpoint.script('ok', { type: 'transient', retryAfter: 30_000, status: 429 }, 'invalid_grant', 'transient');
    expect(await endpoint.refresh('rt-a')).toEqual({ access_token: 'at-1', token_type: 'Bearer' });
    expect(endpoint.currentRefreshToken).toBe('rt-a');
    const transient = await endpoint.refresh('rt-a').catch((e: unknown) => e);
    expect(transient).toBeInstanceOf(RefreshFailedError);
    expect(transient).toMatchObject({ code: 'refresh_failed', retryable: true, retryAfter: 30_000, status: 429 });
    const rejected = await endpoint.refresh('rt-a').catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(InvalidGrantError);
    expect(rejected).toMatchObject({ code: 'invalid_grant', retryable: false, status: 400 });
    const plain = await endpoint.refresh('rt-a').catch((e: unknown) => e);
    expect(plain).toMatchObject({ code: 'refresh_failed', status: 503 });
    expect((plain as { retryAfter?: number }).retryAfter).toBeUndefined();
    expect(endpoint.scripted).toBe(0);
    expect(endpoint.calls.map((c) => c.outcome)).toEqual(['ok', 'transient', 'invalid_grant', 'transient']);
  });

  it('a hung call waits until answer(), which takes the outcome to give', async () => {
    const endpoint = simulatedEndpoint();
    endpoint.script('hang', 'hang');
    const first = endpoint.refresh('rt-0');
    const second = endpoint.refresh('rt-0').catch((e: unknown) => e);
    await Promise.resolve();
    expect(endpoint.hanging).toBe(2);
    expect(endpoint.calls.map((c) => c.settled)).toEqual([false, false]);
    expect(endpoint.answer()).toBe(true);
    expect(endpoint.answer('invalid_grant')).toBe(true);
    expect(endpoint.answer()).toBe(false);
    expect(await first).toMatchObject({ access_token: 'at-1' });
    expect(await second).toBeInstanceOf(InvalidGrantError);
    expect(endpoint.calls.map((c) => [c.outcome, c.settled])).toEqual([
      ['rotate', true],
      ['invalid_grant', true],
    ]);
  });

  it('a hung call ends when its signal aborts', async () => {
    const endpoint = simulatedEndpoint();
    endpoint.script('hang');
    const controller = new AbortController();
    const call = endpoint.refresh('rt-0', { signal: controller.signal }).catch((e: unknown) => e);
    controller.abort(new Error('gone'));
    expect(await call).toMatchObject({ message: 'gone' });
    expect(endpoint.hanging).toBe(0);
    expect(endpoint.calls[0]?.outcome).toBe('aborted');
  });

  it('a slow answer comes after its delay on the clock, then the outcome it names', async () => {
    const clock = manualClock({ start: 0 });
    const endpoint = simulatedEndpoint({ clock });
    endpoint.script({ type: 'slow', ms: 10_000, then: 'transient' });
    let result: unknown;
    void endpoint.refresh('rt-0').catch((e: unknown) => (result = e));
    await clock.advance(9_999);
    expect(result).toBeUndefined();
    await clock.advance(1);
    expect(result).toMatchObject({ code: 'refresh_failed' });
  });

  it('throws a custom error as given', async () => {
    const endpoint = simulatedEndpoint();
    const error = Object.assign(new Error('socket hang up'), { retryable: true });
    endpoint.script({ type: 'error', error });
    await expect(endpoint.refresh('rt-0')).rejects.toBe(error);
  });

  it('refuses outcomes it does not know, at script time', () => {
    const endpoint = simulatedEndpoint();
    expect(() => endpoint.script('teapot' as never)).toThrow(/unknown simulated outcome/);
    expect(() => endpoint.script({ type: 'slow', ms: -1 })).toThrow(/ms ≥ 0/);
    expect(() => endpoint.script(null as never)).toThrow(TypeError);
    expect(endpoint.scripted).toBe(0);
  });

  it('with reuse detection, a refresh token already rotated away is rejected whatever is scripted', async () => {
    const endpoint = simulatedEndpoint({ rejectSpentRefreshTokens: true });
    expect(await endpoint.refresh('rt-login')).toMatchObject({ refresh_token: 'rt-1' });
    endpoint.script('rotate');
    await expect(endpoint.refresh('rt-login')).rejects.toBeInstanceOf(InvalidGrantError);
    expect(await endpoint.refresh('rt-1')).toMatchObject({ refresh_token: 'rt-2' });
    expect(endpoint.calls.map((c) => [c.refreshToken, c.outcome])).toEqual([
      ['rt-login', 'rotate'],
      ['rt-login', 'invalid_grant'],
      ['rt-1', 'rotate'],
    ]);
    // Without it (the default), the same replay is answered as scripted.
    const lenient = simulatedEndpoint();
    await lenient.refresh('rt-login');
    expect(await lenient.refresh('rt-login')).toMatchObject({ refresh_token: 'rt-2' });
  });

  it('records revocations; renews without a refresh token when told to (client_credentials)', async () => {
    const endpoint = simulatedEndpoint({ canRenewWithoutRefreshToken: true });
    expect(endpoint.canRenewWithoutRefreshToken).toBe(true);
    expect(await endpoint.refresh(undefined)).not.toHaveProperty('refresh_token');
    await endpoint.revoke?.('rt-9');
    expect(endpoint.revoked).toEqual(['rt-9']);
  });

  it('drives a real manager into degraded and back: a 503 with Retry-After, then tokens', async () => {
    const clock = manualClock();
    const endpoint = simulatedEndpoint({ clock });
    const manager = createTokenManager({ endpoint, clock, random: () => 0 });
    await manager.setToken('k', { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' });
    endpoint.script({ type: 'transient', retryAfter: 60_000 });
    await expect(manager.refresh('k')).rejects.toMatchObject({ code: 'refresh_failed' });
    expect(manager.status('k')).toMatchObject({ state: 'degraded', detail: 'retrying', retryAt: clock.now() + 60_000 });
    await clock.advance(60_000);
    expect(manager.status('k').state).toBe('valid');
    expect(endpoint.calls.map((c) => [c.refreshToken, c.outcome])).toEqual([
      ['rt-0', 'transient'],
      ['rt-0', 'rotate'],
    ]);
    await manager.stop();
  });
});
