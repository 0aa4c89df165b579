// token-lifecycle/machines: the pure core (DESIGN §2–§3).
export * from './lifecycle/types.js';
export * from './lifecycle/errors.js';
export { parseDuration } from './lifecycle/duration.js';
export { refreshAt, needsRefresh, isExpired, refreshJitterFor, type TokenTimes } from './lifecycle/refresh-policy.js';
export { backoffDelay, normalizeRetry, seededRandom, DEFAULT_RETRY, type BackoffPolicy } from './lifecycle/backoff.js';
export { classifyFailure, type FailureClass } from './lifecycle/classify.js';
export { checkTokenResponse, checkTokenSet, checkTokenInput, type ValidTokens, type TokenResponseCheck, type TokenTypeSupport } from './lifecycle/token-response.js';
export { checkExchangeResponse, TOKEN_TYPES, TOKEN_EXCHANGE_GRANT, type ExchangeExpectations, type ExchangeResponseCheck } from './lifecycle/exchange-response.js';
export { memoryStorage, type MemoryStorage } from './manager/memory-storage.js';
export { tokenMachine, tokenMachineSetup, tokenDelays, eventTime, type TokenMachine } from './lifecycle/machine.js';
export type {
  TokenMeta,
  TokenMachineContext,
  TokenMachineEvent,
  TokenMachineInput,
  RefreshInput,
  RefreshOutput,
  RefreshFailure,
} from './lifecycle/machine-types.js';
export { chunkedClock, systemClock, MAX_TIMER_MS } from './lifecycle/clock.js';
export { createTokenManager } from './manager/manager.js';
export { derivedCredentials } from './manager/derive.js';
export { openTelemetry } from './telemetry/telemetry.js';
export type { OpenTelemetryOptions, MeterLike, TracerLike } from './telemetry/otel-types.js';
export type * from './manager/api-types.js';
