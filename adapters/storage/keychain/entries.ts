/**
 * How a record is split between the file (metadata) and the keychain (secrets). Pure functions.
 *
 * Each write puts the record's secrets (non-empty access, refresh and ID tokens) into a NEW keychain
 * entry as JSON, and the file record keeps, in each of those fields, a marker naming the entry:
 * `keychain:v1:<account>`. A fresh entry per write is what lets the file store's compare-and-set
 * and fencing decide alone which write wins: a refused write only leaves its own entry behind
 * (removed at once), never a changed secret under an unchanged record.
 *
 * The account is `<key>/<store tag>.<time, base 36>.<random>`: the key first so the entries read
 * naturally in a keychain app, the store tag (a hash of the file's path) so that two stores never
 * sweep each other's entries, the time so that a sweep can leave an entry that a writer is about to
 * commit alone.
 */
import { StorageCorruptError } from '../../../machines/lifecycle/errors.js';
import type { TokenRecord } from '../../../machines/lifecycle/types.js';

export const SECRET_FIELDS = ['accessToken', 'refreshToken', 'idToken'] as const;
export type SecretField = (typeof SECRET_FIELDS)[number];
export type Secrets = Partial<Record<SecretField, string>>;

const MARKER = 'keychain:v1:';

export function marker(account: string): string {
  return `${MARKER}${account}`;
}

/** The record's non-empty secrets (an empty access token stays in the file: it is no secret). */
export function secretsOf(record: TokenRecord): Secrets {
  const secrets: Secrets = {};
  for (const field of SECRET_FIELDS) {
    const value = record[field];
    if (typeof value === 'string' && value !== '') secrets[field] = value;
  }
  return secrets;
}

/** The record as the file keeps it: each secret replaced by the marker of `account`. */
export function withMarkers(record: TokenRecord, secrets: Secrets, account: string): TokenRecord {
  const stored: TokenRecord = { ...record };
  for (const field of SECRET_FIELDS) if (secrets[field] !== undefined) stored[field] = marker(account);
  return stored;
}

/**
 * The keychain account a stored record names (undefined when it holds no secret). A secret in clear
 * text in the file, or markers naming two entries, is `storage_corrupt`: this store never wrote it.
 */
export function accountOf(key: string, stored: TokenRecord): string | undefined {
  let account: string | undefined;
  for (const field of SECRET_FIELDS) {
    const value = stored[field];
    if (typeof value !== 'string' || value === '') continue;
    if (!value.startsWith(MARKER)) {
      throw new StorageCorruptError(
        `The ${field} of key ${JSON.stringify(key)} is in clear text in the metadata file (written by the file store?); ` +
          'it was left untouched: log in again with the keychain store, or delete it',
        { key },
      );
    }
    const named = value.slice(MARKER.length);
    if (account !== undefined && named !== account) {
      throw new StorageCorruptError(`The record of key ${JSON.stringify(key)} names two keychain entries`, { key });
    }
    account = named;
  }
  return account;
}

/** The record with its secrets put back from the keychain entry's JSON. */
export function withSecrets(key: string, stored: TokenRecord, entry: string): TokenRecord {
  let secrets: unknown;
  try {
    secrets = JSON.parse(entry);
  } catch {
    secrets = undefined; // JSON.parse's message quotes its input: never passed on
  }
  if (typeof secrets !== 'object' || secrets === null) {
    throw new StorageCorruptError(`The keychain entry of key ${JSON.stringify(key)} is not a JSON object`, { key });
  }
  const record: TokenRecord = { ...stored };
  for (const field of SECRET_FIELDS) {
    const value = stored[field];
    if (typeof value !== 'string' || !value.startsWith(MARKER)) continue;
    const secret = (secrets as Record<string, unknown>)[field];
    if (typeof secret !== 'string') {
      throw new StorageCorruptError(`The keychain entry of key ${JSON.stringify(key)} has no ${field}`, { key });
    }
    record[field] = secret;
  }
  return record;
}

/** A new account for a write of `key`: unique, and ordered in time. */
export function newAccount(key: string, storeTag: string, now: number): string {
  const random = globalThis.crypto.getRandomValues(new Uint8Array(9));
  const suffix = Buffer.from(random).toString('base64url');
  return `${key}/${storeTag}.${now.toString(36)}.${suffix}`;
}

/** When an account of `key` in this store was made, or undefined when it is not one of them. */
export function accountTime(account: string, key: string, storeTag: string): number | undefined {
  const prefix = `${key}/${storeTag}.`;
  if (!account.startsWith(prefix)) return undefined;
  const parts = account.slice(prefix.length).split('.');
  if (parts.length !== 2 || !/^[0-9a-z]+$/.test(parts[0]!) || !/^[A-Za-z0-9_-]+$/.test(parts[1]!)) return undefined;
  return parseInt(parts[0]!, 36);
}
