// token-lifecycle/machines: the pure core (DESIGN §2–§3).
export * from './types.js';
export * from './errors.js';
export { parseDuration } from './duration.js';
export { refreshAt, needsRefresh, isExpired, refreshJitterFor, type TokenTimes } from './refresh-policy.js';
export { backoffDelay, normalizeRetry, seededRandom, DEFAULT_RETRY, type BackoffPolicy } from './backoff.js';
export { classifyFailure, type FailureClass } from './classify.js';
export { checkTokenResponse, checkTokenSet, checkTokenInput, type ValidTokens, type TokenResponseCheck } from './token-response.js';
export { memoryStorage, type MemoryStorage } from './memory-storage.js';
export { tokenMachine, tokenMachineSetup, tokenDelays, eventTime, type TokenMachine } from './machine.js';
export type {
  TokenMeta,
  TokenMachineContext,
  TokenMachineEvent,
  TokenMachineInput,
  RefreshInput,
  RefreshOutput,
  RefreshFailure,
} from './machine-types.js';
export { chunkedClock, systemClock, MAX_TIMER_MS } from './clock.js';
export { createTokenManager } from './manager.js';
export type * from './manager-types.js';
