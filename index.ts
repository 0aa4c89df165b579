// token-lifecycle: the manager, errors, types and the default memory storage (DESIGN §4).
export * from './machines/types.js';
export * from './machines/errors.js';
export { memoryStorage, type MemoryStorage } from './machines/memory-storage.js';
export { parseDuration } from './machines/duration.js';
export { createTokenManager } from './machines/manager.js';
export type * from './machines/manager-types.js';
