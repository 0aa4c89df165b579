/**
 * The store's on-disk format: one JSON document `{ "version": 1, "credentials": { key: record } }`.
 * Pure functions, no I/O. Problems are reported as reasons that name fields, never values (R13):
 * V8's own JSON.parse messages quote the input, so they are never passed on.
 */
import type { TokenRecord } from '../../../machines/lifecycle/types.js';

export const FORMAT_VERSION = 1;

/** A parsed store. Records are kept as read (fields we do not know included), so rewriting one key never alters another. */
export interface StoreDocument {
  /** Top-level members other than `version` and `credentials`, kept on rewrite. */
  readonly extra: Readonly<Record<string, unknown>>;
  /** A Map, not an object: a key such as `__proto__` must stay plain data. */
  readonly credentials: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
}

export type ParseResult = { readonly ok: true; readonly doc: StoreDocument } | { readonly ok: false; readonly reason: string };

export const EMPTY_DOCUMENT: StoreDocument = { extra: {}, credentials: new Map() };

const STRING_FIELDS = ['refreshToken', 'scope', 'idToken', 'rejection'] as const;
const NUMBER_FIELDS = ['expiresAt', 'retryAt'] as const;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why `value` is not a storable TokenRecord (`undefined` when it is). Absent and `undefined` fields are the same. */
export function recordProblem(value: unknown): string | undefined {
  if (!isPlainObject(value)) return 'is not an object';
  if (typeof value.accessToken !== 'string') return 'field "accessToken" must be a string';
  if (typeof value.tokenType !== 'string') return 'field "tokenType" must be a string';
  if (!Number.isFinite(value.obtainedAt)) return 'field "obtainedAt" must be a finite number';
  if (!Number.isSafeInteger(value.version) || (value.version as number) < 0) {
    return 'field "version" must be an integer ≥ 0';
  }
  for (const field of NUMBER_FIELDS) {
    if (value[field] !== undefined && !Number.isFinite(value[field])) return `field "${field}" must be a finite number`;
  }
  for (const field of STRING_FIELDS) {
    if (value[field] !== undefined && typeof value[field] !== 'string') return `field "${field}" must be a string`;
  }
  return undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses the file's bytes. Zero bytes is an empty store (a file made with `touch` and `chmod 600`). */
export function parseDocument(bytes: Uint8Array): ParseResult {
  if (bytes.length === 0) return { ok: true, doc: EMPTY_DOCUMENT };
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { ok: false, reason: 'is not valid UTF-8' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'is not valid JSON' };
  }
  if (!isPlainObject(parsed)) return { ok: false, reason: 'is not a JSON object' };
  const { version, credentials, ...extra } = parsed;
  if (version !== FORMAT_VERSION) {
    const shown = typeof version === 'number' ? String(version) : typeof version;
    return { ok: false, reason: `has format version ${shown}, expected ${FORMAT_VERSION}` };
  }
  if (!isPlainObject(credentials)) return { ok: false, reason: 'has no "credentials" object' };
  const map = new Map<string, Record<string, unknown>>();
  for (const [key, record] of Object.entries(credentials)) {
    const problem = recordProblem(record);
    if (problem !== undefined) return { ok: false, reason: `credential ${JSON.stringify(key)}: ${problem}` };
    map.set(key, record as Record<string, unknown>);
  }
  return { ok: true, doc: { extra, credentials: map } };
}

export function serializeDocument(doc: StoreDocument): string {
  // Object.fromEntries defines own properties, so a `__proto__` key is written as data.
  const body = { ...doc.extra, version: FORMAT_VERSION, credentials: Object.fromEntries(doc.credentials) };
  return `${JSON.stringify(body, null, 2)}\n`;
}

export function withRecord(doc: StoreDocument, key: string, record: TokenRecord): StoreDocument {
  const credentials = new Map(doc.credentials);
  // A JSON round trip drops `undefined` fields and copies: the caller cannot mutate what is stored.
  credentials.set(key, JSON.parse(JSON.stringify(record)) as Record<string, unknown>);
  return { extra: doc.extra, credentials };
}

export function withoutRecord(doc: StoreDocument, key: string): StoreDocument {
  const credentials = new Map(doc.credentials);
  credentials.delete(key);
  return { extra: doc.extra, credentials };
}

/** A copy of a stored record for a caller (fields we do not know are passed through). */
export function toTokenRecord(raw: Readonly<Record<string, unknown>>): TokenRecord {
  return structuredClone(raw) as unknown as TokenRecord;
}
