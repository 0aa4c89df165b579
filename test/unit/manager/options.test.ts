/**
 * The manager's options (issue 8): each refusal names what is wrong, the edges of the allowed ranges
 * are accepted, and a clock is refused unless it has all three functions. Complements
 * manager/bad-config.test.ts, which checks the error codes.
 */
import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../../machines/lifecycle/errors.js';
import { createTokenManager } from '../../../machines/manager/manager.js';
import { DEFAULTS, normalizeOptions } from '../../../machines/manager/options.js';
import type { TokenManagerOptions } from '../../../machines/manager/api-types.js';
import type { Clock } from '../../../machines/lifecycle/types.js';
import { advance, scriptedEndpoint, settle } from '../../support/fake-endpoint.js';

function refusal(make: () => unknown): InvalidConfigError {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidConfigError);
    return error as InvalidConfigError;
  }
  throw new Error('expected an InvalidConfigError');
}

const endpoint = scriptedEndpoint();
const noop = (): void => undefined;

describe('a refusal says which option is wrong', () => {
  it.each<[string, unknown, RegExp]>([
    ['no options', undefined, /options are required/],
    ['null options', null, /options are required/],
    ['a null endpoint', { endpoint: null }, /endpoint must be an object with a refresh\(\) method/],
    ['an endpoint without refresh()', { endpoint: {} }, /endpoint must be an object with a refresh\(\) method/],
    ['refreshJitter above 1', { endpoint, refreshJitter: 1.01 }, /refreshJitter must be a fraction between 0 and 1/],
    ['refreshJitter negative', { endpoint, refreshJitter: -0.01 }, /refreshJitter must be a fraction between 0 and 1/],
    ['maxConcurrentRefreshes 0', { endpoint, maxConcurrentRefreshes: 0 }, /maxConcurrentRefreshes must be ≥ 1/],
    ['maxConcurrentRefreshes 0.5', { endpoint, maxConcurrentRefreshes: 0.5 }, /maxConcurrentRefreshes must be ≥ 1/],
    ['lockTtl 0', { endpoint, lockTtl: 0 }, /^lockTtl must be longer than 0$/],
    ['lockTtl "0s"', { endpoint, lockTtl: '0s' }, /^lockTtl must be longer than 0$/],
  ])('%s', (_, options, message) => {
    expect(refusal(() => createTokenManager(options as TokenManagerOptions)).message).toMatch(message);
  });

  // Each of the three functions is needed on its own: a clock missing any one is refused.
  const complete: Clock = { now: () => 0, setTimeout: () => 0, clearTimeout: noop };
  it.each(['now', 'setTimeout', 'clearTimeout'] as const)('a clock without %s()', (missing) => {
    const clock = { ...complete, [missing]: undefined } as unknown as Clock;
    expect(refusal(() => createTokenManager({ endpoint, clock })).message).toBe('clock must have now(), setTimeout() and clearTimeout()');
  });
  it.each(['now', 'setTimeout', 'clearTimeout'] as const)('a clock whose %s is not a function', (missing) => {
    const clock = { ...complete, [missing]: 42 } as unknown as Clock;
    expect(refusal(() => createTokenManager({ endpoint, clock })).code).toBe('invalid_config');
  });
});

describe('the edges of the allowed ranges are accepted', () => {
  it('refreshJitter 0 and 1', () => {
    expect(normalizeOptions({ endpoint, refreshJitter: 0 }).jitterFraction).toBe(0);
    expect(normalizeOptions({ endpoint, refreshJitter: 1 }).jitterFraction).toBe(1);
  });

  it('maxConcurrentRefreshes 1: one refresh at a time, the next waits its turn', async () => {
    const clock = new SimulatedClock();
    clock.set(1_000_000);
    const ep = scriptedEndpoint();
    const manager = createTokenManager({ endpoint: ep, clock, maxConcurrentRefreshes: 1, backgroundRefresh: false, random: () => 0 });
    await manager.setToken('a', { access_token: 'a0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'ra' });
    await manager.setToken('b', { access_token: 'b0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rb' });
    ep.next({ kind: 'hold' });
    const a = manager.refresh('a');
    const b = manager.refresh('b');
    await settle();
    expect(ep.received).toEqual(['ra']);
    ep.release();
    await a;
    await b;
    expect(ep.received).toEqual(['ra', 'rb']);
    await manager.stop();
  });

  it('a tiny positive lockTtl', () => {
    expect(normalizeOptions({ endpoint, lockTtl: 1 }).lockTtlMs).toBe(1);
  });
});

describe('defaults', () => {
  it('fills every option that is left out', () => {
    const settings = normalizeOptions({ endpoint });
    expect(settings).toMatchObject({
      endpoint,
      thresholdMs: 5 * 60_000,
      backgroundRefresh: true,
      minIntervalMs: 2_000,
      jitterFraction: 0,
      maxConcurrentRefreshes: Number.POSITIVE_INFINITY,
      lockTtlMs: 30_000,
      stopTimeoutMs: 10_000,
      onReauthRequired: undefined,
      inspect: undefined,
      random: Math.random,
    });
    expect(DEFAULTS).toEqual({ refreshThreshold: '5m', minRefreshInterval: '2s', lockTtl: '30s', stopTimeout: '10s' });
    expect(typeof settings.storage.get).toBe('function');
  });

  it('keeps what is given', () => {
    const random = (): number => 0.25;
    const onReauthRequired = noop;
    const settings = normalizeOptions({
      endpoint,
      refreshThreshold: '1m',
      backgroundRefresh: false,
      minRefreshInterval: 0,
      refreshJitter: 0.5,
      maxConcurrentRefreshes: 3,
      lockTtl: '5s',
      stopTimeout: '1s',
      onReauthRequired,
      random,
    });
    expect(settings).toMatchObject({
      thresholdMs: 60_000,
      backgroundRefresh: false,
      minIntervalMs: 0,
      jitterFraction: 0.5,
      maxConcurrentRefreshes: 3,
      lockTtlMs: 5_000,
      stopTimeoutMs: 1_000,
      onReauthRequired,
      random,
    });
  });

  it('the injected clock drives time (wrapped for long timers)', async () => {
    const clock = new SimulatedClock();
    clock.set(7_000);
    const settings = normalizeOptions({ endpoint, clock });
    expect(settings.clock.now()).toBe(7_000);
    let fired = 0;
    settings.clock.setTimeout(() => fired++, 500);
    await advance(clock, 499);
    expect(fired).toBe(0);
    await advance(clock, 1);
    expect(fired).toBe(1);
  });
});
