/** `start()` loads every stored key; `stop()` ends the lifecycle (R15): timers, waiters, in-flight refreshes, pending writes. */
import type { Actors } from './actors.js';
import { unrefTimer } from '../lifecycle/clock.js';
import { NotFoundError } from '../lifecycle/errors.js';
import type { Loading } from './loading.js';
import { cancelWriteRetry, flushPending, unwrittenError } from './persistence.js';
import type { ManagerCore } from './runtime.js';
import type { Waiting } from './waiting.js';

const START_BATCH = 1024;

export function createStartStop(core: ManagerCore, actors: Actors, loading: Loading, waiting: Waiting) {
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
    actors.stopWaking();
    loading.unfollowStorage();
    // Nothing starts after stop(): every actor (and its timers) stops now. An in-flight refresh is
    // not aborted (R15): its promise goes on without the actor and persists its result itself.
    for (const c of credentials.values()) {
      c.freshUntil = Number.NEGATIVE_INFINITY;
      cancelWriteRetry(core, c);
      c.actor?.stop();
      waiting.releaseWaiters(c);
    }
    const inflight = [...credentials.values()].flatMap((c) => (c.inflight ? [c.inflight] : []));
    if (inflight.length > 0) {
      // Bounded wait, in real time: it bounds a real wait for real I/O.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, settings.stopTimeoutMs);
        unrefTimer(timer);
      });
      await Promise.race([Promise.allSettled(inflight), bound]);
      clearTimeout(timer);
    }
    const unwritten: string[] = [];
    for (const c of credentials.values()) {
      if (!(await flushPending(core, c))) unwritten.push(c.key);
    }
    if (unwritten.length > 0) throw unwrittenError(unwritten);
  }

  return { start, stop };
}
