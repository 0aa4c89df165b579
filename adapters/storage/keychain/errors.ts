/**
 * The keychain adapter's one error of its own: the OS keychain could not be used (no Secret Service
 * on the session D-Bus, a locked keyring, a refused access). It is a `storage_failed` like any store
 * failure (DESIGN §4: retryable, the manager retries a write until it succeeds, R4), and it carries
 * a `hint` saying what to do, which the CLI prints. Nothing is ever written anywhere else instead.
 */
import { StorageFailedError, type TokenLifecycleErrorOptions } from '../../../machines/lifecycle/errors.js';

export const KEYCHAIN_HINT =
  'no usable OS keychain, and nothing was written in its place: on Linux a Secret Service (GNOME Keyring, KWallet, KeePassXC) ' +
  'must run, unlocked, on the session D-Bus (DBUS_SESSION_BUS_ADDRESS); on a headless machine start one with ' +
  '`dbus-run-session` and `gnome-keyring-daemon --unlock` (docs/cli.md), or keep the tokens in a 0600 file instead (--store file)';

/** For an entry a record names that the keychain does not give back. */
export const MISSING_ENTRY_HINT =
  'unlock the OS keychain, or run where the token was stored (the same user session); if its entry was removed, ' +
  'log in again, or delete the record (token-lifecycle token delete --no-revoke)';

export class KeychainUnavailableError extends StorageFailedError {
  /** What to do about it (one line, no secrets). */
  readonly hint: string;

  constructor(message: string, options: TokenLifecycleErrorOptions & { hint?: string } = {}) {
    const { hint, ...rest } = options;
    super(message, rest);
    this.hint = hint ?? KEYCHAIN_HINT;
  }
}
