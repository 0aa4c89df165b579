/**
 * A manager on a simulated clock, memory storage and a scripted endpoint: the set-up the unit
 * tests of manager behaviour share (no jitter: `random` is 0).
 */
import { SimulatedClock } from 'xstate';
import { createTokenManager } from '../../machines/manager/manager.js';
import type { TokenManagerOptions } from '../../machines/manager/api-types.js';
import { memoryStorage } from '../../machines/manager/memory-storage.js';
import { scriptedEndpoint } from './fake-endpoint.js';

/** The simulated clock's start (epoch ms). */
export const T0 = 10_000_000;

export function simulatedManager(extra: Partial<TokenManagerOptions> = {}, endpointOptions: Parameters<typeof scriptedEndpoint>[0] = {}) {
  const clock = new SimulatedClock();
  clock.set(T0);
  const endpoint = scriptedEndpoint(endpointOptions);
  const storage = memoryStorage({ now: () => clock.now() });
  const manager = createTokenManager({ endpoint, storage, clock, random: () => 0, ...extra });
  return { clock, endpoint, storage, manager };
}
