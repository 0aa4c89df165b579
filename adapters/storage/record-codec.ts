import { StorageCorruptError } from '../../machines/lifecycle/errors.js';
import type { TokenRecord } from '../../machines/lifecycle/types.js';

const stringFields = ['accessToken', 'tokenType'] as const;
const optionalStringFields = ['refreshToken', 'scope', 'idToken', 'rejection'] as const;
const optionalTimeFields = ['expiresAt', 'retryAt'] as const;

/** The first field that breaks the TokenRecord shape (DESIGN §5), or undefined when it is sound. */
export function recordFault(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const record = value as Record<string, unknown>;
  for (const field of stringFields) if (typeof record[field] !== 'string') return field;
  for (const field of optionalStringFields) {
    if (record[field] !== undefined && typeof record[field] !== 'string') return field;
  }
  for (const field of optionalTimeFields) {
    if (record[field] !== undefined && !Number.isFinite(record[field])) return field;
  }
  if (!Number.isFinite(record.obtainedAt)) return 'obtainedAt';
  const version = record.version;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) return 'version';
  return undefined;
}

/**
 * Parses a stored value. The message names the key and the faulty field, never the content: a
 * JSON.parse message quotes its input, which may be a token (R13), so it is not kept as `cause`.
 */
export function decodeRecord(key: string, raw: string): TokenRecord {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new StorageCorruptError(`Stored record for key "${key}" is not valid JSON`, { key });
  }
  const fault = recordFault(value);
  if (fault !== undefined) {
    throw new StorageCorruptError(`Stored record for key "${key}" is malformed (${fault})`, { key });
  }
  return value as TokenRecord;
}

/** Serialises a record, refusing one that would read back as corrupt (nothing is written then). */
export function encodeRecord(key: string, record: TokenRecord): string {
  const fault = recordFault(record);
  if (fault !== undefined) {
    throw new StorageCorruptError(`Refusing to store a malformed record for key "${key}" (${fault})`, { key });
  }
  return JSON.stringify(record);
}
