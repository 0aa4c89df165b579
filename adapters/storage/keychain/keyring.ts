/**
 * The port to the OS keychain: one string secret per account under a service name. `osKeyring()`
 * implements it on `@napi-rs/keyring` (an optional peer dependency, loaded on first use: macOS
 * Keychain, Windows Credential Manager, Secret Service on Linux). On Linux the entries are pinned to
 * the Secret Service: keyring-rs would otherwise fall back to the kernel keyring, which forgets
 * everything at reboot (and a refresh token with it). Every failure of the platform becomes a
 * `KeychainUnavailableError` (`storage_failed` with a hint); its message quotes the platform's
 * reason, capped, which names an operation, never a secret.
 */
import { InvalidConfigError } from '../../../machines/lifecycle/errors.js';
import { KeychainUnavailableError } from './errors.js';

export interface SecretKeyring {
  /** The secret of `account`, or undefined when there is none. */
  get(account: string): Promise<string | undefined>;
  set(account: string, secret: string): Promise<void>;
  /** Removes `account`; removing a missing one is fine. */
  delete(account: string): Promise<void>;
  /** Every account under the service. */
  accounts(): Promise<string[]>;
}

type KeyringModule = typeof import('@napi-rs/keyring');

let loaded: Promise<KeyringModule> | undefined;

function loadKeyring(): Promise<KeyringModule> {
  loaded ??= import('@napi-rs/keyring').catch((error: unknown) => {
    loaded = undefined;
    throw new InvalidConfigError(
      'the keychain store needs the optional package @napi-rs/keyring with a build for this platform (npm install @napi-rs/keyring)',
      { cause: error },
    );
  });
  return loaded;
}

const MAX_REASON = 200;

function reasonOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // One short line: the platform's words (an operation and a status, never the secret we passed).
  const line = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return line.length > MAX_REASON ? `${line.slice(0, MAX_REASON)}…` : line;
}

export interface OsKeyringOptions {
  /** The service name the entries are filed under (default `token-lifecycle`). */
  service?: string;
}

export const DEFAULT_SERVICE = 'token-lifecycle';

export function osKeyring(options: OsKeyringOptions = {}): SecretKeyring {
  const service = options.service ?? DEFAULT_SERVICE;
  if (typeof service !== 'string' || service === '') throw new InvalidConfigError('the keychain `service` must be a non-empty string');

  async function attempt<T>(operation: string, run: (keyring: KeyringModule) => Promise<T>): Promise<T> {
    const keyring = await loadKeyring();
    try {
      return await run(keyring);
    } catch (error) {
      throw new KeychainUnavailableError(`The OS keychain could not ${operation}: ${reasonOf(error)}`, { cause: error });
    }
  }
  // The constructor itself reaches for D-Bus on Linux (and throws there), so it runs inside `attempt`.
  const entry = (keyring: KeyringModule, account: string) => new keyring.AsyncEntry(service, account, { linux: { store: 'secret-service' } });

  return {
    get: (account) => attempt('read an entry', async (k) => (await entry(k, account).getPassword()) ?? undefined),
    set: (account, secret) => attempt('write an entry', (k) => entry(k, account).setPassword(secret)),
    delete: (account) => attempt('delete an entry', async (k) => void (await entry(k, account).deleteCredential())),
    accounts: () => attempt('list its entries', async (k) => (await k.findCredentialsAsync(service)).map((c) => c.account)),
  };
}
