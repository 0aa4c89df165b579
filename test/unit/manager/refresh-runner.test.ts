/**
 * machines/manager/refresh-runner.ts without cross-process locks: the endpoint call, the record a refresh
 * stores (R4), validation and salvage (R12), the expired-on-arrival token (R1), failures with
 * backoff (R5, R6, R14) and failures of a refresh the credential no longer waits for. Driven
 * directly through `createRefreshRunner` with a lockless memory store and a simulated clock.
 */
import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createCredential, setRecord, viewFor } from '../../../machines/manager/credential.js';
import { InvalidGrantError, RefreshFailedError, RefreshTokenMissingError, StorageFailedError } from '../../../machines/lifecycle/errors.js';
import type { RefreshOutput } from '../../../machines/lifecycle/machine-types.js';
import { normalizeOptions } from '../../../machines/manager/options.js';
import type { TokenEvent, TokenManagerOptions } from '../../../machines/manager/api-types.js';
import { memoryStorage } from '../../../machines/manager/memory-storage.js';
import { createLimiter, createRefreshRunner } from '../../../machines/manager/refresh-runner.js';
import type { ManagerRuntime } from '../../../machines/manager/runtime.js';
import type { TokenRecord, TokenStorage } from '../../../machines/lifecycle/types.js';
import { scriptedEndpoint, settle } from '../../support/fake-endpoint.js';
import { failureOf } from '../../support/refresh-failure.js';

const T0 = 1_000_000;
const HOUR = 3_600_000;
const KEY = 'k';

function setup(options: Partial<TokenManagerOptions> = {}, endpointOptions: Parameters<typeof scriptedEndpoint>[0] = {}) {
  const clock = new SimulatedClock();
  clock.set(T0);
  const inner = memoryStorage({ now: () => clock.now() });
  const failWrites = { on: false };
  // No lock(): a store shared by nobody, as a single process with a file store.
  const storage: TokenStorage = {
    get: (key) => inner.get(key),
    async set(key, record, setOptions) {
      if (failWrites.on) throw new StorageFailedError('disk full');
      return inner.set(key, record, setOptions);
    },
    delete: (key) => inner.delete(key),
  };
  const endpoint = scriptedEndpoint(endpointOptions);
  const events: TokenEvent[] = [];
  const rt: ManagerRuntime = {
    settings: normalizeOptions({ endpoint, storage, clock, random: () => 0, ...options }),
    instanceId: 'me',
    emit: (event) => events.push(event),
    recordAdopted: () => undefined,
    isStopped: () => false,
  };
  const runner = createRefreshRunner(rt);
  const c = createCredential(KEY);
  async function seed(record: TokenRecord): Promise<void> {
    await inner.set(KEY, record);
    setRecord(c, record);
    c.storedVersion = record.version;
    c.loaded = true;
  }
  const run = (attempt = 0): Promise<RefreshOutput> => runner.run(c, { key: KEY, version: c.record?.version ?? 0, attempt });
  return { clock, inner, failWrites, endpoint, events, rt, c, seed, run };
}

function login(fields: Partial<TokenRecord> = {}): TokenRecord {
  return { accessToken: 'at-0', tokenType: 'Bearer', obtainedAt: T0, expiresAt: T0 + HOUR, refreshToken: 'rt-0', version: 1, ...fields };
}


const ofType = <T extends TokenEvent['type']>(events: TokenEvent[], type: T) => events.filter((e) => e.type === type);

describe('createLimiter: maxConcurrentRefreshes', () => {
  it('lets `max` through, queues the rest in order, and hands each freed slot on', async () => {
    const acquire = createLimiter(2);
    const order: string[] = [];
    const a = await acquire();
    const b = await acquire();
    const c = acquire().then((release) => (order.push('c'), release));
    const d = acquire().then((release) => (order.push('d'), release));
    await settle();
    expect(order).toEqual([]);
    a();
    await settle();
    expect(order).toEqual(['c']);
    b();
    await settle();
    expect(order).toEqual(['c', 'd']);
    // Two slots are taken again (c and d): a fifth waits until one is freed.
    let fifth = false;
    const e = acquire().then((release) => ((fifth = true), release));
    await settle();
    expect(fifth).toBe(false);
    (await c)();
    await settle();
    expect(fifth).toBe(true);
    (await d)();
    (await e)();
    // All free: two go straight through again.
    let both = 0;
    void acquire().then(() => both++);
    void acquire().then(() => both++);
    await settle();
    expect(both).toBe(2);
  });

  it('a runner with maxConcurrentRefreshes 1 runs one refresh at a time, and frees the slot after a failure', async () => {
    const { endpoint, seed, rt, c } = setup({ maxConcurrentRefreshes: 1 });
    await seed(login());
    const other = createCredential('other');
    setRecord(other, login({ refreshToken: 'rt-other' }));
    endpoint.next({ kind: 'hold' });
    endpoint.next({ kind: 'throw', error: new RefreshFailedError('down', { status: 503 }) });
    const runner = createRefreshRunner(rt);
    const first = failureOf(runner.run(c, { key: KEY, version: 1, attempt: 0 }));
    const second = runner.run(other, { key: 'other', version: 1, attempt: 0 });
    await settle();
    expect(endpoint.received).toEqual(['rt-0']);
    endpoint.release();
    expect((await first).code).toBe('refresh_failed');
    await second;
    expect(endpoint.received).toEqual(['rt-0', 'rt-other']);
  });
});

describe('a successful refresh', () => {
  it('stores the new tokens (rotated refresh token, next version) and reports them', async () => {
    const { clock, endpoint, events, inner, c, seed, run } = setup();
    await seed(login({ scope: 'read', idToken: 'id-0' }));
    clock.increment(1_000);
    const output = await run();
    expect(endpoint.received).toEqual(['rt-0']);
    const record = { accessToken: 'at-1', tokenType: 'Bearer', obtainedAt: T0 + 1_000, expiresAt: T0 + 1_000 + HOUR, refreshToken: 'rt-1', scope: 'read', idToken: 'id-0', version: 2 };
    expect(await inner.get(KEY)).toStrictEqual(record);
    expect(c.record).toStrictEqual(record);
    expect(output).toStrictEqual({
      startedAt: T0 + 1_000,
      at: T0 + 1_000,
      token: { hasAccessToken: true, hasRefreshToken: true, obtainedAt: T0 + 1_000, version: 2, expiresAt: T0 + 1_000 + HOUR },
    });
    expect(events).toStrictEqual([{ type: 'refreshed', key: KEY, at: T0 + 1_000, rotated: true, expiresAt: T0 + 1_000 + HOUR }]);
  });

  it('keeps the refresh token when none is returned; scope and ID token returned replace the old ones', async () => {
    const { endpoint, events, inner, seed, run } = setup();
    await seed(login({ scope: 'read', idToken: 'id-0' }));
    endpoint.rotate = false;
    endpoint.next({ kind: 'ok', body: { scope: 'write', id_token: 'id-1' } });
    await run();
    expect(await inner.get(KEY)).toMatchObject({ accessToken: 'at-1', refreshToken: 'rt-0', scope: 'write', idToken: 'id-1', version: 2 });
    expect(events[0]).toMatchObject({ type: 'refreshed', rotated: false });
  });

  it('returning the same refresh token is not a rotation', async () => {
    const { endpoint, events, seed, run } = setup();
    await seed(login());
    endpoint.rotate = false;
    endpoint.next({ kind: 'ok', body: { refresh_token: 'rt-0' } });
    await run();
    expect(events[0]).toMatchObject({ type: 'refreshed', rotated: false });
  });

  it('a token without expires_in has no expiry, in the record and in the event; absent fields stay absent', async () => {
    const { endpoint, events, inner, c, seed, run } = setup();
    endpoint.expiresIn = undefined;
    await seed(login());
    const output = await run();
    const stored = await inner.get(KEY);
    expect(stored).not.toHaveProperty('expiresAt');
    expect(stored).not.toHaveProperty('scope');
    expect(stored).not.toHaveProperty('idToken');
    expect(events).toStrictEqual([{ type: 'refreshed', key: KEY, at: T0, rotated: true }]);
    expect(output.token).not.toHaveProperty('expiresAt');
    // What storage is handed (a custom store may serialise it as is).
    expect(c.record).not.toHaveProperty('expiresAt');
  });

  it('client_credentials: renews with no refresh token and stores none', async () => {
    const { endpoint, inner, c, run } = setup({}, { canRenewWithoutRefreshToken: true });
    const output = await run();
    expect(endpoint.received).toEqual([undefined]);
    const stored = await inner.get(KEY);
    expect(stored).toMatchObject({ accessToken: 'at-1', version: 1 });
    expect(stored).not.toHaveProperty('refreshToken');
    expect(output.token).toMatchObject({ hasAccessToken: true, hasRefreshToken: false, version: 1 });
    expect(c.lastFailure).toBeUndefined();
  });

  it('clears the last failure', async () => {
    const { c, seed, run } = setup();
    await seed(login());
    c.lastFailure = new RefreshFailedError('earlier');
    await run();
    expect(c.lastFailure).toBeUndefined();
  });

  it('a store that fails the write: the new tokens are handed out from memory, and the refresh counts', async () => {
    const { events, inner, c, failWrites, seed, run } = setup();
    await seed(login());
    failWrites.on = true;
    const output = await run();
    expect(output.token.version).toBe(2);
    expect(viewFor(c)?.accessToken).toBe('at-1');
    expect((await inner.get(KEY))?.accessToken).toBe('at-0');
    expect(events.map((e) => e.type)).toEqual(['storage_failed', 'refreshed']);
  });

  it('a result for a record replaced meanwhile (a new login) is dropped: no event, the login stays', async () => {
    const { endpoint, events, inner, c, seed, run } = setup();
    await seed(login());
    endpoint.next({ kind: 'hold' });
    const pending = run();
    await settle();
    const fresh = login({ accessToken: 'login', refreshToken: 'rt-login', version: 2 });
    await inner.set(KEY, fresh);
    setRecord(c, fresh);
    c.storedVersion = 2;
    endpoint.release();
    const output = await pending;
    expect(output.token.version).toBe(2);
    expect(c.record?.accessToken).toBe('login');
    expect(await inner.get(KEY)).toStrictEqual(fresh);
    expect(events).toEqual([]);
  });
});

describe('R1: a token that arrives already expired', () => {
  it('is stored (its rotated refresh token must not be lost) but the refresh fails with backoff', async () => {
    const { clock, endpoint, events, inner, c, seed, run } = setup();
    await seed(login());
    endpoint.expiresIn = 0;
    const failure = await failureOf(run());
    expect(failure).toMatchObject({ kind: 'transient', code: 'invalid_token_response', retryAt: T0 + 2_000, token: { version: 3, retryAt: T0 + 2_000 } });
    expect(await inner.get(KEY)).toMatchObject({ accessToken: 'at-1', refreshToken: 'rt-1', expiresAt: T0, retryAt: T0 + 2_000, version: 3 });
    // Only the failure is told: no `refreshed` before it (issue 21 case 6).
    expect(events.map((e) => e.type)).toEqual(['refresh_failed']);
    expect(c.lastFailure).toMatchObject({ code: 'refresh_failed', key: KEY, message: 'The token endpoint returned an already expired token' });
    expect(events[0]).toStrictEqual({ type: 'refresh_failed', key: KEY, at: clock.now(), code: 'invalid_token_response', retryable: true, retryAt: T0 + 2_000 });
  });

  it('a token valid for one more millisecond is a success', async () => {
    const { endpoint, seed, run } = setup();
    await seed(login());
    endpoint.expiresIn = 0.001;
    await expect(run()).resolves.toMatchObject({ token: { expiresAt: T0 + 1 } });
  });
});

describe('failures', () => {
  it('R8: with no refresh token nothing is sent; the failure is permanent and not stored', async () => {
    const { endpoint, events, inner, c, seed, run } = setup();
    const { refreshToken: _none, ...noRefresh } = login();
    await seed(noRefresh);
    const failure = await failureOf(run());
    expect(endpoint.received).toEqual([]);
    expect(failure).toStrictEqual({ startedAt: T0, at: T0, kind: 'permanent', code: 'refresh_token_missing', token: expect.objectContaining({ version: 1 }) });
    expect(await inner.get(KEY)).toStrictEqual(noRefresh);
    expect(c.lastFailure).toBeInstanceOf(RefreshTokenMissingError);
    expect(c.lastFailure).toMatchObject({ key: KEY });
    expect(events).toStrictEqual([{ type: 'refresh_failed', key: KEY, at: T0, code: 'refresh_token_missing', retryable: false }]);
  });

  it('a transient failure stores retryAt (backoff, whole milliseconds, Retry-After as floor) and reports it', async () => {
    const { clock, endpoint, events, inner, c, seed, run } = setup({ retry: { minDelay: '1s', maxDelay: '1m', jitter: 0 } });
    await seed(login());
    clock.increment(10);
    const error = new RefreshFailedError('busy', { status: 429, retryAfter: 2_500.2 });
    endpoint.next({ kind: 'throw', error });
    const failure = await failureOf(run());
    const retryAt = T0 + 10 + 2_501;
    expect(failure).toStrictEqual({
      startedAt: T0 + 10,
      at: T0 + 10,
      kind: 'transient',
      code: 'refresh_failed',
      retryAt,
      token: expect.objectContaining({ version: 2, retryAt, hasAccessToken: true }),
    });
    expect(await inner.get(KEY)).toStrictEqual({ ...login(), retryAt, version: 2 });
    expect(c.lastFailure).toBe(error);
    expect(events).toStrictEqual([{ type: 'refresh_failed', key: KEY, at: T0 + 10, code: 'refresh_failed', retryable: true, retryAt }]);
  });

  it('the delay grows with the attempt, and never below the minimum interval', async () => {
    const { endpoint, seed, run } = setup({ retry: { minDelay: '1s', maxDelay: '1m', jitter: 0 }, minRefreshInterval: '3s' });
    await seed(login());
    endpoint.next({ kind: 'throw', error: new RefreshFailedError('down', { status: 503 }) });
    expect((await failureOf(run(0))).retryAt).toBe(T0 + 3_000);
    endpoint.next({ kind: 'throw', error: new RefreshFailedError('down', { status: 503 }) });
    expect((await failureOf(run(3))).retryAt).toBe(T0 + 8_000);
  });

  it('a permanent failure stores the rejection (and drops an earlier retryAt), with no retry moment', async () => {
    const { endpoint, events, inner, c, seed, run } = setup();
    await seed(login({ retryAt: T0 - 1 }));
    endpoint.next({ kind: 'throw', error: new InvalidGrantError() });
    const failure = await failureOf(run());
    expect(failure).toStrictEqual({ startedAt: T0, at: T0, kind: 'permanent', code: 'invalid_grant', token: expect.objectContaining({ rejection: 'invalid_grant', version: 2 }) });
    expect(failure.token).not.toHaveProperty('retryAt');
    const { retryAt: _dropped, ...rest } = login();
    expect(await inner.get(KEY)).toStrictEqual({ ...rest, rejection: 'invalid_grant', version: 2 });
    expect(c.lastFailure).toBeInstanceOf(InvalidGrantError);
    expect(events).toStrictEqual([{ type: 'refresh_failed', key: KEY, at: T0, code: 'invalid_grant', retryable: false }]);
  });

  it('a transient failure after an earlier rejection stores retryAt only', async () => {
    const { endpoint, inner, seed, run } = setup();
    await seed(login({ rejection: 'invalid_grant' }));
    endpoint.next({ kind: 'throw', error: new RefreshFailedError('down', { status: 503 }) });
    await failureOf(run());
    const stored = await inner.get(KEY);
    expect(stored).not.toHaveProperty('rejection');
    expect(stored?.retryAt).toBe(T0 + 2_000);
  });

  it('a failure of a request sent for a record replaced meanwhile is dropped: nothing stored, no event', async () => {
    const { endpoint, events, inner, c, seed, run } = setup();
    await seed(login());
    endpoint.next({ kind: 'hold' });
    endpoint.next({ kind: 'throw', error: new InvalidGrantError() });
    const pending = failureOf(run());
    await settle();
    const fresh = login({ accessToken: 'login', refreshToken: 'rt-login', version: 2, expiresAt: T0 + 2 * HOUR });
    await inner.set(KEY, fresh);
    setRecord(c, fresh);
    c.storedVersion = 2;
    endpoint.release();
    const failure = await pending;
    expect(failure).toStrictEqual({ startedAt: T0, at: T0, kind: 'permanent', code: 'invalid_grant', token: expect.objectContaining({ version: 2, expiresAt: T0 + 2 * HOUR }) });
    expect(failure.token).not.toHaveProperty('rejection');
    expect(await inner.get(KEY)).toStrictEqual(fresh);
    expect(events).toEqual([]);
    expect(c.lastFailure).toBeUndefined();
  });

  it('a failure for a credential whose record was cleared meanwhile is dropped', async () => {
    const { endpoint, events, inner, c, seed, run } = setup();
    await seed(login());
    endpoint.next({ kind: 'hold' });
    endpoint.next({ kind: 'throw', error: new RefreshFailedError('down', { status: 503 }) });
    const pending = failureOf(run());
    await settle();
    setRecord(c, undefined);
    c.storedVersion = 0;
    endpoint.release();
    const failure = await pending;
    expect(failure).toStrictEqual({ startedAt: T0, at: T0, kind: 'transient', code: 'refresh_failed', token: expect.objectContaining({ hasAccessToken: false, version: 0 }) });
    expect(await inner.get(KEY)).toStrictEqual(login());
    expect(events).toEqual([]);
  });

  it('a failure for a credential removed meanwhile is dropped', async () => {
    const { endpoint, events, inner, c, seed, run } = setup();
    await seed(login());
    endpoint.next({ kind: 'hold' });
    endpoint.next({ kind: 'throw', error: new RefreshFailedError('down', { status: 503 }) });
    const pending = failureOf(run());
    await settle();
    await inner.delete(KEY);
    c.removed = true;
    endpoint.release();
    const failure = await pending;
    expect(failure).not.toHaveProperty('retryAt');
    expect(await inner.get(KEY)).toBeUndefined();
    expect(events).toEqual([]);
  });
});

describe('R12: a malformed response', () => {
  it('keeps the old access token but never drops a rotated refresh token', async () => {
    const { endpoint, events, inner, c, seed, run } = setup();
    await seed(login());
    endpoint.next({ kind: 'ok', body: { access_token: '' } });
    const failure = await failureOf(run());
    expect(failure).toMatchObject({ kind: 'transient', code: 'invalid_token_response', retryAt: T0 + 2_000 });
    const record = { ...login(), refreshToken: 'rt-1', retryAt: T0 + 2_000, version: 2 };
    expect(await inner.get(KEY)).toStrictEqual(record);
    expect(c.record).toStrictEqual(record);
    expect(c.lastFailure).toMatchObject({ code: 'invalid_token_response' });
    expect(events.map((e) => e.type)).toEqual(['refresh_failed']);
  });

  it('without a usable refresh token in it, the old refresh token stays', async () => {
    const { endpoint, inner, seed, run } = setup();
    await seed(login());
    endpoint.next({ kind: 'ok', body: { token_type: '', refresh_token: undefined } });
    endpoint.rotate = false;
    await failureOf(run());
    expect(await inner.get(KEY)).toStrictEqual({ ...login(), retryAt: T0 + 2_000, version: 2 });
  });

  it('with nothing held (client_credentials, no record yet) the failure is reported, nothing stored', async () => {
    const { endpoint, events, inner, run } = setup({}, { canRenewWithoutRefreshToken: true });
    endpoint.next({ kind: 'ok', body: { access_token: 42 } });
    const failure = await failureOf(run());
    expect(failure).toMatchObject({ code: 'invalid_token_response', token: { hasAccessToken: false, version: 0 } });
    expect(await inner.get(KEY)).toBeUndefined();
    expect(ofType(events, 'refresh_failed')).toHaveLength(1);
  });
});
