// token-lifecycle/testing: drive an app's own code through every lifecycle state (DESIGN §8).
// Plain TypeScript on xstate: no test-runner import, no Node built-in (vitest, jest, node:test, browsers).
export { manualClock, DEFAULT_START, type ManualClock } from './manual-clock.js';
export {
  simulatedEndpoint,
  type SimulatedEndpoint,
  type SimulatedEndpointOptions,
  type SimulatedOutcome,
  type SimulatedCall,
} from './simulated-endpoint.js';
export type { SimulatedExchange, SimulatedExchangeOutcome, SimulatedExchanges } from './simulated-exchange.js';
export { lifecycleHarness, LIFECYCLE_SETTINGS, type LifecycleHarness, type LifecycleHarnessOptions } from './harness.js';
export {
  lifecyclePaths,
  type LifecyclePath,
  type LifecyclePathStep,
  type LifecyclePathsOptions,
  type LifecyclePathRunOptions,
  type LifecycleTarget,
} from './lifecycle-paths.js';
export { LifecyclePathError } from './driver.js';
