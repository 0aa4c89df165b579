/**
 * The failure reporting both renewal runners share (machines/manager/refresh-failure.ts): the retry
 * time from the backoff policy (capped, permanent never retried) and a code that holds no token.
 */
import { describe, expect, it } from 'vitest';
import { normalizeRetry } from '../../../machines/lifecycle/backoff.js';
import { retryAtFor, withSafeCode } from '../../../machines/manager/refresh-failure.js';
import type { ManagerSettings } from '../../../machines/manager/options.js';

const settings = {
  retry: normalizeRetry({ minDelay: '1s', maxDelay: '8s', jitter: 0 }),
  minIntervalMs: 0,
  random: () => 0.5,
} as unknown as ManagerSettings;

describe('a renewal failure', () => {
  it('is retried after the backoff delay, growing with the attempt', () => {
    expect(retryAtFor(settings, { kind: 'transient', code: 'network_error' }, 0, 10_000)).toBe(11_000);
    expect(retryAtFor(settings, { kind: 'transient', code: 'network_error' }, 2, 10_000)).toBe(14_000);
  });

  it('is retried no later than the cap it is given', () => {
    expect(retryAtFor(settings, { kind: 'transient', code: 'refresh_in_progress' }, 3, 10_000, 12_500)).toBe(12_500);
  });

  it('honours a server\'s Retry-After over the backoff', () => {
    expect(retryAtFor(settings, { kind: 'transient', code: 'temporarily_unavailable', retryAfterMs: 5_000 }, 0, 10_000)).toBe(15_000);
  });

  it('is never retried when permanent', () => {
    expect(retryAtFor(settings, { kind: 'permanent', code: 'invalid_grant' }, 0, 10_000)).toBeUndefined();
  });

  it('shows no code that holds one of the credential\'s tokens', () => {
    expect(withSafeCode({ kind: 'transient', code: 'echo secret-token' }, ['secret-token']).code).toBe('refresh_failed');
    expect(withSafeCode({ kind: 'permanent', code: 'bad secret-token' }, ['secret-token']).code).toBe('unexpected_response');
    expect(withSafeCode({ kind: 'permanent', code: 'invalid_grant' }, ['secret-token']).code).toBe('invalid_grant');
  });
});
