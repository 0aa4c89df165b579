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

export class KeychainUnavailableError extends StorageFailedError {
  /** What to do about it (one line, no secrets). */
  readonly hint: string = KEYCHAIN_HINT;

  constructor(message: string, options: TokenLifecycleErrorOptions = {}) {
    super(message, options);
  }
}
