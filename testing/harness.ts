/**
 * The world a lifecycle path runs in: a real manager on a manual clock, a simulated endpoint and a
 * memory storage, with the timing settings the paths were generated for. An app builds its own code
 * on `harness.manager` (or makes the manager itself through `createManager`, adding its options).
 */
import { createTokenManager, memoryStorage, type MemoryStorage, type TokenManager, type TokenManagerOptions } from '../index.js';
import { manualClock, type ManualClock } from './manual-clock.js';
import { ISSUED_LIFETIME_MS, MIN_INTERVAL_MS, RETRY_POLICY, THRESHOLD_MS } from './model/machine.js';
import { simulatedEndpoint, type SimulatedEndpoint } from './simulated-endpoint.js';

/**
 * The settings the paths assume (their times are computed from them): a 5-minute refresh threshold,
 * a 2-second minimum interval between refreshes, a constant 1-second backoff without jitter, and
 * tokens that live one hour. A manager made with other timing options does not follow the paths.
 */
export const LIFECYCLE_SETTINGS = {
  refreshThreshold: THRESHOLD_MS,
  minRefreshInterval: MIN_INTERVAL_MS,
  retry: { minDelay: RETRY_POLICY.minDelayMs, maxDelay: RETRY_POLICY.maxDelayMs, factor: RETRY_POLICY.factor, jitter: RETRY_POLICY.jitter, maxRetryAfter: '1d' },
  tokenLifetimeMs: ISSUED_LIFETIME_MS,
} as const;

export interface LifecycleHarnessOptions {
  /** The credential key the paths drive (default `'default'`, the key `getToken()` and `authFetch` use). */
  readonly key?: string;
  /** R3: must match the paths' own `backgroundRefresh` (default true). */
  readonly backgroundRefresh?: boolean;
  /**
   * Makes the manager from the options the paths need (endpoint, storage, clock, timing). Add your
   * own (`onReauthRequired`, `inspect`, ...) but keep these. Default: `createTokenManager(options)`.
   */
  readonly createManager?: (options: TokenManagerOptions) => TokenManager;
  /** The manual clock's start (epoch ms). */
  readonly start?: number;
}

export interface LifecycleHarness {
  readonly key: string;
  readonly backgroundRefresh: boolean;
  readonly clock: ManualClock;
  readonly endpoint: SimulatedEndpoint;
  readonly storage: MemoryStorage;
  readonly manager: TokenManager;
  /** Answers every request still in flight (with tokens), then stops the manager. */
  dispose(): Promise<void>;
}

export function lifecycleHarness(options: LifecycleHarnessOptions = {}): LifecycleHarness {
  const clock = manualClock(options.start === undefined ? {} : { start: options.start });
  const endpoint = simulatedEndpoint({ clock, expiresIn: LIFECYCLE_SETTINGS.tokenLifetimeMs / 1000 });
  const storage = memoryStorage({ now: () => clock.now() });
  const backgroundRefresh = options.backgroundRefresh ?? true;
  const managerOptions: TokenManagerOptions = {
    endpoint,
    storage,
    clock,
    backgroundRefresh,
    refreshThreshold: LIFECYCLE_SETTINGS.refreshThreshold,
    minRefreshInterval: LIFECYCLE_SETTINGS.minRefreshInterval,
    retry: { ...LIFECYCLE_SETTINGS.retry },
    // No jitter in the backoff: the paths predict exact retry moments.
    random: () => 0,
    stopTimeout: 100,
  };
  const manager = (options.createManager ?? createTokenManager)(managerOptions);
  return {
    key: options.key ?? 'default',
    backgroundRefresh,
    clock,
    endpoint,
    storage,
    manager,
    async dispose() {
      while (endpoint.answer()) await clock.settle();
      await clock.settle();
      await manager.stop();
    },
  };
}
