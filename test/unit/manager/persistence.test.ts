/**
 * machines/manager/persistence.ts (R4): how a credential's record reaches storage. Driven directly with a
 * memory store behind a tap (to fail or interleave writes), a simulated clock and a recording
 * runtime: write conflicts (emptied store, refused fence, stale record rebased, newer record
 * adopted), retries with backoff after a failing store, and what stop() is told.
 */
import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createCredential, setRecord, viewFor, type Credential } from '../../../machines/manager/credential.js';
import { StorageConflictError, StorageCorruptError, StorageFailedError } from '../../../machines/lifecycle/errors.js';
import { normalizeOptions } from '../../../machines/manager/options.js';
import type { TokenEvent } from '../../../machines/manager/api-types.js';
import { memoryStorage } from '../../../machines/manager/memory-storage.js';
import {
  adoptStored,
  cancelWriteRetry,
  commitRecord,
  flushPending,
  hasPendingWrite,
  noteSpent,
  reconcileStored,
  unwrittenError,
} from '../../../machines/manager/persistence.js';
import type { ManagerRuntime } from '../../../machines/manager/runtime.js';
import type { Clock, StorageSetOptions, TokenRecord, TokenStorage } from '../../../machines/lifecycle/types.js';
import { advance } from '../../support/fake-endpoint.js';

const T0 = 1_000_000;
const KEY = 'k';

type SetHook = (record: TokenRecord, options: StorageSetOptions | undefined) => Promise<void> | void;
type GetHook = () => Promise<void> | void;

function harness() {
  const clock = new SimulatedClock();
  clock.set(T0);
  // Counts the timers armed: a retry loop that never ends would show here.
  const timers = { armed: 0 };
  const countingClock: Clock = {
    now: () => clock.now(),
    setTimeout: (fn, ms) => {
      timers.armed++;
      return clock.setTimeout(fn, ms);
    },
    clearTimeout: (handle) => clock.clearTimeout(handle as never),
  };
  const inner = memoryStorage({ now: () => clock.now() });
  const writes: Array<{ record: TokenRecord; options: StorageSetOptions | undefined }> = [];
  // One-shot hooks, run before the memory store acts; a hook that throws fails that call.
  const onSet: SetHook[] = [];
  const onGet: GetHook[] = [];
  const storage: TokenStorage = {
    async get(key) {
      await onGet.shift()?.();
      return inner.get(key);
    },
    async set(key, record, options) {
      writes.push({ record: { ...record }, options: options && { ...options } });
      await onSet.shift()?.(record, options);
      return inner.set(key, record, options);
    },
    delete: (key) => inner.delete(key),
  };
  const events: TokenEvent[] = [];
  const adopted: string[] = [];
  const state = { stopped: false };
  const rt: ManagerRuntime = {
    settings: normalizeOptions({ endpoint: { refresh: async () => ({}) }, storage, clock: countingClock, random: () => 0 }),
    instanceId: 'me',
    emit: (event) => events.push(event),
    recordAdopted: (c) => adopted.push(c.key),
    isStopped: () => state.stopped,
  };
  return { clock, timers, inner, storage, writes, onSet, onGet, events, adopted, state, rt };
}

function rec(version: number, fields: Partial<TokenRecord> = {}): TokenRecord {
  return { accessToken: `at-${version}`, tokenType: 'Bearer', obtainedAt: T0, refreshToken: `rt-${version}`, version, ...fields };
}

/** A credential holding `record`, which storage holds too. */
async function stored(h: ReturnType<typeof harness>, record: TokenRecord): Promise<Credential> {
  await h.inner.set(KEY, record);
  const c = createCredential(KEY);
  setRecord(c, record);
  c.storedVersion = record.version;
  c.loaded = true;
  return c;
}

const failedEvents = (events: TokenEvent[]) => events.filter((e) => e.type === 'storage_failed');

/** Advances in small steps, so that each timer armed by a fired one fires in its turn. */
async function stepThrough(clock: SimulatedClock, ms: number, step = 250): Promise<void> {
  for (let left = ms; left > 0; left -= step) await advance(clock, Math.min(step, left));
}

describe('commitRecord: the happy path and stale results', () => {
  it('writes version-checked against what storage holds, and storage is then up to date', async () => {
    const h = harness();
    const c = await stored(h, rec(1));
    await expect(commitRecord(h.rt, c, rec(2), 1)).resolves.toBe('written');
    expect(await h.inner.get(KEY)).toEqual(rec(2));
    expect(c.storedVersion).toBe(2);
    expect(hasPendingWrite(c)).toBe(false);
    expect(viewFor(c)?.accessToken).toBe('at-2');
    // No lock held: no fence is sent at all.
    expect(h.writes[0]?.options).toStrictEqual({ expectedVersion: 1 });
  });

  it('under a lock the write carries the fence, and a newer holder refuses it', async () => {
    const h = harness();
    const c = await stored(h, rec(1));
    const first = await h.inner.lock(KEY, 1_000);
    expect(await commitRecord(h.rt, c, rec(2), 1, { fence: first?.fence })).toBe('written');
    expect(h.writes[0]?.options).toStrictEqual({ expectedVersion: 1, fence: first?.fence });
    // The lock expires while we are paused; another holder takes it and writes its own token.
    h.clock.increment(2_000);
    const second = await h.inner.lock(KEY, 1_000);
    expect(second?.fence).toBeGreaterThan(first?.fence ?? Number.POSITIVE_INFINITY);
    await h.inner.set(KEY, rec(3, { refreshToken: 'theirs' }), { expectedVersion: 2, fence: second?.fence });
    expect(await commitRecord(h.rt, c, rec(3, { refreshToken: 'ours' }), 2, { fence: first?.fence })).toBe('superseded');
    expect((await h.inner.get(KEY))?.refreshToken).toBe('theirs');
    expect(c.record?.refreshToken).toBe('theirs');
  });

  it('a credential without a record starts at version 0', async () => {
    const h = harness();
    const c = createCredential(KEY);
    expect(await commitRecord(h.rt, c, rec(1), 0)).toBe('written');
    expect(await h.inner.get(KEY)).toEqual(rec(1));
    expect(h.writes[0]?.options).toStrictEqual({ expectedVersion: 0 });
  });

  it('drops a result derived from a record the credential no longer holds', async () => {
    const h = harness();
    const c = await stored(h, rec(2));
    expect(await commitRecord(h.rt, c, rec(2, { accessToken: 'late' }), 1)).toBe('superseded');
    expect(c.record?.accessToken).toBe('at-2');
    expect(h.writes).toHaveLength(0);
  });

  it('drops a result for a removed credential', async () => {
    const h = harness();
    const c = await stored(h, rec(1));
    c.removed = true;
    expect(await commitRecord(h.rt, c, rec(2), 1)).toBe('superseded');
    expect(c.record?.version).toBe(1);
    expect(h.writes).toHaveLength(0);
    expect(hasPendingWrite(c)).toBe(false);
  });
});

describe('write conflicts', () => {
  it('an emptied store (a restart) gets our record back, with its version kept', async () => {
    const h = harness();
    const c = await stored(h, rec(4));
    await h.inner.delete(KEY);
    expect(await commitRecord(h.rt, c, rec(5), 4)).toBe('written');
    expect(await h.inner.get(KEY)).toEqual(rec(5));
    expect(h.writes.map((w) => w.options?.expectedVersion)).toEqual([4, 0]);
    expect(c.storedVersion).toBe(5);
  });

  it('a fence refused with nothing written since: ours is rewritten without the fence, version-checked', async () => {
    const h = harness();
    const c = await stored(h, rec(1));
    const ours = await h.inner.lock(KEY, 1_000);
    h.clock.increment(2_000);
    // A newer holder took the lock but stored nothing (it did not refresh).
    await h.inner.lock(KEY, 1_000);
    expect(await commitRecord(h.rt, c, rec(2), 1, { fence: ours?.fence })).toBe('written');
    expect(await h.inner.get(KEY)).toEqual(rec(2));
    expect(h.writes.map((w) => w.options)).toStrictEqual([{ expectedVersion: 1, fence: ours?.fence }, { expectedVersion: 1 }]);
  });

  it('a fence refused after the newer holder wrote: its record is adopted', async () => {
    const h = harness();
    const c = await stored(h, rec(1));
    const ours = await h.inner.lock(KEY, 1_000);
    h.clock.increment(2_000);
    const theirs = await h.inner.lock(KEY, 1_000);
    await h.inner.set(KEY, rec(2, { accessToken: 'their-at' }), { fence: theirs?.fence });
    expect(await commitRecord(h.rt, c, rec(2), 1, { fence: ours?.fence })).toBe('superseded');
    expect(c.record?.accessToken).toBe('their-at');
    expect(c.storedVersion).toBe(2);
    expect(h.writes).toHaveLength(1);
  });

  it('a stored record holding a refresh token our rotation spent is older than ours: ours is rebased on it', async () => {
    const h = harness();
    const c = await stored(h, rec(1, { refreshToken: 'rt-a' }));
    // Another instance wrote failure metadata on the old token (versions 2 and 3) during our outage.
    await h.inner.set(KEY, rec(3, { refreshToken: 'rt-a', retryAt: T0 + 5_000 }));
    const next = rec(2, { accessToken: 'ours', refreshToken: 'rt-b' });
    expect(await commitRecord(h.rt, c, next, 1, { spentRefreshToken: 'rt-a' })).toBe('written');
    expect(await h.inner.get(KEY)).toEqual({ ...next, version: 4 });
    expect(c.record).toEqual({ ...next, version: 4 });
    expect(c.storedVersion).toBe(4);
  });

  it('a newer stored record with a token we never spent is adopted', async () => {
    const h = harness();
    const c = await stored(h, rec(1, { refreshToken: 'rt-a' }));
    await h.inner.set(KEY, rec(2, { accessToken: 'login', refreshToken: 'rt-login' }));
    expect(await commitRecord(h.rt, c, rec(2, { refreshToken: 'rt-b' }), 1, { spentRefreshToken: 'rt-a' })).toBe('superseded');
    expect(c.record?.accessToken).toBe('login');
    expect(viewFor(c)?.refreshToken).toBe('rt-login');
    expect(c.storedVersion).toBe(2);
    expect(hasPendingWrite(c)).toBe(false);
  });

  it('a stored record without a refresh token is never taken for a stale one', async () => {
    const h = harness();
    const c = await stored(h, rec(1, { refreshToken: 'rt-a' }));
    const { refreshToken: _gone, ...noRefresh } = rec(2, { accessToken: 'cc' });
    await h.inner.set(KEY, noRefresh);
    noteSpent(c, undefined); // nothing to remember
    expect(c.spent).toBeUndefined();
    expect(await commitRecord(h.rt, c, rec(2, { refreshToken: 'rt-b' }), 1, { spentRefreshToken: 'rt-a' })).toBe('superseded');
    expect(c.record?.accessToken).toBe('cc');
  });

  it('a stored record holding our current refresh token is adopted, even if we once spent that token', async () => {
    const h = harness();
    const c = await stored(h, rec(1, { refreshToken: 'rt-a' }));
    noteSpent(c, 'rt-a');
    await h.inner.set(KEY, rec(2, { accessToken: 'meta', refreshToken: 'rt-a' }));
    expect(await commitRecord(h.rt, c, rec(2, { accessToken: 'ours', refreshToken: 'rt-a' }), 1)).toBe('superseded');
    expect(c.record?.accessToken).toBe('meta');
  });

  it('a result that did not rotate does not mark its own refresh token as spent', async () => {
    const h = harness();
    const c = await stored(h, rec(1, { refreshToken: 'rt-a' }));
    expect(await commitRecord(h.rt, c, rec(2, { refreshToken: 'rt-a' }), 1, { spentRefreshToken: 'rt-a' })).toBe('written');
    expect(c.spent ?? []).not.toContain('rt-a');
    expect(await commitRecord(h.rt, c, rec(3, { refreshToken: 'rt-b' }), 2, { spentRefreshToken: 'rt-a' })).toBe('written');
    expect(c.spent).toEqual(['rt-a']);
  });

  it('when memory moved on during the conflict read, the newer in-memory record is written', async () => {
    const h = harness();
    const c = await stored(h, rec(1));
    await h.inner.set(KEY, rec(2, { accessToken: 'other' }));
    const newer = rec(3, { accessToken: 'newest' });
    h.onGet.push(() => {
      setRecord(c, newer);
      c.storedVersion = 2;
    });
    expect(await commitRecord(h.rt, c, rec(2), 1)).toBe('written');
    expect(await h.inner.get(KEY)).toEqual(newer);
    expect(c.storedVersion).toBe(3);
  });

  it('a credential removed while its conflicting write re-read the store stays empty', async () => {
    const h = harness();
    const c = await stored(h, rec(1));
    await h.inner.set(KEY, rec(2, { accessToken: 'other' }));
    // What remove() does to the credential; its delete of the stored record comes later.
    h.onGet.push(() => {
      c.removed = true;
      setRecord(c, undefined);
      c.storedVersion = 0;
    });
    expect(await commitRecord(h.rt, c, rec(2), 1)).toBe('superseded');
    expect(c.record).toBeUndefined();
    expect(viewFor(c)).toBeUndefined();
    expect(h.writes).toHaveLength(1);
  });

  it('a record replaced while its write was in flight leaves storage marked behind', async () => {
    const h = harness();
    const c = await stored(h, rec(1));
    h.onSet.push(() => setRecord(c, rec(3)));
    expect(await commitRecord(h.rt, c, rec(2), 1)).toBe('written');
    expect(c.storedVersion).toBe(1);
    expect(hasPendingWrite(c)).toBe(true);
  });

  it('a conflict reported though nothing was written since we read never costs our record: it is written again', async () => {
    const h = harness();
    const c = await stored(h, rec(1));
    h.onSet.push(() => {
      throw new StorageConflictError('spurious');
    });
    expect(await commitRecord(h.rt, c, rec(2), 1)).toBe('written');
    expect(await h.inner.get(KEY)).toEqual(rec(2));
    expect(c.record).toEqual(rec(2));
  });

  it('a credential removed while its write conflicted: the result is dropped, nothing more written', async () => {
    const h = harness();
    const c = await stored(h, rec(1));
    const ours = await h.inner.lock(KEY, 1_000);
    h.clock.increment(2_000);
    await h.inner.lock(KEY, 1_000);
    h.onGet.push(() => {
      c.removed = true;
    });
    expect(await commitRecord(h.rt, c, rec(2), 1, { fence: ours?.fence })).toBe('superseded');
    expect(h.writes).toHaveLength(1);
    expect(await h.inner.get(KEY)).toEqual(rec(1));
  });

  it('gives up after four conflicting rounds: storage_conflict, the record kept pending', async () => {
    const h = harness();
    const c = await stored(h, rec(1, { refreshToken: 'rt-a' }));
    noteSpent(c, 'rt-a');
    let v = 1;
    // Every round, someone writes another stale (spent-token) version just before ours.
    for (let i = 0; i < 5; i++) h.onSet.push(async () => h.inner.set(KEY, rec(++v + 10, { refreshToken: 'rt-a' })));
    expect(await commitRecord(h.rt, c, rec(2, { refreshToken: 'rt-b' }), 1)).toBe('pending');
    expect(h.writes).toHaveLength(4);
    expect(failedEvents(h.events)).toStrictEqual([{ type: 'storage_failed', key: KEY, at: T0, code: 'storage_conflict', retrying: true }]);
    expect(hasPendingWrite(c)).toBe(true);
    expect(c.record?.refreshToken).toBe('rt-b');
    cancelWriteRetry(h.rt, c);
  });

  it('an unreadable store during a conflict leaves the record pending', async () => {
    const h = harness();
    const c = await stored(h, rec(1));
    await h.inner.set(KEY, rec(2, { accessToken: 'other' }));
    h.onGet.push(() => {
      throw new StorageCorruptError('unreadable record');
    });
    expect(await commitRecord(h.rt, c, rec(2), 1)).toBe('pending');
    expect(c.record?.accessToken).toBe('at-2');
    // The read's own error code is reported.
    expect(failedEvents(h.events)).toMatchObject([{ code: 'storage_corrupt' }]);
    cancelWriteRetry(h.rt, c);
  });
});

describe('a failing store: pending writes, retries with backoff', () => {
  it('keeps the record in memory, reports storage_failed with the store code, and retries 0.5 s, 1 s, 2 s … later', async () => {
    const h = harness();
    const c = await stored(h, rec(1));
    const fail = () => {
      throw new StorageFailedError('disk full');
    };
    h.onSet.push(fail, fail, fail);
    expect(await commitRecord(h.rt, c, rec(2), 1)).toBe('pending');
    expect(c.record?.version).toBe(2);
    expect(hasPendingWrite(c)).toBe(true);
    expect(failedEvents(h.events)).toStrictEqual([{ type: 'storage_failed', key: KEY, at: T0, code: 'storage_failed', retrying: true }]);
    const writeTimes = (): number => h.writes.length;
    await advance(h.clock, 499);
    expect(writeTimes()).toBe(1);
    await advance(h.clock, 1);
    expect(writeTimes()).toBe(2);
    // The retry failed too: the next one waits twice as long.
    await advance(h.clock, 999);
    expect(writeTimes()).toBe(2);
    await advance(h.clock, 1);
    expect(writeTimes()).toBe(3);
    await advance(h.clock, 1_999);
    expect(writeTimes()).toBe(3);
    await advance(h.clock, 1);
    expect(writeTimes()).toBe(4);
    expect(await h.inner.get(KEY)).toEqual(rec(2));
    expect(hasPendingWrite(c)).toBe(false);
    // Each failed retry was reported too; once written, nothing more is tried.
    expect(failedEvents(h.events)).toHaveLength(3);
    await advance(h.clock, 60_000);
    expect(h.writes).toHaveLength(4);
  });

  it('reports the store\'s own error code, and arms no more timers once the retry has written', async () => {
    const h = harness();
    const c = await stored(h, rec(1));
    h.onSet.push(() => {
      throw new StorageCorruptError('bad file');
    });
    expect(await commitRecord(h.rt, c, rec(2), 1)).toBe('pending');
    expect(failedEvents(h.events)).toMatchObject([{ code: 'storage_corrupt' }]);
    await advance(h.clock, 500);
    expect(await h.inner.get(KEY)).toEqual(rec(2));
    const armed = h.timers.armed;
    await stepThrough(h.clock, 60_000, 500);
    expect(h.timers.armed).toBe(armed);
    expect(h.writes).toHaveLength(2);
  });

  it('the retry delay stops growing at 30 s', async () => {
    const h = harness();
    const c = await stored(h, rec(1));
    const fail = () => {
      throw new Error('EIO');
    };
    h.onSet.push(fail, fail, fail, fail, fail, fail, fail);
    expect(await commitRecord(h.rt, c, rec(2), 1)).toBe('pending');
    // Retries at 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s; the next one 30 s later (not 32 s).
    await stepThrough(h.clock, 31_500);
    expect(h.writes).toHaveLength(7);
    await stepThrough(h.clock, 29_999);
    expect(h.writes).toHaveLength(7);
    await advance(h.clock, 1);
    expect(h.writes).toHaveLength(8);
    expect(await h.inner.get(KEY)).toEqual(rec(2));
    // A foreign error is reported as storage_failed.
    expect(new Set(failedEvents(h.events).map((e) => e.type === 'storage_failed' && e.code))).toEqual(new Set(['storage_failed']));
  });

  it('a second failure while a retry is scheduled does not schedule another one', async () => {
    const h = harness();
    const c = await stored(h, rec(1));
    const fail = () => {
      throw new Error('EIO');
    };
    h.onSet.push(fail, fail);
    expect(await commitRecord(h.rt, c, rec(2), 1)).toBe('pending');
    expect(await commitRecord(h.rt, c, rec(3), 2)).toBe('pending');
    await advance(h.clock, 500);
    // One retry, writing the newest record.
    expect(h.writes).toHaveLength(3);
    expect(await h.inner.get(KEY)).toEqual(rec(3));
  });

  it('a write that succeeds cancels the scheduled retry', async () => {
    const h = harness();
    const c = await stored(h, rec(1));
    h.onSet.push(() => {
      throw new Error('EIO');
    });
    expect(await commitRecord(h.rt, c, rec(2), 1)).toBe('pending');
    expect(await commitRecord(h.rt, c, rec(3), 2)).toBe('written');
    expect(h.writes).toHaveLength(2);
    await advance(h.clock, 60_000);
    expect(h.writes).toHaveLength(2);
    expect(c.writeRetry).toBeUndefined();
  });

  it('after stop no retry is scheduled and the failure says it is not retrying', async () => {
    const h = harness();
    const c = await stored(h, rec(1));
    h.state.stopped = true;
    h.onSet.push(() => {
      throw new Error('EIO');
    });
    expect(await commitRecord(h.rt, c, rec(2), 1)).toBe('pending');
    expect(failedEvents(h.events)).toMatchObject([{ retrying: false }]);
    await advance(h.clock, 60_000);
    expect(h.writes).toHaveLength(1);
    // stop() flushes itself: it can still write, and is told when it could not.
    h.onSet.push(() => {
      throw new StorageConflictError('busy');
    });
    h.onGet.push(() => {
      throw new StorageFailedError('down');
    });
    expect(await flushPending(h.rt, c)).toBe(false);
    expect(failedEvents(h.events)[1]).toStrictEqual({ type: 'storage_failed', key: KEY, at: h.clock.now(), code: 'storage_failed', retrying: false });
    expect(await flushPending(h.rt, c)).toBe(true);
    expect(await h.inner.get(KEY)).toEqual(rec(2));
  });

  it('cancelWriteRetry stops a scheduled retry', async () => {
    const h = harness();
    const c = await stored(h, rec(1));
    h.onSet.push(() => {
      throw new Error('EIO');
    });
    await commitRecord(h.rt, c, rec(2), 1);
    cancelWriteRetry(h.rt, c);
    await advance(h.clock, 60_000);
    expect(h.writes).toHaveLength(1);
    expect(hasPendingWrite(c)).toBe(true);
  });
});

describe('flushPending', () => {
  it('with nothing pending, writes nothing and says storage is up to date', async () => {
    const h = harness();
    const c = await stored(h, rec(1));
    expect(await flushPending(h.rt, c)).toBe(true);
    expect(h.writes).toHaveLength(0);
  });

  it('writes a pending record under the given fence', async () => {
    const h = harness();
    const c = await stored(h, rec(1));
    setRecord(c, rec(2));
    const lock = await h.inner.lock(KEY, 1_000);
    expect(await flushPending(h.rt, c, lock?.fence)).toBe(true);
    expect(h.writes[0]?.options).toStrictEqual({ expectedVersion: 1, fence: lock?.fence });
    expect(c.storedVersion).toBe(2);
    // Our own write is no news to the lifecycle.
    expect(h.adopted).toEqual([]);
  });

  it('our own record rebased over a stale stored one and written is no news to the lifecycle', async () => {
    const h = harness();
    const c = await stored(h, rec(1, { refreshToken: 'rt-a' }));
    noteSpent(c, 'rt-a');
    setRecord(c, rec(2, { refreshToken: 'rt-b' }));
    await h.inner.set(KEY, rec(3, { refreshToken: 'rt-a', retryAt: T0 }));
    expect(await flushPending(h.rt, c)).toBe(true);
    expect(await h.inner.get(KEY)).toEqual({ ...rec(2, { refreshToken: 'rt-b' }), version: 4 });
    expect(h.adopted).toEqual([]);
  });

  it('a newer stored record replacing the pending one is announced to the lifecycle', async () => {
    const h = harness();
    const c = await stored(h, rec(1));
    setRecord(c, rec(2));
    await h.inner.set(KEY, rec(2, { accessToken: 'other' }));
    expect(await flushPending(h.rt, c)).toBe(true);
    expect(h.adopted).toEqual([KEY]);
    expect(c.record?.accessToken).toBe('other');
  });

  it('a pending record dropped because the credential was removed meanwhile is not announced', async () => {
    const h = harness();
    const c = await stored(h, rec(1));
    setRecord(c, rec(2));
    const ours = await h.inner.lock(KEY, 1_000);
    h.clock.increment(2_000);
    await h.inner.lock(KEY, 1_000);
    // The fence is refused; while storage is read again, the credential is removed.
    h.onGet.push(() => {
      c.removed = true;
    });
    expect(await flushPending(h.rt, c, ours?.fence)).toBe(true);
    expect(h.adopted).toEqual([]);
    expect(h.writes).toHaveLength(1);
    expect((await h.inner.get(KEY))?.version).toBe(1);
  });
});

describe('reconcileStored / adoptStored: reading what others wrote', () => {
  it('adopts a newer record and stops any pending retry', async () => {
    const h = harness();
    const c = await stored(h, rec(1));
    h.onSet.push(() => {
      throw new Error('EIO');
    });
    await commitRecord(h.rt, c, rec(2), 1);
    await h.inner.set(KEY, rec(5, { accessToken: 'login' }));
    const adopted = await adoptStored(h.rt, c);
    expect(adopted?.accessToken).toBe('login');
    expect(c.record?.accessToken).toBe('login');
    expect(c.storedVersion).toBe(5);
    await advance(h.clock, 60_000);
    expect(h.writes).toHaveLength(1);
  });

  it('ignores a record no newer than what storage was known to hold', async () => {
    const h = harness();
    const c = await stored(h, rec(2));
    expect(reconcileStored(h.rt, c, rec(2, { accessToken: 'same-version' }))).toBeUndefined();
    expect(reconcileStored(h.rt, c, rec(1, { accessToken: 'older' }))).toBeUndefined();
    expect(reconcileStored(h.rt, c, undefined)).toBeUndefined();
    expect(c.record?.accessToken).toBe('at-2');
    expect(reconcileStored(h.rt, c, rec(3, { accessToken: 'newer' }))?.accessToken).toBe('newer');
  });

  it('a credential holding no record yet adopts whatever is stored', async () => {
    const h = harness();
    const c = createCredential(KEY);
    expect(reconcileStored(h.rt, c, rec(1))?.accessToken).toBe('at-1');
    expect(c.record).toEqual(rec(1));
    expect(c.storedVersion).toBe(1);
  });

  it('a stale stored record never makes up a record for a credential that holds none', async () => {
    const h = harness();
    const c = createCredential(KEY);
    noteSpent(c, 'rt-a');
    expect(reconcileStored(h.rt, c, rec(3, { refreshToken: 'rt-a' }))).toBeUndefined();
    expect(c.record).toBeUndefined();
    expect(viewFor(c)).toBeUndefined();
    expect(hasPendingWrite(c)).toBe(false);
  });

  it('ignores everything once the credential is removed', async () => {
    const h = harness();
    const c = await stored(h, rec(1));
    c.removed = true;
    expect(reconcileStored(h.rt, c, rec(3))).toBeUndefined();
    expect(c.record?.version).toBe(1);
  });

  it('a stored record our rotation already replaced is not adopted: ours is rebased and written later', async () => {
    const h = harness();
    const c = await stored(h, rec(1, { refreshToken: 'rt-a' }));
    h.onSet.push(() => {
      throw new Error('EIO');
    });
    await commitRecord(h.rt, c, rec(2, { refreshToken: 'rt-b' }), 1, { spentRefreshToken: 'rt-a' });
    await h.inner.set(KEY, rec(6, { refreshToken: 'rt-a', rejection: 'invalid_grant' }));
    h.writes.length = 0;
    expect(await adoptStored(h.rt, c)).toBeUndefined();
    const rebased = { ...rec(2, { refreshToken: 'rt-b' }), version: 7 };
    expect(c.record).toEqual(rebased);
    expect(c.storedVersion).toBe(6);
    await advance(h.clock, 500);
    expect(await h.inner.get(KEY)).toEqual(rebased);
  });

  it('a rebase outside a failure still schedules the write', async () => {
    const h = harness();
    const c = await stored(h, rec(1, { refreshToken: 'rt-b' }));
    noteSpent(c, 'rt-a');
    await h.inner.set(KEY, rec(4, { refreshToken: 'rt-a' }));
    expect(await adoptStored(h.rt, c)).toBeUndefined();
    expect(hasPendingWrite(c)).toBe(true);
    await advance(h.clock, 499);
    expect(h.writes).toHaveLength(0);
    await advance(h.clock, 1);
    expect(await h.inner.get(KEY)).toEqual({ ...rec(1, { refreshToken: 'rt-b' }), version: 5 });
  });

  it('adoptStored throws when the store cannot be read', async () => {
    const h = harness();
    const c = await stored(h, rec(1));
    h.onGet.push(() => {
      throw new StorageFailedError('down');
    });
    await expect(adoptStored(h.rt, c)).rejects.toMatchObject({ code: 'storage_failed' });
  });
});

describe('spent refresh tokens and small helpers', () => {
  it('remembers the last eight spent tokens, each once', async () => {
    const h = harness();
    const c = await stored(h, rec(1, { refreshToken: 'current' }));
    for (let i = 0; i < 9; i++) noteSpent(c, `s${i}`);
    noteSpent(c, 's8');
    expect(c.spent).toEqual(['s1', 's2', 's3', 's4', 's5', 's6', 's7', 's8']);
    // s0 was forgotten: a record holding it is taken for news, s1 still for a stale one.
    expect(reconcileStored(h.rt, c, rec(2, { refreshToken: 's1' }))).toBeUndefined();
    expect(reconcileStored(h.rt, c, rec(3, { refreshToken: 's0' }))?.refreshToken).toBe('s0');
    cancelWriteRetry(h.rt, c);
  });

  it('hasPendingWrite: only a present, unremoved record ahead of storage', () => {
    const c = createCredential(KEY);
    expect(hasPendingWrite(c)).toBe(false);
    setRecord(c, rec(1));
    expect(hasPendingWrite(c)).toBe(true);
    c.storedVersion = 1;
    expect(hasPendingWrite(c)).toBe(false);
    c.storedVersion = 0;
    c.removed = true;
    expect(hasPendingWrite(c)).toBe(false);
  });

  it('unwrittenError counts the credentials and names the key only when there is one', () => {
    const one = unwrittenError(['a']);
    expect(one).toMatchObject({ code: 'storage_failed', retryable: false, key: 'a' });
    expect(one.message).toBe('Refreshed tokens of 1 credential(s) could not be written to storage before stop()');
    const two = unwrittenError(['a', 'b']);
    expect(two.message).toContain('of 2 credential(s)');
    expect(two).not.toHaveProperty('key');
    expect(two.retryable).toBe(false);
    expect(unwrittenError([])).not.toHaveProperty('key');
  });
});
