/**
 * Memory under churn (issue 21 case 5): what a manager keeps after work that should leave nothing
 * behind, in heap bytes per cycle after a full GC. 100,000 set/remove cycles on distinct keys (users
 * who log in and out), the same on one key, 100,000 logins on one key (each reschedules its wake-up),
 * and 1,000,000 `getToken` calls; `--quick` runs a tenth. Each figure should stay ≈ 0 B per cycle.
 * Baseline, measured in the same run: the heap one credential costs while it is held, so `ratio` is
 * the share of a credential each cycle leaves behind (before the fix: ≈ 406 B per distinct-key cycle,
 * ≈ 74 B per login on one key).
 */
import { createTokenManager } from '../machines/manager/manager.js';
import { internalsOf } from '../machines/manager/internals.js';
import { memoryStorage } from '../machines/manager/memory-storage.js';
import type { TokenManager } from '../machines/manager/api-types.js';
import { figure, type BenchOptions, type Figure } from './support/figure.js';
import { gc } from './support/measure.js';
import { opaqueToken, unusedEndpoint } from './support/tokens.js';

/** A cycle may leave a few bytes of noise (a map that has not shrunk yet); a leak leaves a credential's worth. */
const GOAL = 'value <= 8';
const WARM_UP = 2_000;

const login = { access_token: opaqueToken(), token_type: 'Bearer', expires_in: 3_600, refresh_token: opaqueToken() };

function heapUsed(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

function fresh(): TokenManager {
  return createTokenManager({ endpoint: unusedEndpoint, storage: memoryStorage() });
}

/** Heap bytes left per cycle: `cycle(i)` run `count` times after a warm-up, between two full GCs. */
async function retainedPerCycle(count: number, cycle: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < WARM_UP; i++) await cycle(-1 - i);
  const before = heapUsed();
  for (let i = 0; i < count; i++) await cycle(i);
  return (heapUsed() - before) / count;
}

async function heldPerCredential(count: number): Promise<number> {
  const manager = fresh();
  const keys = Array.from({ length: count }, (_, i) => `held:${i}`);
  await manager.setToken('warm', login);
  const before = heapUsed();
  for (const key of keys) await manager.setToken(key, login);
  const bytes = (heapUsed() - before) / count;
  await manager.stop();
  return bytes;
}

export default async function run({ quick }: BenchOptions): Promise<Figure[]> {
  const cycles = quick ? 10_000 : 100_000;
  const calls = quick ? 100_000 : 1_000_000;
  const perCredential = await heldPerCredential(quick ? 5_000 : 20_000);

  const distinct = fresh();
  const distinctBytes = await retainedPerCycle(cycles, async (i) => {
    await distinct.setToken(`user:${i}`, login);
    await distinct.remove(`user:${i}`, { revoke: false });
  });
  const leftDistinct = internalsOf(distinct)?.credentials();
  await distinct.stop();

  const oneKey = fresh();
  const oneKeyBytes = await retainedPerCycle(cycles, async () => {
    await oneKey.setToken('user', login);
    await oneKey.remove('user', { revoke: false });
  });
  await oneKey.stop();

  const relogin = fresh();
  // A lifetime that changes with every login, so each one moves the key's wake-up in the wheel.
  const reloginBytes = await retainedPerCycle(cycles, (i) => relogin.setToken('user', { ...login, expires_in: 3_600 + (i % 1_000) }));
  const wakes = internalsOf(relogin)?.scheduledWakes();
  await relogin.stop();

  const reader = fresh();
  await reader.setToken('user', login);
  const getTokenBytes = await retainedPerCycle(calls, () => reader.getToken('user'));
  await reader.stop();

  if (leftDistinct !== 0 || (wakes ?? 0) > 1) throw new Error(`churn: ${leftDistinct} credentials and ${wakes} wake-ups left behind`);
  const unit = 'B/cycle';
  const n = (x: number): string => x.toLocaleString('en-US');
  return [
    figure(`churn: heap left per set/remove cycle, ${n(cycles)} distinct keys (baseline: heap per credential held)`, distinctBytes, unit, perCredential, GOAL),
    figure(`churn: heap left per set/remove cycle, ${n(cycles)} on one key (baseline: heap per credential held)`, oneKeyBytes, unit, perCredential, GOAL),
    figure(`churn: heap left per login on one key, ${n(cycles)} logins (baseline: heap per credential held)`, reloginBytes, unit, perCredential, GOAL),
    figure(`churn: heap left per getToken call, ${n(calls)} calls (baseline: heap per credential held)`, getTokenBytes, unit, perCredential, 'value <= 1'),
  ];
}
