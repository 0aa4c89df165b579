/**
 * machines/manager/refresh-runner.ts across instances (R7, R4 across a fleet): the refresh lock, waiting for
 * another holder and adopting its result, the re-read under the lock, refresh markers and holding
 * back while another instance's marker stands. Two runners with their own credentials share one
 * memory store, as two processes share Redis. Lock polling runs on real timers, so vitest's fake
 * timers (and fake Date) drive everything here, the injected clock included.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCredential, setRecord } from '../../../machines/manager/credential.js';
import { OAuthServerError, RefreshFailedError, StorageConflictError, StorageFailedError } from '../../../machines/lifecycle/errors.js';
import type { RefreshOutput } from '../../../machines/lifecycle/machine-types.js';
import { normalizeOptions } from '../../../machines/manager/options.js';
import type { TokenEvent, TokenManagerOptions } from '../../../machines/manager/api-types.js';
import { memoryStorage, type MemoryStorage } from '../../../machines/manager/memory-storage.js';
import { createRefreshRunner } from '../../../machines/manager/refresh-runner.js';
import type { ManagerRuntime } from '../../../machines/manager/runtime.js';
import type { Clock, StorageLock, StorageSetOptions, TokenRecord, TokenStorage } from '../../../machines/lifecycle/types.js';
import { scriptedEndpoint } from '../../support/fake-endpoint.js';
import { failureOf } from '../../support/refresh-failure.js';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
const KEY = 'k';

// Looked up at call time: the fake timers installed in beforeEach.
const clock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

beforeEach(() => {
  vi.useFakeTimers({ now: T0, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Lets promise chains run (real setImmediate: not faked). */
async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await flush();
}

/** The shared store, with a log of writes and one-shot hooks run before a call reaches it. */
function sharedStore() {
  const inner = memoryStorage({ now: () => Date.now() });
  const writes: Array<{ record: TokenRecord; options: StorageSetOptions | undefined }> = [];
  const hooks = {
    beforeSet: [] as Array<() => Promise<void> | void>,
    beforeGet: [] as Array<() => Promise<void> | void>,
    beforeLock: [] as Array<() => Promise<void> | void>,
    extends: 0,
    /** A paused process: its keep-alive never reaches the store, so its lock runs out. */
    extendFails: false,
  };
  const storage: TokenStorage = {
    async get(key) {
      await hooks.beforeGet.shift()?.();
      return inner.get(key);
    },
    async set(key, record, options) {
      writes.push({ record: { ...record }, options: options && { ...options } });
      await hooks.beforeSet.shift()?.();
      return inner.set(key, record, options);
    },
    delete: (key) => inner.delete(key),
    async lock(key, ttlMs) {
      await hooks.beforeLock.shift()?.();
      const lock = await inner.lock(key, ttlMs);
      if (!lock) return null;
      const counted: StorageLock = {
        fence: lock.fence,
        release: () => lock.release(),
        extend: async (ms) => {
          hooks.extends++;
          if (hooks.extendFails) throw new Error('ETIMEDOUT');
          return lock.extend(ms);
        },
      };
      return counted;
    },
  };
  return { inner, storage, writes, hooks };
}

type Shared = ReturnType<typeof sharedStore>;

function instance(shared: Shared, id: string, options: Partial<TokenManagerOptions> = {}) {
  const endpoint = scriptedEndpoint();
  const events: TokenEvent[] = [];
  let stopped = false;
  const rt: ManagerRuntime = {
    settings: normalizeOptions({ endpoint, storage: shared.storage, clock, random: () => 0, ...options }),
    instanceId: id,
    emit: (event) => events.push(event),
    recordAdopted: () => undefined,
    isStopped: () => stopped,
  };
  const runner = createRefreshRunner(rt);
  const c = createCredential(KEY);
  async function load(): Promise<void> {
    const record = await shared.inner.get(KEY);
    setRecord(c, record);
    c.storedVersion = record?.version ?? 0;
    c.loaded = true;
  }
  /** Starts a refresh; `settled` tells whether it has ended yet. */
  function start(attempt = 0) {
    const state = { settled: false };
    const promise: Promise<RefreshOutput> = runner.run(c, { key: KEY, version: c.record?.version ?? 0, attempt });
    promise.then(
      () => (state.settled = true),
      () => (state.settled = true),
    );
    return { promise, state };
  }
  /** What the manager's stop() asks of the runner. */
  function stop(): void {
    stopped = true;
    runner.stop();
  }
  return { endpoint, events, c, load, start, stop };
}

function login(fields: Partial<TokenRecord> = {}): TokenRecord {
  return { accessToken: 'at-0', tokenType: 'Bearer', obtainedAt: T0, expiresAt: T0 + HOUR, refreshToken: 'rt-0', version: 1, ...fields };
}


async function world(record: TokenRecord = login(), options: Partial<TokenManagerOptions> = {}) {
  const shared = sharedStore();
  await shared.inner.set(KEY, record);
  const a = instance(shared, 'A', options);
  await a.load();
  return { shared, a };
}

describe('the refresh lock and the marker', () => {
  it('marks the record as ours before the request, holds the lock meanwhile, and stores the result without a marker', async () => {
    const { shared, a } = await world();
    a.endpoint.next({ kind: 'hold' });
    const run = a.start();
    await flush();
    expect(a.endpoint.received).toEqual(['rt-0']);
    expect(await shared.inner.get(KEY)).toStrictEqual({ ...login(), refreshing: { by: 'A', since: T0 }, version: 2 });
    expect(await shared.inner.lock(KEY, 1_000)).toBeNull();
    await advance(5);
    a.endpoint.release();
    const output = await run.promise;
    expect(output.token.version).toBe(3);
    const stored = await shared.inner.get(KEY);
    expect(stored).toMatchObject({ accessToken: 'at-1', refreshToken: 'rt-1', version: 3, obtainedAt: T0 });
    expect(stored).not.toHaveProperty('refreshing');
    // Both writes went under our lock's fence.
    const fences = shared.writes.map((w) => w.options?.fence);
    expect(fences).toHaveLength(2);
    expect(fences[0]).toBeTypeOf('number');
    expect(fences[1]).toBe(fences[0]);
    // Released afterwards.
    expect(await shared.inner.lock(KEY, 1_000)).not.toBeNull();
  });

  it('keeps the lock alive while a slow request is in flight, and stops extending it afterwards', async () => {
    const { shared, a } = await world(login(), { lockTtl: '3s' });
    a.endpoint.next({ kind: 'hold' });
    const run = a.start();
    for (let t = 0; t < 10; t++) {
      await advance(1_000);
      expect(await shared.inner.lock(KEY, 1_000)).toBeNull();
    }
    // Every second (a third of the TTL), not in a tight loop.
    expect(shared.hooks.extends).toBeGreaterThanOrEqual(9);
    expect(shared.hooks.extends).toBeLessThanOrEqual(11);
    a.endpoint.release();
    await run.promise;
    const extended = shared.hooks.extends;
    await advance(10_000);
    expect(shared.hooks.extends).toBe(extended);
  });

  it('a failure after our marker stores the retry moment and no marker of ours', async () => {
    const { shared, a } = await world();
    a.endpoint.next({ kind: 'throw', error: new StorageFailedError('boom', { status: 503 }) });
    const failure = await failureOf(a.start().promise);
    expect(failure).toMatchObject({ kind: 'transient', retryAt: T0 + 2_000 });
    const stored = await shared.inner.get(KEY);
    expect(stored).toStrictEqual({ ...login(), retryAt: T0 + 2_000, version: 3 });
    expect(await shared.inner.lock(KEY, 1_000)).not.toBeNull();
  });

  it('our unwritten result goes in first, under the lock, before the marker', async () => {
    const { shared, a } = await world();
    // A rotation whose write failed earlier: version 2 lives only in memory.
    setRecord(a.c, login({ accessToken: 'mine', refreshToken: 'rt-mine', version: 2 }));
    await a.start().promise;
    expect(shared.writes.map((w) => [w.record.version, w.record.accessToken, w.record.refreshing?.by])).toEqual([
      [2, 'mine', undefined],
      [3, 'mine', 'A'],
      [4, 'at-1', undefined],
    ]);
    expect(a.endpoint.received).toEqual(['rt-mine']);
    expect(new Set(shared.writes.map((w) => typeof w.options?.fence))).toEqual(new Set(['number']));
  });

  it('someone else\'s record found when writing our marker is adopted instead of refreshing', async () => {
    const { shared, a } = await world();
    const theirs = login({ accessToken: 'theirs', refreshToken: 'rt-theirs', version: 2 });
    shared.hooks.beforeSet.push(() => shared.inner.set(KEY, theirs));
    const output = await a.start().promise;
    expect(a.endpoint.received).toEqual([]);
    expect(output.token.version).toBe(2);
    expect(a.c.record).toStrictEqual(theirs);
    expect(await shared.inner.get(KEY)).toStrictEqual(theirs);
  });
});

describe('waiting for another holder of the lock', () => {
  it('polls with growing pauses (50, 100, 200, then 250 ms) and adopts the holder\'s result without a request', async () => {
    const { shared, a } = await world();
    await shared.inner.lock(KEY, 60_000);
    const run = a.start();
    // The holder stores its result 400 ms in; we look at 50, 150, 350, 600 ms.
    await advance(400);
    await shared.inner.set(KEY, login({ accessToken: 'at-B', refreshToken: 'rt-B', version: 2 }));
    await advance(199);
    expect(run.state.settled).toBe(false);
    await advance(1);
    expect(run.state.settled).toBe(true);
    const output = await run.promise;
    expect(output).toMatchObject({ startedAt: T0, at: T0 + 600, token: { version: 2 } });
    expect(a.endpoint.received).toEqual([]);
    expect(a.c.record?.accessToken).toBe('at-B');
  });

  it('the first look comes after 50 ms, the second 100 ms later', async () => {
    const { shared, a } = await world();
    await shared.inner.lock(KEY, 60_000);
    const run = a.start();
    await advance(49);
    await shared.inner.set(KEY, login({ accessToken: 'at-B', version: 2 }));
    await advance(1);
    expect(run.state.settled).toBe(true);
    const b = instance(shared, 'A2');
    await b.load();
    const second = b.start();
    await advance(51);
    await shared.inner.set(KEY, login({ accessToken: 'at-C', version: 3 }));
    await advance(98);
    expect(second.state.settled).toBe(false);
    await advance(1);
    expect(second.state.settled).toBe(true);
  });

  it('an unreadable store while polling is not fatal: it looks again', async () => {
    const { shared, a } = await world();
    await shared.inner.lock(KEY, 60_000);
    shared.hooks.beforeGet.push(() => {
      throw new StorageFailedError('blip');
    });
    const run = a.start();
    await shared.inner.set(KEY, login({ accessToken: 'at-B', version: 2 }));
    await advance(50);
    expect(run.state.settled).toBe(false);
    await advance(100);
    expect((await run.promise).token.version).toBe(2);
  });

  it('a holder that only stored its marker has no result yet: we wait on and, the lock freed, hold back', async () => {
    const { shared, a } = await world();
    await shared.inner.lock(KEY, 1_000);
    await shared.inner.set(KEY, login({ refreshing: { by: 'B', since: T0 }, version: 2 }));
    const run = a.start();
    await advance(1_099);
    expect(run.state.settled).toBe(false);
    // Its lock expired at 1 s: we take it at the next look (1.1 s), and see its marker standing.
    await advance(1);
    const failure = await failureOf(run.promise);
    expect(failure).toMatchObject({ kind: 'transient', code: 'refresh_in_progress', retryAt: T0 + 1_100 + 2_000 });
    expect(a.endpoint.received).toEqual([]);
    expect(await shared.inner.get(KEY)).toStrictEqual(login({ refreshing: { by: 'B', since: T0 }, version: 2 }));
    expect(a.events).toStrictEqual([
      { type: 'refresh_failed', key: KEY, at: T0 + 1_100, code: 'refresh_in_progress', retryable: true, retryAt: T0 + 3_100 },
    ]);
    expect(await shared.inner.lock(KEY, 1_000)).not.toBeNull();
  });

  it('a rejection stored by the holder is honoured: a permanent failure with its code, no request', async () => {
    const { shared, a } = await world();
    await shared.inner.lock(KEY, 60_000);
    const run = a.start();
    await shared.inner.set(KEY, login({ rejection: 'invalid_grant', version: 2 }));
    await advance(50);
    const failure = await failureOf(run.promise);
    expect(failure).toStrictEqual({ startedAt: T0, at: T0 + 50, kind: 'permanent', code: 'invalid_grant', token: expect.objectContaining({ rejection: 'invalid_grant', version: 2 }) });
    expect(a.c.lastFailure).toBeInstanceOf(OAuthServerError);
    expect(a.c.lastFailure).toMatchObject({ code: 'invalid_grant', key: KEY });
    expect(a.endpoint.received).toEqual([]);
  });

  it('gives up after twice the lock TTL: refresh_failed with a stored retry moment, the holder\'s marker kept', async () => {
    const { shared, a } = await world(login(), { lockTtl: '1s' });
    await shared.inner.lock(KEY, 60_000);
    await shared.inner.set(KEY, login({ refreshing: { by: 'B', since: T0 }, version: 2 }));
    const run = a.start();
    // Looks at 50, 150, 350, 600, 850, 1100, 1350, 1600, 1850, 2100 ms: past 2 s at the last.
    await advance(2_099);
    expect(run.state.settled).toBe(false);
    await advance(1);
    const failure = await failureOf(run.promise);
    expect(failure).toMatchObject({ kind: 'transient', code: 'refresh_failed', retryAt: T0 + 2_100 + 2_000 });
    expect(a.c.lastFailure).toMatchObject({ code: 'refresh_failed', message: 'Another process holds the refresh lock' });
    expect(await shared.inner.get(KEY)).toStrictEqual(login({ refreshing: { by: 'B', since: T0 }, retryAt: T0 + 4_100, version: 3 }));
    expect(a.endpoint.received).toEqual([]);
  });

  it('gives up only once strictly more than twice the TTL has passed', async () => {
    // lockTtl 300 ms: the look at 600 ms is exactly twice the TTL, so one more at 850 ms.
    const { shared, a } = await world(login(), { lockTtl: 300 });
    await shared.inner.lock(KEY, 60_000);
    const run = a.start();
    await advance(849);
    expect(run.state.settled).toBe(false);
    await advance(1);
    expect(await failureOf(run.promise)).toMatchObject({ code: 'refresh_failed' });
  });

  it('a lock that cannot be taken is a transient storage failure', async () => {
    const { shared, a } = await world();
    shared.hooks.beforeLock.push(() => {
      throw new Error('ECONNREFUSED');
    });
    const failure = await failureOf(a.start().promise);
    expect(failure).toMatchObject({ kind: 'transient', code: 'storage_failed' });
    expect(a.c.lastFailure).toBeInstanceOf(StorageFailedError);
    expect((a.c.lastFailure as Error).message).toBe('Could not take the refresh lock');
    expect((a.c.lastFailure as Error).cause).toMatchObject({ message: 'ECONNREFUSED' });
    expect(a.endpoint.received).toEqual([]);
  });

  it('a typed store error while locking keeps its own code', async () => {
    const { shared, a } = await world();
    shared.hooks.beforeLock.push(() => {
      throw new StorageConflictError('busy');
    });
    const failure = await failureOf(a.start().promise);
    expect(failure).toMatchObject({ kind: 'transient', code: 'storage_conflict' });
    expect(a.c.lastFailure).toBeInstanceOf(StorageConflictError);
  });
});

describe('the re-read under the lock', () => {
  it('an unreadable store fails the refresh (storage_failed), with the lock released and no request', async () => {
    const { shared, a } = await world();
    shared.hooks.beforeGet.push(() => {
      throw new Error('EIO');
    });
    const failure = await failureOf(a.start().promise);
    expect(failure).toMatchObject({ kind: 'transient', code: 'storage_failed' });
    expect((a.c.lastFailure as Error).message).toBe('Could not re-read storage before refreshing');
    expect((a.c.lastFailure as Error).cause).toMatchObject({ message: 'EIO' });
    expect(a.endpoint.received).toEqual([]);
    expect(await shared.inner.lock(KEY, 1_000)).not.toBeNull();
  });

  it('a token another instance refreshed before we got the lock is adopted when usable and not due', async () => {
    const { shared, a } = await world();
    const theirs = login({ accessToken: 'at-B', refreshToken: 'rt-B', version: 2, expiresAt: T0 + HOUR });
    await shared.inner.set(KEY, theirs);
    const output = await a.start().promise;
    expect(output.token.version).toBe(2);
    expect(a.c.record).toStrictEqual(theirs);
    expect(a.endpoint.received).toEqual([]);
    expect(shared.writes).toHaveLength(0);
  });

  it.each([
    ['due (within the refresh threshold)', { obtainedAt: T0 - HOUR, expiresAt: T0 + 4 * 60_000 }],
    ['expired at this very instant', { expiresAt: T0 }],
    ['due, with a retry moment that has come', { obtainedAt: T0 - HOUR, expiresAt: T0 + 4 * 60_000, retryAt: T0 }],
  ])('a newer token that is %s is refreshed, with its refresh token', async (_name, fields) => {
    const { shared, a } = await world();
    await shared.inner.set(KEY, login({ accessToken: 'at-B', refreshToken: 'rt-B', version: 2, ...fields }));
    await a.start().promise;
    expect(a.endpoint.received).toEqual(['rt-B']);
    expect((await shared.inner.get(KEY))?.accessToken).toBe('at-1');
  });

  it('a result the change feed adopted after our refresh began (before the lock) is adopted, not refreshed again', async () => {
    const { shared, a } = await world();
    const theirs = login({ accessToken: 'at-B', refreshToken: 'rt-B', version: 2 });
    shared.hooks.beforeLock.push(async () => {
      await shared.inner.set(KEY, theirs);
      // The feed's read lands while we are refreshing: memory already holds what storage holds.
      setRecord(a.c, theirs);
      a.c.storedVersion = 2;
    });
    const output = await a.start().promise;
    expect(output.token.version).toBe(2);
    expect(a.endpoint.received).toEqual([]);
    expect(shared.writes).toHaveLength(0);
  });

  it('a newer token that is due but under a pending retry moment is adopted as it is', async () => {
    const { shared, a } = await world();
    await shared.inner.set(KEY, login({ accessToken: 'at-B', refreshToken: 'rt-B', version: 2, obtainedAt: T0 - HOUR, expiresAt: T0 + 4 * 60_000, retryAt: T0 + 1 }));
    const output = await a.start().promise;
    expect(output.token).toMatchObject({ version: 2, retryAt: T0 + 1 });
    expect(a.endpoint.received).toEqual([]);
  });

  it('a newer record with an empty access token is not usable: refreshed', async () => {
    const { shared, a } = await world();
    await shared.inner.set(KEY, login({ accessToken: '', refreshToken: 'rt-B', version: 2 }));
    await a.start().promise;
    expect(a.endpoint.received).toEqual(['rt-B']);
  });

  it('newer metadata on our own token (another instance\'s retry moment) is no result: we refresh', async () => {
    const { shared, a } = await world();
    await shared.inner.set(KEY, login({ retryAt: T0 + 60_000, version: 2 }));
    await a.start().promise;
    expect(a.endpoint.received).toEqual(['rt-0']);
  });

  it('a newer record carrying a rejection is honoured without a request, even with its token expired', async () => {
    const { shared, a } = await world();
    await shared.inner.set(KEY, login({ rejection: 'invalid_client', version: 2, expiresAt: T0 - 1 }));
    const failure = await failureOf(a.start().promise);
    expect(failure).toMatchObject({ kind: 'permanent', code: 'invalid_client' });
    expect(a.endpoint.received).toEqual([]);
    expect(a.events).toEqual([]);
  });
});

describe("a timed-out refresh's late answer (R4)", () => {
  const timedOut = (): RefreshFailedError => new RefreshFailedError('Token request failed: No response within 10000 ms');

  it('our marker stays while it may come: another instance holds back, and our next attempt adopts it with no request', async () => {
    const { shared, a } = await world();
    a.endpoint.next({ kind: 'late', error: timedOut() });
    expect(await failureOf(a.start().promise)).toMatchObject({ kind: 'transient', code: 'refresh_failed' });
    expect((await shared.inner.get(KEY))?.refreshing).toMatchObject({ by: 'A' });

    // B's token is still valid: it serves it and sends nothing, as for any holder's marker.
    const b = instance(shared, 'B');
    await b.load();
    expect(await failureOf(b.start().promise)).toMatchObject({ code: 'refresh_in_progress' });
    expect(b.endpoint.received).toEqual([]);

    a.endpoint.deliverLate();
    const retry = a.start(1);
    await flush();
    expect(await retry.promise).toMatchObject({ token: { version: expect.any(Number) } });
    expect(a.endpoint.received).toEqual(['rt-0']);
    const stored = await shared.inner.get(KEY);
    expect(stored).toMatchObject({ accessToken: 'at-1', refreshToken: 'rt-1' });
    expect(stored?.refreshing).toBeUndefined();
  });

  it('no late answer after all: the next attempt sends the refresh token again', async () => {
    const { shared, a } = await world();
    a.endpoint.next({ kind: 'late', error: timedOut() });
    await failureOf(a.start().promise);
    a.endpoint.deliverLate(true);
    await a.start(1).promise;
    expect(a.endpoint.received).toEqual(['rt-0', 'rt-0']);
    expect(await shared.inner.get(KEY)).toMatchObject({ accessToken: 'at-2', refreshToken: 'rt-2' });
  });

  it('stop() before the late answer comes: it is still written when it comes (R15), for the next process to adopt', async () => {
    const { shared, a } = await world();
    a.endpoint.next({ kind: 'late', error: timedOut() });
    await failureOf(a.start().promise);
    a.stop();
    a.endpoint.deliverLate();
    await flush();
    const stored = await shared.inner.get(KEY);
    expect(stored).toMatchObject({ accessToken: 'at-1', refreshToken: 'rt-1' });
    expect(stored?.refreshing).toBeUndefined();
    expect(a.endpoint.received).toEqual(['rt-0']);
  });

  it('a late answer that came before stop() and that no attempt took yet: written at stop()', async () => {
    const { shared, a } = await world();
    a.endpoint.next({ kind: 'late', error: timedOut() });
    await failureOf(a.start().promise);
    a.endpoint.deliverLate();
    await flush();
    a.stop();
    await flush();
    expect(await shared.inner.get(KEY)).toMatchObject({ accessToken: 'at-1', refreshToken: 'rt-1' });
    expect(a.endpoint.received).toEqual(['rt-0']);
  });

  it('stop(), and the late answer is refused by R12 but carries a rotated refresh token: that token is written', async () => {
    const { shared, a } = await world();
    a.endpoint.next({ kind: 'late', error: timedOut() });
    await failureOf(a.start().promise);
    a.stop();
    a.endpoint.deliverLate(false, { access_token: undefined });
    await flush();
    expect(await shared.inner.get(KEY)).toMatchObject({ accessToken: 'at-0', refreshToken: 'rt-1' });
  });

  it('a new login meanwhile: the late answer belongs to the old refresh token and is not adopted', async () => {
    const { shared, a } = await world();
    a.endpoint.next({ kind: 'late', error: timedOut() });
    await failureOf(a.start().promise);
    a.endpoint.deliverLate();
    const stored = (await shared.inner.get(KEY)) as TokenRecord;
    const relogin: TokenRecord = { ...login({ accessToken: 'at-login', refreshToken: 'rt-login' }), version: stored.version + 1 };
    await shared.inner.set(KEY, relogin);
    await a.load();
    await a.start(1).promise;
    expect(a.endpoint.received).toEqual(['rt-0', 'rt-login']);
  });
});

describe('holding back while another instance\'s marker stands', () => {
  const marker = { refreshing: { by: 'B', since: T0 - 10 } };

  it('sends nothing while our token is valid, and looks again no later than its expiry', async () => {
    const { shared, a } = await world(login({ ...marker, expiresAt: T0 + 500 }));
    const failure = await failureOf(a.start().promise);
    expect(failure).toMatchObject({ kind: 'transient', code: 'refresh_in_progress', retryAt: T0 + 500 });
    expect(a.endpoint.received).toEqual([]);
    expect(shared.writes).toHaveLength(0);
    expect((a.c.lastFailure as Error).message).toBe('Another instance is refreshing this credential; its result is not stored yet');
    expect(a.c.lastFailure).toMatchObject({ code: 'refresh_failed', key: KEY });
  });

  // Older than twice the lock TTL (30 s by default): its holder is dead or stuck.
  const staleMarker = { refreshing: { by: 'B', since: T0 - 60_000 } };

  it.each([
    ['the marker is our own (an earlier attempt of this instance)', login({ refreshing: { by: 'A', since: T0 - 10 } })],
    ['our token has expired and the marker is stale: trying beats certain failure', login({ ...staleMarker, expiresAt: T0 })],
    ['we hold no access token and the marker is stale', login({ ...staleMarker, accessToken: '' })],
  ])('refreshes when %s', async (_name, record) => {
    const { a } = await world(record);
    await a.start().promise;
    expect(a.endpoint.received).toEqual(['rt-0']);
  });

  it('refreshes when the marker stands on a refresh token our own rotation already replaced', async () => {
    const { shared, a } = await world(login({ refreshToken: 'rt-a' }));
    // Our rotation rt-a → rt-b could not be written; meanwhile another instance marked rt-a.
    a.c.spent = ['rt-a'];
    setRecord(a.c, login({ accessToken: 'mine', refreshToken: 'rt-b', version: 2 }));
    await shared.inner.set(KEY, login({ refreshToken: 'rt-a', ...marker, version: 2 }));
    await a.start().promise;
    expect(a.endpoint.received).toEqual(['rt-b']);
  });
});

describe('a holder whose lease lapsed mid-request while our token expired (fleet under load)', () => {
  // Seen in fleet-postgres at a load average of 15–25 (lock TTL 1 s): the holder A, starved, could
  // not extend its lock while its request was out; B, whose token had expired meanwhile, took the
  // lock, found A's marker on the refresh token it held and, its token expired, sent that same
  // refresh token. The server had rotated it for A: invalid_grant, the grant revoked.
  async function lapsedHolder() {
    const shared = sharedStore();
    await shared.inner.set(KEY, login({ expiresAt: T0 + 1_500 }));
    const a = instance(shared, 'A', { lockTtl: '1s' });
    const b = instance(shared, 'B', { lockTtl: '1s' });
    await a.load();
    shared.hooks.extendFails = true; // A's keep-alive never reaches the store in time
    a.endpoint.next({ kind: 'hold' });
    const aRun = a.start();
    await flush();
    expect(a.endpoint.received).toEqual(['rt-0']); // A's marker is stored, its request is out
    await advance(1_600); // A's lease is over; B's token (and A's) has expired
    await b.load();
    expect(b.c.record?.refreshing).toEqual({ by: 'A', since: T0 });
    return { shared, a, b, aRun };
  }

  it("B waits for the holder's result instead of sending the same refresh token, and adopts it", async () => {
    const { shared, a, b, aRun } = await lapsedHolder();
    const bRun = b.start();
    await advance(200);
    expect(b.endpoint.received).toEqual([]);
    expect(bRun.state.settled).toBe(false);
    // B waits without the lock: others waiting for it would give up on a lock held that long.
    expect(await shared.inner.lock(KEY, 1)).not.toBeNull();
    // A's answer arrives: refused by B's fence, then written version-checked (nothing newer stored).
    a.endpoint.release();
    await aRun.promise;
    expect(await shared.inner.get(KEY)).toMatchObject({ accessToken: 'at-1', refreshToken: 'rt-1', version: 3 });
    await advance(250);
    const output = await bRun.promise;
    expect(output.token.version).toBe(3);
    expect(b.c.record).toMatchObject({ accessToken: 'at-1', refreshToken: 'rt-1' });
    expect(b.endpoint.received).toEqual([]);
    expect(b.events).toEqual([]);
  });

  it('B refreshes once the marker is twice the lock TTL old and nothing came (the holder is gone)', async () => {
    const { b } = await lapsedHolder();
    const bRun = b.start();
    await advance(300);
    expect(b.endpoint.received).toEqual([]);
    await advance(200); // T0 + 2.1 s: the marker (T0) is no longer fresh
    expect((await bRun.promise).token.version).toBe(4); // B's marker, then its result
    expect(b.endpoint.received).toEqual(['rt-0']);
  });

  it('stop() while B waits: nothing is sent', async () => {
    const { b } = await lapsedHolder();
    const bRun = b.start();
    await advance(100);
    b.stop();
    await advance(500);
    expect(await failureOf(bRun.promise)).toMatchObject({ kind: 'transient', code: 'stopped' });
    expect(b.endpoint.received).toEqual([]);
  });
});

describe("a stopped holder's marker with a long lock TTL (issue 22 case 8 meets the fleet rule)", () => {
  it('B waits two stopped leases from the marker, not two 30 s TTLs, then sends', async () => {
    const shared = sharedStore();
    await shared.inner.set(KEY, login({ expiresAt: T0 + 1_500 }));
    const a = instance(shared, 'A', { lockTtl: '30s' });
    const b = instance(shared, 'B', { lockTtl: '30s' });
    await a.load();
    a.endpoint.next({ kind: 'hold' });
    void a.start();
    await flush();
    expect(a.endpoint.received).toEqual(['rt-0']);
    a.stop(); // the lease is now 3 s...
    await flush();
    shared.hooks.extendFails = true; // ...and the process exits: nothing extends it any more
    await advance(3_100);
    await b.load();
    expect(b.c.record?.refreshing).toEqual({ by: 'A', since: T0 });
    const bRun = b.start();
    await advance(2_500); // T0 + 5.6 s: the marker is still fresh, B waits
    expect(b.endpoint.received).toEqual([]);
    await advance(500); // T0 + 6.1 s: past two stopped leases, the holder is taken for gone
    expect((await bRun.promise).token.version).toBeGreaterThan(2);
    expect(b.endpoint.received).toEqual(['rt-0']);
  });
});

describe('client_credentials (no record, no refresh token) with a lock', () => {
  async function ccWorld(record?: TokenRecord) {
    const shared = sharedStore();
    if (record) await shared.inner.set(KEY, record);
    const a = instance(shared, 'A', { endpoint: scriptedEndpoint({ canRenewWithoutRefreshToken: true }) });
    return { shared, a };
  }

  it('a first token: nothing to mark, fetched and stored under the lock', async () => {
    const { shared, a } = await ccWorld();
    const output = await a.start().promise;
    expect(output.token.version).toBe(1);
    expect(shared.writes).toHaveLength(1);
    expect(shared.writes[0]?.options?.fence).toBeTypeOf('number');
    expect(await shared.inner.get(KEY)).toMatchObject({ accessToken: 'at-1', version: 1 });
  });

  it('a token another instance stored is adopted under the lock', async () => {
    const { a } = await ccWorld(login({ accessToken: 'theirs', refreshToken: undefined }));
    const output = await a.start().promise;
    expect(output.token.version).toBe(1);
    expect(a.c.record?.accessToken).toBe('theirs');
  });

  it('the holder\'s first token is adopted while waiting for its lock', async () => {
    const { shared, a } = await ccWorld();
    await shared.inner.lock(KEY, 60_000);
    const run = a.start();
    await shared.inner.set(KEY, login({ accessToken: 'theirs', refreshToken: undefined }));
    await advance(50);
    expect((await run.promise).token.version).toBe(1);
    expect(a.c.record?.accessToken).toBe('theirs');
  });
});

describe('races around the marker and a lost lock', () => {
  it('a stale record (our spent token) landing just before our marker: ours is rebased, and we still refresh', async () => {
    const { shared, a } = await world(login({ refreshToken: 'rt-a' }));
    a.c.spent = ['rt-a'];
    setRecord(a.c, login({ accessToken: 'mine', refreshToken: 'rt-b', version: 2 }));
    shared.hooks.beforeSet.push(async () => {
      // Our pending write goes first: storage is at 2 (ours). A stale instance then writes on rt-a.
    });
    shared.hooks.beforeSet.push(() => shared.inner.set(KEY, login({ refreshToken: 'rt-a', retryAt: T0 + 1, version: 3 })));
    await a.start().promise;
    expect(a.endpoint.received).toEqual(['rt-b']);
    expect(await shared.inner.get(KEY)).toMatchObject({ accessToken: 'at-1', refreshToken: 'rt-1' });
  });

  it('a paused holder that lost its lock: its failure write is refused by the fence, and the new holder\'s record kept', async () => {
    const { shared, a } = await world(login(), { lockTtl: '3s' });
    shared.hooks.extendFails = true;
    a.endpoint.next({ kind: 'hold' });
    a.endpoint.next({ kind: 'throw', error: new StorageFailedError('down', { status: 503 }) });
    const run = a.start();
    await advance(4_000);
    // B takes the expired lock; it has stored nothing yet when A's failure write arrives (the
    // version check alone would let A's write in). B's marker lands while A reads the store again.
    const b = await shared.inner.lock(KEY, 60_000);
    expect(b).not.toBeNull();
    const theirs = login({ refreshing: { by: 'B', since: T0 + 4_000 }, version: 3 });
    shared.hooks.beforeGet.push(() => shared.inner.set(KEY, theirs, { expectedVersion: 2, fence: b?.fence }));
    a.endpoint.release();
    await failureOf(run.promise);
    expect(await shared.inner.get(KEY)).toStrictEqual(theirs);
    expect(a.c.record).toStrictEqual(theirs);
  });
});

describe('stop() with a refresh in flight (issue 22, case 8)', () => {
  it('keeps its lock on a 3 s lease, extended every second while the request is out, and releases it at the end', async () => {
    const { shared, a } = await world();
    a.endpoint.next({ kind: 'hold' });
    const run = a.start();
    await flush();
    expect(shared.hooks.extends).toBe(0);
    a.stop();
    await flush();
    // Shortened at once: from 30 s (the TTL) to 3 s from now.
    expect(shared.hooks.extends).toBe(1);
    await advance(10_000);
    expect(await shared.inner.lock(KEY, 1_000)).toBeNull();
    expect(shared.hooks.extends).toBeGreaterThanOrEqual(10);
    expect(shared.hooks.extends).toBeLessThanOrEqual(12);
    a.endpoint.release();
    await run.promise;
    expect((await shared.inner.get(KEY))?.refreshToken).toBe('rt-1');
    expect(await shared.inner.lock(KEY, 1_000)).not.toBeNull();
  });

  it('the lock lapses 3 s after the process stops extending it (it exited), not after the 30 s TTL', async () => {
    const { shared, a } = await world();
    a.endpoint.next({ kind: 'hold' });
    a.start();
    await flush();
    a.stop();
    await flush();
    // The process is gone: its timers and requests with it.
    shared.hooks.extendFails = true;
    await advance(2_999);
    expect(await shared.inner.lock(KEY, 1_000)).toBeNull();
    await advance(1);
    expect(await shared.inner.lock(KEY, 1_000)).not.toBeNull();
  });

  it('a late answer is still stored after another instance took the lapsed lock and held back: the rotated token is kept (R4)', async () => {
    const { shared, a } = await world();
    a.endpoint.next({ kind: 'hold' });
    const run = a.start();
    await flush();
    a.stop();
    await flush();
    shared.hooks.extendFails = true; // paused past the lease
    await advance(3_000);
    const b = instance(shared, 'B');
    await b.load();
    // B takes the lapsed lock at once; its token is valid and A's marker stands on the refresh token
    // B would send: B sends nothing.
    const bRun = b.start();
    await flush();
    expect(bRun.state.settled).toBe(true);
    expect(await failureOf(bRun.promise)).toMatchObject({ code: 'refresh_in_progress' });
    expect(b.endpoint.received).toEqual([]);
    const writes = shared.writes.length;

    a.endpoint.release();
    await run.promise.catch(() => undefined);
    // Refused by the fence (B's lock is newer), then written version-checked: nothing was stored since.
    expect(shared.writes.slice(writes).map((w) => [w.record.refreshToken, typeof w.options?.fence])).toEqual([
      ['rt-1', 'number'],
      ['rt-1', 'undefined'],
    ]);
    expect(await shared.inner.get(KEY)).toMatchObject({ accessToken: 'at-1', refreshToken: 'rt-1', version: 3 });
    expect(await shared.inner.get(KEY)).not.toHaveProperty('refreshing');
  });

  it('a lock obtained just as stop() begins is let go at once: nothing is stored or sent', async () => {
    const { shared, a } = await world();
    shared.hooks.beforeLock.push(() => a.stop());
    const failure = await failureOf(a.start().promise);
    expect(failure).toMatchObject({ kind: 'transient', code: 'stopped' });
    expect(a.endpoint.received).toEqual([]);
    expect(shared.writes).toHaveLength(0);
    expect(a.events).toEqual([]);
    expect(await shared.inner.lock(KEY, 1_000)).not.toBeNull();
  });
});
