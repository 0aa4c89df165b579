/**
 * An in-memory stand-in for the OS keychain (the `SecretKeyring` port of adapters/storage/keychain),
 * for the keychain store's unit tests: the same entries a keychain would hold, countable, and a switch
 * that makes every call fail as a missing Secret Service does.
 */
import { KeychainUnavailableError } from '../../adapters/storage/keychain/errors.js';
import type { SecretKeyring } from '../../adapters/storage/keychain/keyring.js';

export interface MemoryKeyring extends SecretKeyring {
  readonly entries: Map<string, string>;
  /** While true every call rejects like an OS keychain without a Secret Service. */
  unavailable: boolean;
  /** Calls that failed on a delete this many more times (then succeed). */
  failDeletes: number;
}

export function memoryKeyring(): MemoryKeyring {
  const entries = new Map<string, string>();
  const keyring: MemoryKeyring = {
    entries,
    unavailable: false,
    failDeletes: 0,
    async get(account) {
      check();
      return entries.get(account);
    },
    async set(account, secret) {
      check();
      entries.set(account, secret);
    },
    async delete(account) {
      check();
      if (keyring.failDeletes > 0) {
        keyring.failDeletes--;
        throw new KeychainUnavailableError('The OS keychain could not delete an entry: test');
      }
      entries.delete(account);
    },
    async accounts() {
      check();
      return [...entries.keys()];
    },
  };
  function check(): void {
    if (keyring.unavailable) throw new KeychainUnavailableError('The OS keychain could not be reached: test (no Secret Service)');
  }
  return keyring;
}
