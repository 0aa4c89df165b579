// token-lifecycle/machines: the pure core (DESIGN §2–§3).
export * from './types.js';
export * from './errors.js';
export { parseDuration } from './duration.js';
export { refreshAt, needsRefresh, isExpired, refreshJitterFor, type TokenTimes } from './refresh-policy.js';
export { backoffDelay, normalizeRetry, seededRandom, DEFAULT_RETRY, type BackoffPolicy } from './backoff.js';
export { classifyFailure, type FailureClass } from './classify.js';
export { checkTokenResponse, checkTokenSet, checkTokenInput, type ValidTokens, type TokenResponseCheck } from './token-response.js';
export { memoryStorage, type MemoryStorage } from './memory-storage.js';
