/**
 * Looks for known secrets in everything a test saw us emit, in every encoding a log line could carry
 * them: raw, base64 and base64url (whole, and embedded in a longer base64 blob at any byte
 * alignment, as in `Basic base64(id:secret)`), URL- and form-encoded, JSON-escaped. Errors are read
 * the ways a logger reads them: `util.inspect`, `JSON.stringify` (with and without an error
 * serializer that walks `cause`), `String`, for the whole `cause` chain.
 */
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';

export interface Leak {
  /** The secret's name in the test and a short fingerprint of it (never the value). */
  readonly secret: string;
  readonly encoding: string;
  /** Where the leaking text came from, and a fingerprinted excerpt. */
  readonly where: string;
  readonly excerpt: string;
}

/** A short, stable stand-in for a secret in reports: `sha256:1a2b3c4d`. */
export function fingerprint(value: string): string {
  return `sha256:${createHash('sha256').update(value).digest('hex').slice(0, 8)}`;
}

function b64(bytes: Uint8Array, url: boolean): string {
  const text = Buffer.from(bytes).toString('base64');
  return url ? text.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') : text;
}

/**
 * The base64 characters that encode `secret` wherever it sits in a longer byte string: for each of
 * the three alignments, the run of characters determined by the secret's bytes alone.
 */
function embeddedBase64(secret: string, url: boolean): string[] {
  const bytes = new TextEncoder().encode(secret);
  const out: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const padded = new Uint8Array(offset + bytes.length);
    padded.set(bytes, offset);
    const text = b64(padded, false);
    const start = offset === 0 ? 0 : 4;
    const end = Math.floor((offset + bytes.length) / 3) * 4;
    let middle = text.slice(start, end);
    if (url) middle = middle.replace(/\+/g, '-').replace(/\//g, '_');
    if (middle.length >= 8) out.push(middle);
  }
  return out;
}

/** Every encoding of `secret` a test looks for. */
export function encodingsOf(secret: string): Array<{ encoding: string; text: string }> {
  const bytes = new TextEncoder().encode(secret);
  const list: Array<{ encoding: string; text: string }> = [
    { encoding: 'raw', text: secret },
    { encoding: 'base64', text: b64(bytes, false) },
    { encoding: 'base64url', text: b64(bytes, true) },
    { encoding: 'url-encoded', text: encodeURIComponent(secret) },
    { encoding: 'form-encoded', text: new URLSearchParams([['', secret]]).toString().slice(1) },
    { encoding: 'json-escaped', text: JSON.stringify(secret).slice(1, -1) },
    { encoding: 'json-escaped twice', text: JSON.stringify(JSON.stringify(secret)).slice(3, -3) },
    ...embeddedBase64(secret, false).map((text) => ({ encoding: 'base64 (embedded)', text })),
    ...embeddedBase64(secret, true).map((text) => ({ encoding: 'base64url (embedded)', text })),
  ];
  const seen = new Set<string>();
  return list.filter(({ text }) => text.length > 0 && !seen.has(text) && seen.add(text));
}

/** An error serializer as loggers have them (pino's, serialize-error): own fields, message, stack, cause. */
function errorJson(value: unknown, seen: Set<object> = new Set(), depth = 0): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value) || depth > 12) return '[seen]';
  seen.add(value);
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message, stack: value.stack };
    for (const key of Object.getOwnPropertyNames(value)) out[key] = errorJson((value as unknown as Record<string, unknown>)[key], seen, depth + 1);
    return out;
  }
  if (Array.isArray(value)) return value.map((item) => errorJson(item, seen, depth + 1));
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = errorJson((value as Record<string, unknown>)[key], seen, depth + 1);
  return out;
}

function safe(render: () => string): string {
  try {
    return render();
  } catch (error) {
    return `[render failed: ${String(error)}]`;
  }
}

/** The texts a logger could produce from `value` (and, for errors, from each link of the cause chain). */
export function renderings(value: unknown): string[] {
  const isError = value instanceof Error;
  const texts = [
    // Bounded depth: raw inspection events hold live actors (and through them the machine).
    safe(() => inspect(value, { depth: isError ? 24 : 8, showHidden: isError })),
    safe(() => JSON.stringify(value) ?? ''),
    safe(() => String(value)),
  ];
  if (isError) texts.push(safe(() => JSON.stringify(errorJson(value)) ?? ''));
  let link: unknown = value;
  for (let depth = 0; link instanceof Error && depth < 16; depth++) {
    texts.push(safe(() => String(link)), link.message, link.stack ?? '');
    link = link.cause;
  }
  return texts;
}

/**
 * Every string reachable from `value` (property names too, errors' message, stack and cause, Map and
 * Set entries): what an inspector handed the raw object could read. Cycle-safe and bounded.
 */
export function reachableStrings(value: unknown, maxNodes = 50_000): string {
  const out: string[] = [];
  const seen = new Set<object>();
  const stack: unknown[] = [value];
  while (stack.length > 0 && seen.size < maxNodes) {
    const item = stack.pop();
    if (typeof item === 'string') {
      out.push(item);
      continue;
    }
    if (typeof item !== 'object' || item === null || seen.has(item)) continue;
    seen.add(item);
    if (item instanceof Error) stack.push(item.message, item.stack, item.cause);
    if (item instanceof Map) for (const [k, v] of item) stack.push(k, v);
    if (item instanceof Set) for (const v of item) stack.push(v);
    for (const key of Object.getOwnPropertyNames(item)) {
      out.push(key);
      let child: unknown;
      try {
        child = (item as Record<string, unknown>)[key];
      } catch {
        continue;
      }
      stack.push(child);
    }
  }
  return out.join('\n');
}

/**
 * Collects what a test saw, by source, and reports every secret found in it. `secrets` maps a name
 * (for the report) to the value.
 */
export class EmissionLog {
  private readonly entries: Array<{ where: string; text: string }> = [];

  /** Adds a value: errors and objects are rendered the ways loggers do. */
  add(where: string, value: unknown): void {
    if (typeof value === 'string') this.entries.push({ where, text: value });
    else for (const text of renderings(value)) this.entries.push({ where, text });
  }

  /** Adds a raw object someone else receives (an inspection event): every string reachable from it. */
  addReachable(where: string, value: unknown): void {
    this.entries.push({ where, text: reachableStrings(value) });
  }

  get size(): number {
    return this.entries.length;
  }

  texts(): readonly string[] {
    return this.entries.map((entry) => entry.text);
  }

  leaks(secrets: ReadonlyMap<string, string>): Leak[] {
    return findLeaks(this.entries, secrets);
  }
}

export function findLeaks(entries: ReadonlyArray<{ where: string; text: string }>, secrets: ReadonlyMap<string, string>): Leak[] {
  const leaks: Leak[] = [];
  for (const [name, value] of secrets) {
    if (!value) continue;
    const encodings = encodingsOf(value);
    for (const { where, text } of entries) {
      for (const { encoding, text: needle } of encodings) {
        const at = text.indexOf(needle);
        if (at < 0) continue;
        const excerpt = text.slice(Math.max(0, at - 40), at + needle.length + 20).split(needle).join(`<${name} ${fingerprint(value)}>`);
        leaks.push({ secret: `${name} ${fingerprint(value)}`, encoding, where, excerpt });
        break;
      }
    }
  }
  return leaks;
}

/** Replaces every known secret (in any encoding) by its name and fingerprint: for notes and reports. */
export function fingerprinted(text: string, secrets: ReadonlyMap<string, string>): string {
  let out = text;
  for (const [name, value] of secrets) {
    if (!value) continue;
    for (const { text: needle } of encodingsOf(value)) out = out.split(needle).join(`<${name} ${fingerprint(value)}>`);
  }
  return out;
}
