// token-lifecycle/adapters/keychain (Node only): secrets in the OS keychain through @napi-rs/keyring
// (an optional peer dependency), metadata in a file store.
export { keychainStorage, type KeychainStorage, type KeychainStorageOptions } from './keychain-storage.js';
export { osKeyring, type OsKeyringOptions, type SecretKeyring } from './keyring.js';
export { KeychainUnavailableError } from './errors.js';
