import { normalizeRetry, type BackoffPolicy } from '../lifecycle/backoff.js';
import { chunkedClock, systemClock } from '../lifecycle/clock.js';
import { parseDuration } from '../lifecycle/duration.js';
import { InvalidConfigError } from '../lifecycle/errors.js';
import type { CallbackErrorHandler, TelemetryPlugin, TokenManagerOptions } from './api-types.js';
import { privateMemoryStorage } from './memory-storage.js';
import type { Clock, TokenEndpoint, TokenStorage } from '../lifecycle/types.js';

/** The manager's options, validated and normalised once (ky style). */
export interface ManagerSettings {
  readonly endpoint: TokenEndpoint;
  readonly storage: TokenStorage;
  readonly thresholdMs: number;
  readonly backgroundRefresh: boolean;
  readonly retry: BackoffPolicy;
  readonly minIntervalMs: number;
  readonly jitterFraction: number;
  readonly maxConcurrentRefreshes: number;
  readonly lockTtlMs: number;
  readonly stopTimeoutMs: number;
  /** The injected clock, with chunked, unref'ed timers (R11). */
  readonly clock: Clock;
  readonly onReauthRequired: TokenManagerOptions['onReauthRequired'];
  readonly inspect: TokenManagerOptions['inspect'];
  readonly onError: CallbackErrorHandler | undefined;
  readonly random: () => number;
  readonly telemetry: TelemetryPlugin | undefined;
}

export const DEFAULTS = {
  refreshThreshold: '5m',
  minRefreshInterval: '2s',
  lockTtl: '30s',
  stopTimeout: '10s',
} as const;

/** A lock that expires as it is taken protects nothing. */
function positive(ms: number, name: string): number {
  if (ms <= 0) throw new InvalidConfigError(`${name} must be longer than 0`);
  return ms;
}

export function normalizeOptions(options: TokenManagerOptions): ManagerSettings {
  if (typeof options !== 'object' || options === null) throw new InvalidConfigError('options are required');
  const { endpoint } = options;
  if (typeof endpoint !== 'object' || endpoint === null || typeof endpoint.refresh !== 'function') {
    throw new InvalidConfigError('endpoint must be an object with a refresh() method');
  }
  const jitterFraction = options.refreshJitter ?? 0;
  if (!Number.isFinite(jitterFraction) || jitterFraction < 0 || jitterFraction > 1) {
    throw new InvalidConfigError('refreshJitter must be a fraction between 0 and 1');
  }
  const maxConcurrentRefreshes = options.maxConcurrentRefreshes ?? Number.POSITIVE_INFINITY;
  if (!(maxConcurrentRefreshes >= 1)) throw new InvalidConfigError('maxConcurrentRefreshes must be ≥ 1');
  const clock = options.clock ?? systemClock;
  if (typeof clock.now !== 'function' || typeof clock.setTimeout !== 'function' || typeof clock.clearTimeout !== 'function') {
    throw new InvalidConfigError('clock must have now(), setTimeout() and clearTimeout()');
  }
  for (const name of ['onError', 'onReauthRequired'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') throw new InvalidConfigError(`${name} must be a function`);
  }
  const { telemetry } = options;
  if (telemetry !== undefined && typeof telemetry?.attach !== 'function') {
    throw new InvalidConfigError('telemetry takes openTelemetry(...)');
  }
  return {
    endpoint,
    // A store only this manager can reach needs no lock (memory-storage.ts).
    storage: options.storage ?? privateMemoryStorage(),
    thresholdMs: parseDuration(options.refreshThreshold ?? DEFAULTS.refreshThreshold, 'refreshThreshold'),
    backgroundRefresh: options.backgroundRefresh ?? true,
    retry: normalizeRetry(options.retry),
    minIntervalMs: parseDuration(options.minRefreshInterval ?? DEFAULTS.minRefreshInterval, 'minRefreshInterval'),
    jitterFraction,
    maxConcurrentRefreshes,
    lockTtlMs: positive(parseDuration(options.lockTtl ?? DEFAULTS.lockTtl, 'lockTtl'), 'lockTtl'),
    stopTimeoutMs: parseDuration(options.stopTimeout ?? DEFAULTS.stopTimeout, 'stopTimeout'),
    clock: chunkedClock(clock),
    onReauthRequired: options.onReauthRequired,
    inspect: options.inspect,
    onError: options.onError,
    random: options.random ?? Math.random,
    telemetry,
  };
}
