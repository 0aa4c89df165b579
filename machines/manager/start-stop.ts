/** `start()` loads every stored key; `stop()` ends the lifecycle (R15): timers, waiters, in-flight refreshes, pending writes. */
import type { Actors } from './actors.js';
import type { Credential } from './credential.js';
import { NotFoundError } from '../lifecycle/errors.js';
import type { Loading } from './loading.js';
import type { RefreshRunner } from './actors.js';
import { cancelWriteRetry, flushPending, hasPendingWrite, unwrittenError } from './persistence.js';
import type { ManagerCore } from './runtime.js';
import type { Waiting } from './waiting.js';

const START_BATCH = 1024;

export function createStartStop(core: ManagerCore, actors: Actors, loading: Loading, waiting: Waiting, runner: Pick<RefreshRunner, 'stop'>) {
  const { credentials, settings } = core;

  async function start(): Promise<void> {
    core.assertRunning();
    loading.followStorage();
    const keys = (await settings.storage.keys?.()) ?? [];
    const loadKey = (key: string) => loading.load(key).catch((error: unknown) => (error instanceof NotFoundError ? undefined : Promise.reject(error)));
    // In batches: 100,000 load chains alive at once spend most of their time in the garbage collector.
    for (let i = 0; i < keys.length; i += START_BATCH) await Promise.all(keys.slice(i, i + START_BATCH).map(loadKey));
  }

  async function stop(): Promise<void> {
    if (core.stopped) return;
    core.stopped = true;
    // Refreshes in flight go on (R15) and keep their locks while this process lives, on a short lease
    // from now: a process that exits after stop() (a CLI) leaves the next one seconds to wait, not the
    // lock TTL (issue 22, case 8). One that lives on writes its late answer, and the next adopts it.
    // A timed-out request kept for its late answer (R4) is given up: nobody will adopt its answer now.
    runner.stop();
    actors.stopWaking();
    loading.unfollowStorage();
    // Nothing starts after stop(): every actor (and its timers) stops now, and every caller still
    // waiting gets `stopped`. An in-flight refresh is not aborted (R15): its promise goes on without
    // the actor and persists its result itself, even after stop() has returned.
    const writes: Array<{ c: Credential; busy: Array<Promise<unknown>> }> = [];
    for (const c of credentials.values()) {
      c.freshUntil = Number.NEGATIVE_INFINITY;
      const busy = [c.inflight, c.writeRetry?.running].filter((p): p is Promise<unknown> => p !== undefined);
      cancelWriteRetry(core, c);
      c.actor?.stop();
      if (busy.length > 0 || hasPendingWrite(c)) writes.push({ c, busy });
    }
    waiting.stop();
    const unwritten = await settleWrites(writes);
    if (unwritten.length > 0) throw unwrittenError(unwritten);
  }

  /**
   * Lets refreshes in flight and write retries finish, then writes what storage lacks, all within
   * one bound (stopTimeout). Resolves to the keys whose tokens are not in storage at the end; each is
   * told by a `storage_failed` event (once: a write that failed has told it already).
   */
  async function settleWrites(writes: Array<{ c: Credential; busy: Array<Promise<unknown>> }>): Promise<string[]> {
    if (writes.length === 0) return [];
    const written = new Map<Credential, boolean>();
    const all = writes.map(async ({ c, busy }) => {
      await Promise.allSettled(busy);
      // flushPending never throws for a failed write (it reports it); anything else counts as not written.
      written.set(c, await flushPending(core, c).catch(() => false));
    });
    await within(Promise.all(all), settings.stopTimeoutMs);
    const unwritten: string[] = [];
    for (const { c } of writes) {
      const outcome = written.get(c);
      if (outcome === true || (outcome === undefined && !hasPendingWrite(c))) continue;
      // Still writing at the bound (a store that hangs): told here; the write goes on, unawaited.
      if (outcome === undefined) core.emit({ type: 'storage_failed', key: c.key, at: core.now(), code: 'storage_failed', retrying: false });
      unwritten.push(c.key);
    }
    return unwritten;
  }

  return { start, stop };
}

/**
 * Resolves when `work` settles or after `ms`, whichever is first. Real time: it bounds real I/O (an
 * injected clock may be simulated). The timer is ref'ed on purpose: the process stays alive while
 * stop() waits, and only that long (an unref'ed one let Node drop an awaited stop() and exit 13).
 */
function within(work: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    work.then(done, done);
  });
}
