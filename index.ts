// token-lifecycle: the manager, errors, types and the default memory storage (DESIGN §4).
export * from './machines/lifecycle/types.js';
export * from './machines/lifecycle/errors.js';
export { memoryStorage, type MemoryStorage } from './machines/manager/memory-storage.js';
export { parseDuration } from './machines/lifecycle/duration.js';
export { createTokenManager } from './machines/manager/manager.js';
export { openTelemetry } from './machines/telemetry/telemetry.js';
export { derivedCredentials } from './machines/manager/derive.js';
export type { OpenTelemetryOptions, MeterLike, TracerLike } from './machines/telemetry/otel-types.js';
export type * from './machines/manager/api-types.js';
export { sealedStorage, type SealedStorageOptions } from './machines/sealed/sealed-storage.js';
export type { SealingKey } from './machines/sealed/sealing-keys.js';
