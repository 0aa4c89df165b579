/**
 * `redact(value)`: a deep copy with every secret replaced by `[redacted]`, for inspectors and logs.
 * Cycle-safe, depth-bounded, and it never walks into a live actor (actor-stand-in.ts).
 */
import { isActorRefLike, isStandIn, standInFor } from './actor-stand-in.js';
import { isSecretKey } from '../../machines/lifecycle/secret-keys.js';
import { REDACTED, scrubString } from '../../machines/lifecycle/secret-patterns.js';

/**
 * - `plain`: strings are scrubbed of embedded secrets (JWTs, `Bearer ...`, `refresh_token=...`).
 * - `secret`: the value of a secret-named key: a string or number is the secret itself.
 * - `inside`: nested under a secret-named key: every string goes; numbers and booleans stay, so
 *   metadata such as `context.token.expiresAt` is still visible.
 */
type Mode = 'plain' | 'secret' | 'inside';

const MAX_DEPTH = 32;

function childMode(mode: Mode, key: string): Mode {
  if (mode !== 'plain') return 'inside';
  return isSecretKey(key) ? 'secret' : 'plain';
}

function copyError(error: Error, mode: Mode, path: object[]): Record<string, unknown> {
  const text = (s: string | undefined): string | undefined => (s === undefined ? undefined : mode === 'plain' ? scrubString(s) : REDACTED);
  const out: Record<string, unknown> = { name: error.name, message: text(error.message) };
  for (const key of Object.keys(error)) out[scrubString(key)] = copy((error as unknown as Record<string, unknown>)[key], childMode(mode, key), path);
  if (error.cause !== undefined && !('cause' in out)) out.cause = copy(error.cause, mode, path);
  if (error.stack !== undefined) out.stack = text(error.stack);
  return out;
}

function copyEntries(entries: Iterable<readonly [string, unknown]>, mode: Mode, path: object[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) out[scrubString(key)] = copy(value, childMode(mode, key), path);
  return out;
}

function read(object: object, key: string): unknown {
  try {
    return (object as Record<string, unknown>)[key];
  } catch {
    return '[unreadable]';
  }
}

function copyObject(value: object, mode: Mode, path: object[]): unknown {
  if (isStandIn(value)) return value;
  if (isActorRefLike(value)) return standInFor(value, (v) => redact(v));
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[binary ${value.byteLength} bytes]`;
  if (value instanceof Error) return copyError(value, mode, path);
  if (Array.isArray(value)) {
    // A `[name, value]` pair (header lists, `Object.entries`, `new Headers([...])` input): the name decides.
    if (mode === 'plain' && value.length === 2 && typeof value[0] === 'string' && isSecretKey(value[0])) {
      return [scrubString(value[0]), copy(value[1], 'secret', path)];
    }
    return value.map((item) => copy(item, mode === 'plain' ? 'plain' : 'inside', path));
  }
  if (value instanceof Map) {
    return copyEntries([...value].map(([k, v]): [string, unknown] => [String(k), v]), mode, path);
  }
  if (value instanceof Set) return [...value].map((item) => copy(item, mode === 'plain' ? 'plain' : 'inside', path));
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    // As JSON.stringify would: snapshots drop their machine, state nodes and transitions shrink.
    let json: unknown;
    try {
      json = toJSON.call(value);
    } catch {
      return '[unserializable]';
    }
    return json === value ? copyEntries(Object.keys(value).map((k) => [k, read(value, k)]), mode, path) : copy(json, mode, path);
  }
  return copyEntries(Object.keys(value).map((k) => [k, read(value, k)]), mode, path);
}

function copy(value: unknown, mode: Mode, path: object[]): unknown {
  switch (typeof value) {
    case 'string':
      return mode === 'plain' ? scrubString(value) : REDACTED;
    case 'number':
    case 'bigint':
      return mode === 'secret' || (mode === 'inside' && typeof value === 'bigint') ? REDACTED : value;
    case 'function':
      return `[function ${value.name || 'anonymous'}]`;
    case 'object': {
      if (value === null) return null;
      if (path.includes(value)) return '[circular]';
      if (path.length >= MAX_DEPTH) return '[too deep]';
      path.push(value);
      try {
        return copyObject(value, mode, path);
      } finally {
        path.pop();
      }
    }
    default:
      // boolean, undefined, symbol: carry no secret.
      return value;
  }
}

/**
 * A deep copy of `value` safe to log or show: values of secret-named keys (`access_token`,
 * `refreshToken`, `id_token`, `client_secret`, `authorization`, `password`, `client_assertion`, ...)
 * and JWTs, `Bearer`/`Basic`/`DPoP` credentials and `name=value` secrets inside any string become
 * `[redacted]`. Actors become data-only stand-ins; cycles become `[circular]`; functions their name;
 * binary data its size; errors `{ name, message, ...fields, cause, stack }`.
 */
export function redact(value: unknown): unknown {
  return copy(value, 'plain', []);
}
