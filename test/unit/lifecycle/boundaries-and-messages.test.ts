/**
 * Pure parts of machines/ (backoff, classify, credential, duration, errors, machine-rules,
 * memory-storage, refresh-policy, token-response): behaviour the other unit tests left unpinned and
 * mutation testing found (docs/mutation.md). Exact values where the contract fixes them (FNV-1a
 * fleet jitter, messages naming the setting), boundaries, and absent fields staying absent.
 */
import { describe, expect, it } from 'vitest';
import { normalizeRetry, seededRandom } from '../../../machines/lifecycle/backoff.js';
import { classifyFailure } from '../../../machines/lifecycle/classify.js';
import { createCredential, metaOf, stateOfValue, viewOf } from '../../../machines/manager/credential.js';
import { parseDuration } from '../../../machines/lifecycle/duration.js';
import { InvalidGrantError, OAuthServerError, RefreshFailedError, StorageConflictError } from '../../../machines/lifecycle/errors.js';
import * as rules from '../../../machines/lifecycle/machine-rules.js';
import type { TokenMachineContext, TokenMeta } from '../../../machines/lifecycle/machine-types.js';
import { memoryStorage } from '../../../machines/manager/memory-storage.js';
import { refreshAt, refreshJitterFor } from '../../../machines/lifecycle/refresh-policy.js';
import { checkTokenResponse, checkTokenSet } from '../../../machines/lifecycle/token-response.js';
import type { TokenRecord } from '../../../machines/lifecycle/types.js';

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a throw');
}

describe('backoff: messages name the setting; seededRandom is stable', () => {
  it.each([
    [{ minDelay: 'soon' }, 'retry.minDelay'],
    [{ maxDelay: 'soon' }, 'retry.maxDelay'],
    [{ minDelay: '2s', maxDelay: '1s' }, 'retry.maxDelay must be ≥ retry.minDelay'],
    [{ factor: 0.5 }, 'retry.factor'],
    [{ jitter: 2 }, 'retry.jitter'],
  ])('%j → a message with %s', (options, text) => {
    expect(messageOf(() => normalizeRetry(options))).toContain(text);
  });

  it('gives the same numbers in every process and release (pinned values)', () => {
    expect(seededRandom(42, 0)).toBe(0.5883207698352635);
    expect(seededRandom(42, 3)).toBe(0.6444680672138929);
    expect(seededRandom(0, 0)).toBe(0.8439714489504695);
    expect(seededRandom(1, 0)).toBe(0.7171811116859317);
  });
});

describe('classifyFailure: only what is there, and only well-formed codes are permanent', () => {
  it('adds retryAfterMs only when the error has a usable one', () => {
    expect(Object.keys(classifyFailure(new RefreshFailedError()))).toEqual(['kind', 'code']);
    expect(Object.keys(classifyFailure({ code: 'invalid_grant' }))).toEqual(['kind', 'code']);
    for (const retryAfter of [-1, Number.NaN, Number.POSITIVE_INFINITY, '30']) {
      expect(classifyFailure({ retryable: true, retryAfter })).not.toHaveProperty('retryAfterMs');
    }
    expect(classifyFailure({ retryable: true, retryAfter: 0 })).toStrictEqual({ kind: 'transient', code: 'refresh_failed', retryAfterMs: 0 });
  });

  it('a foreign error with a non-string code, or saying retryable: true, is transient', () => {
    expect(classifyFailure({ code: 42, retryable: false })).toStrictEqual({ kind: 'transient', code: 'refresh_failed' });
    expect(classifyFailure({ code: 'invalid_grant', retryable: true })).toStrictEqual({ kind: 'transient', code: 'refresh_failed' });
    expect(classifyFailure({ code: '' })).toStrictEqual({ kind: 'transient', code: 'refresh_failed' });
  });

  it('a foreign code is permanent only when it is all lowercase letters and underscores (or retryable: false)', () => {
    for (const code of ['abc-DEF', 'DEF-abc', 'ECONNRESET', 'fetch failed']) {
      expect(classifyFailure({ code }).kind).toBe('transient');
    }
    expect(classifyFailure({ code: 'invalid_scope' })).toStrictEqual({ kind: 'permanent', code: 'invalid_scope' });
    expect(classifyFailure({ code: 'ECONNRESET', retryable: false })).toStrictEqual({ kind: 'permanent', code: 'ECONNRESET' });
  });
});

describe('credential', () => {
  it('starts idle, unloaded, with nothing pending', () => {
    expect(createCredential('k')).toStrictEqual({
      key: 'k',
      loaded: false,
      record: undefined,
      storedVersion: 0,
      view: undefined,
      served: undefined,
      freshUntil: Number.NEGATIVE_INFINITY,
      actor: undefined,
      state: 'idle',
      detail: undefined,
      settleWaiters: undefined,
      joined: undefined,
      refreshSeq: 0,
      lastFailure: undefined,
      quiet: undefined,
      inflight: undefined,
      reauthAnnounced: false,
      dormant: false,
      wakeIndex: -1,
      pinned: false,
      history: {},
      writeRetry: undefined,
      spent: undefined,
      removed: false,
    });
  });

  const full: TokenRecord = {
    accessToken: 'AT',
    tokenType: 'Bearer',
    expiresAt: 9_000,
    obtainedAt: 1_000,
    refreshToken: 'RT',
    scope: 'a b',
    idToken: 'ID',
    rejection: 'invalid_grant',
    retryAt: 5_000,
    version: 3,
  };
  const bare: TokenRecord = { accessToken: 'AT', tokenType: 'Bearer', obtainedAt: 1_000, version: 1 };

  it('metaOf: no token values, and only the fields the record has', () => {
    expect(metaOf(undefined, 77)).toStrictEqual({ hasAccessToken: false, hasRefreshToken: false, obtainedAt: 77, version: 0 });
    expect(metaOf(full, 0)).toStrictEqual({
      hasAccessToken: true,
      hasRefreshToken: true,
      obtainedAt: 1_000,
      version: 3,
      expiresAt: 9_000,
      rejection: 'invalid_grant',
      retryAt: 5_000,
    });
    expect(metaOf(bare, 0)).toStrictEqual({ hasAccessToken: true, hasRefreshToken: false, obtainedAt: 1_000, version: 1 });
    expect(metaOf({ ...bare, refreshToken: '' }, 0).hasRefreshToken).toBe(false);
    expect(metaOf({ ...bare, accessToken: '' }, 0).hasAccessToken).toBe(false);
  });

  it('viewOf: a frozen TokenSet with only the fields the record has; none for an empty token (R9)', () => {
    const view = viewOf(full);
    expect(view).toStrictEqual({ accessToken: 'AT', tokenType: 'Bearer', expiresAt: 9_000, refreshToken: 'RT', scope: 'a b', idToken: 'ID' });
    expect(Object.isFrozen(view)).toBe(true);
    expect(viewOf(bare)).toStrictEqual({ accessToken: 'AT', tokenType: 'Bearer' });
    expect(viewOf({ ...bare, accessToken: '' })).toBeUndefined();
    expect(viewOf(undefined)).toBeUndefined();
  });

  it('stateOfValue: the top-level name and the degraded sub-state', () => {
    expect(stateOfValue('valid')).toStrictEqual({ state: 'valid', detail: undefined });
    expect(stateOfValue({ degraded: 'rejected' })).toStrictEqual({ state: 'degraded', detail: 'rejected' });
    expect(stateOfValue({ degraded: { deeper: 'x' } })).toStrictEqual({ state: 'degraded', detail: undefined });
    expect(stateOfValue({})).toStrictEqual({ state: 'idle', detail: undefined });
    expect(stateOfValue(null)).toStrictEqual({ state: 'idle', detail: undefined });
    expect(stateOfValue(undefined)).toStrictEqual({ state: 'idle', detail: undefined });
    expect(stateOfValue(42)).toStrictEqual({ state: 'idle', detail: undefined });
  });
});

describe('parseDuration: fractions of any length; messages', () => {
  it.each([
    ['2.25s', 2_250],
    ['.25s', 250],
    ['0.125m', 7_500],
    ['1.5', 1.5],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it('names "duration" when no setting is given, and says what type it got', () => {
    expect(messageOf(() => parseDuration(-1))).toContain('duration');
    expect(messageOf(() => parseDuration({} as never))).toBe('duration must be a number or a string, got object');
  });
});

describe('errors: messages', () => {
  it('an OAuth error without a status does not mention HTTP', () => {
    expect(new InvalidGrantError().message).toBe('The token endpoint answered invalid_grant');
    expect(new OAuthServerError('invalid_scope', { status: 400 }).message).toBe('The token endpoint answered invalid_scope (HTTP 400)');
  });
});

const T = 1_000_000;
function ctx(overrides: Partial<TokenMachineContext> = {}, token?: Partial<TokenMeta> | null): TokenMachineContext {
  const base: TokenMachineContext = {
    key: 'k',
    thresholdMs: 60_000,
    jitterFraction: 0,
    minIntervalMs: 2_000,
    backgroundRefresh: true,
    canRenewWithoutRefreshToken: false,
    retry: { minDelayMs: 1_000, maxDelayMs: 60_000, factor: 2, jitter: 0 },
    attempt: 0,
    ...overrides,
  };
  if (token === null) return base;
  return { ...base, token: { hasAccessToken: true, hasRefreshToken: true, obtainedAt: T, expiresAt: T + 3_600_000, version: 1, ...token } };
}

describe('machine-rules without a token, and at the boundaries', () => {
  it('no token: no moment, not usable, nothing needed, no waits', () => {
    const none = ctx({}, null);
    expect(rules.refreshMoment(none)).toBeUndefined();
    expect(rules.isUsable(none, T)).toBe(false);
    expect(rules.isRefreshNeeded(none, T)).toBe(false);
    expect(rules.isRetryPending(none, T)).toBe(false);
    expect(rules.msUntilRefreshWindow(none, T)).toBe(Number.POSITIVE_INFINITY);
    expect(rules.msUntilExpiry(none, T)).toBe(Number.POSITIVE_INFINITY);
    expect(rules.msUntilRetry(none, T)).toBe(0);
    expect(rules.msUntilRefreshAllowed({ ...none, lastRefreshStartedAt: T }, T)).toBe(2_000);
  });

  it('isUsable is false for an empty or expired token', () => {
    expect(rules.isUsable(ctx({}, { hasAccessToken: false }), T)).toBe(false);
    expect(rules.isUsable(ctx({}, { expiresAt: T }), T)).toBe(false);
    expect(rules.isUsable(ctx(), T)).toBe(true);
  });

  it('the minimum interval is over exactly at lastRefreshStartedAt + minInterval', () => {
    const c = ctx({ lastRefreshStartedAt: T });
    expect(rules.isMinIntervalOver(c, T + 1_999)).toBe(false);
    expect(rules.isMinIntervalOver(c, T + 2_000)).toBe(true);
  });

  it('a retry is pending strictly before retryAt', () => {
    expect(rules.isRetryPending(ctx({}, { retryAt: T + 10 }), T + 9)).toBe(true);
    expect(rules.isRetryPending(ctx({}, { retryAt: T + 10 }), T + 10)).toBe(false);
    expect(rules.isRetryPending(ctx(), T)).toBe(false);
  });

  it('waits: never negative; unknown expiry waits forever; the interval is cut short by expiry', () => {
    const unknownExpiry = ctx({}, { expiresAt: undefined });
    expect(rules.msUntilRefreshWindow(unknownExpiry, T)).toBe(Number.POSITIVE_INFINITY);
    expect(rules.msUntilExpiry(unknownExpiry, T)).toBe(Number.POSITIVE_INFINITY);
    expect(rules.msUntilRefreshAllowed({ ...unknownExpiry, lastRefreshStartedAt: T }, T + 500)).toBe(1_500);
    expect(rules.msUntilRefreshAllowed(ctx({ lastRefreshStartedAt: T }), T + 500)).toBe(1_500);
    expect(rules.msUntilRefreshAllowed(ctx({ lastRefreshStartedAt: T }), T + 5_000)).toBe(0);
    expect(rules.msUntilRefreshAllowed(ctx({ lastRefreshStartedAt: T }, { expiresAt: T + 1_000 }), T + 500)).toBe(500);
    expect(rules.msUntilRefreshAllowed(ctx(), T)).toBe(0);
    expect(rules.msUntilExpiry(ctx(), T + 3_600_000 + 5)).toBe(0);
    expect(rules.msUntilExpiry(ctx(), T)).toBe(3_600_000);
    expect(rules.msUntilRetry(ctx({}, { retryAt: T + 700 }), T)).toBe(700);
    expect(rules.msUntilRetry(ctx({}, { retryAt: T - 700 }), T)).toBe(0);
    expect(rules.msUntilRefreshWindow(ctx(), T)).toBe(3_600_000 - 60_000);
    expect(rules.msUntilRefreshWindow(ctx(), T + 3_600_000)).toBe(0);
  });
});

describe('refresh-policy: FNV-1a fleet jitter, the same in every process (§6)', () => {
  // Reference values of 32-bit FNV-1a (offset basis 0x811c9dc5, prime 0x01000193).
  const FNV = { '': 0x811c9dc5, a: 0xe40c292c, foobar: 0xbf9cf968 } as const;

  it.each(Object.entries(FNV))('key %j: jitter = fnv1a(key) / 2^32 × spread', (key, hash) => {
    // 1 h token, 10 min threshold, fraction 0.5: the window is 10 min, the spread 5 min.
    const token = { obtainedAt: T, expiresAt: T + 3_600_000 };
    expect(refreshJitterFor(key, token, 600_000, 0.5)).toBeCloseTo((hash / 2 ** 32) * 300_000, 6);
  });

  it('the window is half the lifetime for short tokens', () => {
    // 10 s token, 1 h threshold: window = 5 s; fraction 1 spreads over all of it.
    const token = { obtainedAt: T, expiresAt: T + 10_000 };
    expect(refreshJitterFor('a', token, 3_600_000, 1)).toBeCloseTo((FNV.a / 2 ** 32) * 5_000, 6);
    expect(refreshAt(token, 3_600_000, refreshJitterFor('a', token, 3_600_000, 1))).toBeCloseTo(T + 5_000 - (FNV.a / 2 ** 32) * 5_000, 6);
  });
});

describe('memoryStorage: conflicts name the key; extend at the expiry instant', () => {
  it('a stale fence and a wrong version are storage_conflict with the key and the numbers', async () => {
    const storage = memoryStorage();
    const record: TokenRecord = { accessToken: 'a', tokenType: 'Bearer', obtainedAt: 0, version: 1 };
    const first = await storage.lock('k', 1_000);
    await first?.release();
    await storage.lock('k', 1_000);
    const fenced = await storage.set('k', record, { fence: first?.fence as number }).catch((e: unknown) => e);
    expect(fenced).toBeInstanceOf(StorageConflictError);
    expect(fenced).toMatchObject({ key: 'k', message: expect.stringMatching(/fence 2.*"k".*fence 1/) });
    const versioned = await storage.set('k', record, { expectedVersion: 4 }).catch((e: unknown) => e);
    expect(versioned).toMatchObject({ code: 'storage_conflict', key: 'k', message: 'Stored version 0 differs from expected 4' });
  });

  it('a lock cannot be extended at or after its expiry instant', async () => {
    let now = 0;
    const storage = memoryStorage({ now: () => now });
    const lock = await storage.lock('k', 100);
    now = 99;
    expect(await lock?.extend(100)).toBe(true);
    now = 199;
    expect(await lock?.extend(100)).toBe(false);
  });
});

describe('token-response: fractions, messages, non-finite expiresAt', () => {
  it('expires_in with a fraction of several digits', () => {
    const checked = checkTokenResponse({ access_token: 'a', token_type: 'Bearer', expires_in: '1.25' }, 0);
    expect(checked.ok && checked.tokens.expiresAt).toBe(1_250);
  });

  it('messages say what is wrong', () => {
    const body = checkTokenResponse('x', 0);
    expect(!body.ok && body.error.message).toBe('Invalid token response: the body is not a JSON object');
    const set = checkTokenSet(null, 0);
    expect(!set.ok && set.error.message).toBe('Invalid token response: the token set is not an object');
  });

  it.each([['tomorrow'], [Number.POSITIVE_INFINITY], [Number.NaN]])('a TokenSet with expiresAt %j is refused', (expiresAt) => {
    expect(checkTokenSet({ accessToken: 'a', tokenType: 'Bearer', expiresAt }, 0).ok).toBe(false);
  });
});
