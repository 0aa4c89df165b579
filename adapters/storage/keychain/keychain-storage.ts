/**
 * `keychainStorage({ path })` (DESIGN §9, "OS keychain"): the secrets of each record (access,
 * refresh and ID tokens) in the OS keychain, everything else in a `fileStorage` document at `path`.
 * The file store decides every write (its store lock, compare-and-set by version, fencing), its
 * per-key locks are this store's locks, and its change feed is this store's feed: the keychain only
 * holds values that a file record names (./entries.ts). When the keychain cannot be used, every
 * operation fails with `storage_failed` (KeychainUnavailableError, with a hint) and nothing is
 * written: never a token in clear text in its place.
 *
 * A write: secrets into a new keychain entry, then the record (with markers) into the file; if the
 * file refuses (conflict, fence, disk), the new entry is removed; if it accepts, the entry the
 * previous record named is removed. A read that finds its entry gone (a writer replaced it meanwhile)
 * reads the file again; an entry that stays missing is `storage_failed` (a locked keychain looks the same). A delete removes the entry, then the record, then sweeps entries of the key
 * left by a crashed writer (older than `sweepAfter`, named by no record).
 */
import { createHash } from 'node:crypto';
import { parseDuration } from '../../../machines/lifecycle/duration.js';
import { StorageCorruptError } from '../../../machines/lifecycle/errors.js';
import type { Duration, StorageSetOptions, TokenRecord } from '../../../machines/lifecycle/types.js';
import { recordProblem } from '../file/document.js';
import { fileStorage, type FileStorage, type FileStorageOptions } from '../file/file-storage.js';
import { KeychainUnavailableError, MISSING_ENTRY_HINT } from './errors.js';
import { accountOf, accountTime, newAccount, secretsOf, withMarkers, withSecrets } from './entries.js';
import { osKeyring, DEFAULT_SERVICE, type SecretKeyring } from './keyring.js';

export interface KeychainStorageOptions extends FileStorageOptions {
  /** The service name of the keychain entries (default `token-lifecycle`). */
  service?: string;
  /** Another keychain than the OS one (tests, or a platform of your own). Default: `osKeyring({ service })`. */
  keyring?: SecretKeyring;
  /** A delete also removes entries of its key that no record names and that are older than this (default 1 minute). */
  sweepAfter?: Duration;
}

export interface KeychainStorage extends FileStorage {
  /** The keychain service name the secrets are filed under. */
  readonly service: string;
}

/** Reads that find their entry replaced under them try again this often. */
const READ_ATTEMPTS = 3;

export function keychainStorage(options: KeychainStorageOptions): KeychainStorage {
  const files = fileStorage(options);
  const service = options.service ?? DEFAULT_SERVICE;
  const keyring = options.keyring ?? osKeyring({ service });
  const sweepAfterMs = parseDuration(options.sweepAfter ?? 60_000, 'sweepAfter');
  const now = options.now ?? Date.now;
  // Two stores (two files) share one keychain service without touching each other's entries.
  const storeTag = createHash('sha256').update(files.path).digest('hex').slice(0, 8);

  async function read(key: string): Promise<TokenRecord | undefined> {
    for (let attempt = 1; ; attempt++) {
      const stored = await files.get(key);
      if (stored === undefined) return undefined;
      const account = accountOf(key, stored);
      if (account === undefined) return stored;
      const entry = await keyring.get(account);
      if (entry !== undefined) return withSecrets(key, stored, entry);
      if (attempt === READ_ATTEMPTS) {
        // Not necessarily gone: a locked keychain, or one without its default collection, answers
        // "no such entry" too (gnome-keyring does). So: storage_failed, not storage_corrupt.
        throw new KeychainUnavailableError(
          `The keychain entry of key ${JSON.stringify(key)} was not found: the keychain is locked or not the one the token was stored in, ` +
            'or the entry was removed outside token-lifecycle; the record was left untouched',
          { key, hint: MISSING_ENTRY_HINT },
        );
      }
    }
  }

  /** The account the stored record names, if it can be told (a corrupt record names none we may remove). */
  async function storedAccount(key: string): Promise<string | undefined> {
    try {
      const stored = await files.get(key);
      return stored === undefined ? undefined : accountOf(key, stored);
    } catch (error) {
      if (error instanceof StorageCorruptError) return undefined;
      throw error;
    }
  }

  async function sweep(key: string): Promise<void> {
    const before = now() - sweepAfterMs;
    const named = await storedAccount(key);
    for (const account of await keyring.accounts()) {
      const made = accountTime(account, key, storeTag);
      if (made !== undefined && made < before && account !== named) await keyring.delete(account);
    }
  }

  return {
    ...files,
    service,
    get: read,
    async set(key: string, record: TokenRecord, setOptions?: StorageSetOptions): Promise<void> {
      const problem = recordProblem(record);
      // The file store refuses it too; refusing first keeps its secrets out of the keychain.
      if (problem !== undefined) return files.set(key, record, setOptions);
      const previous = await storedAccount(key);
      const secrets = secretsOf(record);
      let account: string | undefined;
      if (Object.keys(secrets).length > 0) {
        account = newAccount(key, storeTag, now());
        await keyring.set(account, JSON.stringify(secrets));
      }
      try {
        await files.set(key, account === undefined ? record : withMarkers(record, secrets, account), setOptions);
      } catch (error) {
        if (account !== undefined) await keyring.delete(account).catch(() => undefined);
        throw error;
      }
      // The replaced secrets; a failure here leaves an entry no record names, which a delete sweeps.
      if (previous !== undefined && previous !== account) await keyring.delete(previous).catch(() => undefined);
    },
    async delete(key: string): Promise<void> {
      const account = await storedAccount(key);
      // The entry first: if the record's removal then fails, a read says the entry is missing and a
      // second delete finishes the job; the other order could leave secrets that no record names.
      if (account !== undefined) await keyring.delete(account);
      await files.delete(key);
      await sweep(key);
    },
  };
}
