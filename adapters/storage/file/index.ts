// token-lifecycle/adapters/file: credentials in one JSON file, shared safely between processes.
export { fileStorage, type FileStorage, type FileStorageOptions } from './file-storage.js';
