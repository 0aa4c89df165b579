// token-lifecycle/adapters/memory: the core's memory storage, re-exported beside the other stores.
export { memoryStorage, type MemoryStorage } from '../../../machines/manager/memory-storage.js';
