/**
 * Page for test/browser/machine.test.ts: the lifecycle machine on the browser's own timers, through
 * the core's chunked clock (browser timers are numbers: no `unref`).
 */
import { createActor, fromPromise } from 'xstate';
import { chunkedClock, systemClock } from '../../../machines/lifecycle/clock.js';
import { tokenDelays, tokenMachine } from '../../../machines/lifecycle/machine.js';
import type { RefreshInput, RefreshOutput } from '../../../machines/lifecycle/machine-types.js';

export interface MachineRun {
  states: string[];
  refreshes: number;
}

/** Loads a token that is due in `dueInMs` and waits until the background refresh has happened. */
async function backgroundRefresh(dueInMs: number): Promise<MachineRun> {
  const clock = chunkedClock(systemClock);
  let refreshes = 0;
  const machine = tokenMachine.provide({
    actors: {
      refreshTokens: fromPromise<RefreshOutput, RefreshInput>(async ({ input }) => {
        refreshes++;
        const at = clock.now();
        return { startedAt: at, at, token: { hasAccessToken: true, hasRefreshToken: true, obtainedAt: at, expiresAt: at + 3_600_000, version: input.version + 1 } };
      }),
    },
    delays: tokenDelays(() => clock.now()),
  });
  const actor = createActor(machine, {
    clock,
    input: {
      key: 'default',
      thresholdMs: 60_000,
      jitterFraction: 0,
      minIntervalMs: 0,
      backgroundRefresh: true,
      canRenewWithoutRefreshToken: false,
      retry: { minDelayMs: 1_000, maxDelayMs: 60_000, factor: 2, jitter: 0 },
    },
  });
  const states: string[] = [];
  actor.subscribe((snapshot) => {
    const value = JSON.stringify(snapshot.value);
    if (states.at(-1) !== value) states.push(value);
  });
  actor.start();
  const now = clock.now();
  // refreshAt = expiresAt - threshold: due in dueInMs.
  actor.send({ type: 'LOADED', now, token: { hasAccessToken: true, hasRefreshToken: true, obtainedAt: now - 3_600_000, expiresAt: now + 60_000 + dueInMs, version: 1 } });
  await new Promise<void>((resolve) => {
    const sub = actor.subscribe((snapshot) => {
      if (refreshes > 0 && snapshot.matches('valid')) {
        sub.unsubscribe();
        resolve();
      }
    });
  });
  actor.stop();
  return { states, refreshes };
}

declare global {
  interface Window {
    machinePage: { backgroundRefresh: typeof backgroundRefresh };
  }
}

window.machinePage = { backgroundRefresh };
window.pageReady = true;
