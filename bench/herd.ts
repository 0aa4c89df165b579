/**
 * Herd (issue 7, R7): 10,000 concurrent `getToken()` calls at the refresh moment make exactly one
 * refresh; the figure is the time from the refresh response to the last caller resolved, against
 * the floor for that: 10,000 async callers awaiting one shared promise. Best of the rounds on both
 * sides: on a shared 2-core machine single rounds stretch 5-20x when another process takes the CPU.
 */
import { createTokenManager } from '../machines/manager/manager.js';
import { memoryStorage } from '../machines/manager/memory-storage.js';
import type { TokenEndpoint, TokenSet } from '../machines/lifecycle/types.js';
import { figure, type BenchOptions, type Figure } from './support/figure.js';
import { deferred, ManualClock, nextMacrotask } from './support/manual-clock.js';
import { gc, stopwatch, timeUnit } from './support/measure.js';
import { opaqueToken } from './support/tokens.js';

const CALLERS = 10_000;
const T0 = Date.UTC(2030, 0, 1);
const LIFETIME_S = 3600;
const THRESHOLD_MS = 5 * 60_000;

interface Round {
  readonly refreshes: number;
  readonly ms: number;
}

/**
 * One manager for all rounds (as in a service: the figure is the steady state, not V8 compiling a
 * fresh manager's closures). Each round moves the clock to the current token's refresh moment.
 */
async function herdOfOneManager(): Promise<() => Promise<Round>> {
  const clock = new ManualClock(T0);
  let refreshes = 0;
  let called = deferred<void>();
  let response = deferred<unknown>();
  const endpoint: TokenEndpoint = {
    refresh: () => {
      refreshes++;
      called.resolve();
      return response.promise;
    },
  };
  const key = 'herd';
  const manager = createTokenManager({ endpoint, storage: memoryStorage({ now: () => clock.now() }), clock, refreshThreshold: THRESHOLD_MS });
  await manager.setToken(key, { access_token: opaqueToken(), token_type: 'Bearer', expires_in: LIFETIME_S, refresh_token: opaqueToken() });
  return async () => {
    const before = refreshes;
    const expiresAt = manager.status(key).expiresAt as number;
    // The refresh moment itself (R1: needsRefresh is inclusive): the token is still valid.
    clock.time = expiresAt - THRESHOLD_MS;
    const callers: Array<Promise<TokenSet>> = [];
    for (let i = 0; i < CALLERS; i++) callers.push(manager.getToken(key));
    await called.promise;
    await nextMacrotask(); // every caller is parked on the refresh by now
    gc(); // both sides start from a clean heap: the figure is the wake-up, not earlier garbage
    const fresh = opaqueToken();
    const elapsed = stopwatch();
    response.resolve({ access_token: fresh, token_type: 'Bearer', expires_in: LIFETIME_S, refresh_token: opaqueToken() });
    const results = await Promise.all(callers);
    const ms = elapsed();
    if (results.some((t) => t.accessToken !== fresh)) throw new Error('herd: a caller did not get the refreshed token');
    called = deferred<void>();
    response = deferred<unknown>();
    await nextMacrotask();
    return { refreshes: refreshes - before, ms };
  };
}

async function baselineRound(): Promise<number> {
  const response = deferred<TokenSet>();
  const caller = async (): Promise<TokenSet> => response.promise;
  const callers: Array<Promise<TokenSet>> = [];
  for (let i = 0; i < CALLERS; i++) callers.push(caller());
  await nextMacrotask();
  gc();
  const elapsed = stopwatch();
  response.resolve({ accessToken: opaqueToken(), tokenType: 'Bearer' });
  await Promise.all(callers);
  return elapsed();
}

export default async function run({ quick }: BenchOptions): Promise<Figure[]> {
  const rounds = quick ? 10 : 30;
  const managerRound = await herdOfOneManager();
  await managerRound(); // warm-up: compile the paths before timing them
  await baselineRound();
  const manager: Round[] = [];
  const baseline: number[] = [];
  for (let i = 0; i < rounds; i++) {
    manager.push(await managerRound());
    baseline.push(await baselineRound());
  }
  const refreshes = Math.max(...manager.map((r) => r.refreshes));
  return [
    figure(`herd: refreshes for ${CALLERS.toLocaleString('en-US')} concurrent getToken() (max of ${rounds} rounds)`, refreshes, 'refreshes', 1, 'value == 1'),
    figure(
      `herd: refresh response -> last of ${CALLERS.toLocaleString('en-US')} callers resolved (best of ${rounds}), vs one shared promise`,
      Math.min(...manager.map((r) => r.ms)),
      timeUnit('ms'),
      Math.min(...baseline),
      'info',
    ),
  ];
}
