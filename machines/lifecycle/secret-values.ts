/**
 * Redaction by value: the secrets a component knows (the refresh token it sent, the client secret
 * and its Basic form, the tokens it holds) are replaced wherever they appear, in every encoding an
 * echoing server or a log line gives them: raw, URL- and form-encoded, JSON-escaped (once or twice),
 * base64 and base64url, whole or embedded at any byte alignment in a longer base64 blob (the secret
 * inside `Basic base64(id:secret)`). Pure string work; browser-safe (btoa, TextEncoder).
 */
import { REDACTED } from './secret-patterns.js';

/** Base64 of the secret's bytes as they would sit inside a longer blob, at byte offset 0, 1 or 2. */
function embeddedBase64(bytes: Uint8Array): string[] {
  const out: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const padded = new Uint8Array(offset + bytes.length);
    padded.set(bytes, offset);
    let binary = '';
    for (const byte of padded) binary += String.fromCharCode(byte);
    const text = btoa(binary);
    // The characters that depend on the secret's bytes only: skip the group holding filler bytes
    // and the last, partial group (it depends on whatever follows in the blob).
    const middle = text.slice(offset === 0 ? 0 : 4, Math.floor((offset + bytes.length) / 3) * 4);
    if (middle.length >= 8) out.push(middle);
  }
  return out;
}

function toBase64Url(base64: string): string {
  return base64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Every form of `secret` looked for, longest first (a longer form is replaced before its parts). */
export function secretForms(secret: string): string[] {
  const bytes = new TextEncoder().encode(secret);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  const whole = btoa(binary);
  const uri = encodeURIComponent(secret);
  const form = new URLSearchParams([['', secret]]).toString().slice(1);
  const json = JSON.stringify(secret).slice(1, -1);
  const forms = new Set<string>([
    secret,
    uri,
    uri.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()),
    form,
    json,
    JSON.stringify(json).slice(1, -1),
    whole,
    whole.replace(/=+$/, ''),
    toBase64Url(whole),
  ]);
  for (const middle of embeddedBase64(bytes)) {
    forms.add(middle);
    forms.add(middle.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return [...forms].filter((form) => form.length > 0).sort((a, b) => b.length - a.length);
}

/** A mark no token contains (a private-use character): keeps later forms from matching inside `[redacted]`. */
const MARK = '\uE000';

/** `text` with every form of every secret in `secrets` replaced by `[redacted]`. */
export function redactValues(text: string, secrets: Iterable<string | undefined>): string {
  const forms: string[] = [];
  for (const secret of secrets) if (typeof secret === 'string' && secret.length > 0) forms.push(...secretForms(secret));
  if (forms.length === 0) return text;
  forms.sort((a, b) => b.length - a.length);
  let out = text;
  for (const form of forms) if (out.includes(form)) out = out.split(form).join(MARK);
  return out.includes(MARK) ? out.split(MARK).join(REDACTED) : out;
}

/** True when `text` holds any form of any of `secrets`. */
export function containsSecret(text: string, secrets: Iterable<string | undefined>): boolean {
  return redactValues(text, secrets) !== text;
}

function redactedProperty(value: unknown, secrets: string[], depth: number): unknown {
  if (typeof value === 'string') return redactValues(value, secrets);
  if (value instanceof Error) return withoutSecrets(value, secrets, depth + 1);
  return value;
}

/**
 * `error` with every known secret redacted from its own string properties (message, stack,
 * description, ...) and, recursively, its `cause`: the same object when there was nothing to
 * redact, else a copy of the same class. Non-errors are returned as they are.
 */
export function withoutSecrets<T>(error: T, secrets: Iterable<string | undefined>, depth = 0): T {
  if (!(error instanceof Error) || depth > 8) return error;
  const known = [...secrets].filter((s): s is string => typeof s === 'string' && s.length > 0);
  if (known.length === 0) return error;
  const descriptors = Object.getOwnPropertyDescriptors(error) as Record<string, PropertyDescriptor>;
  let changed = false;
  for (const [name, descriptor] of Object.entries(descriptors)) {
    if (!('value' in descriptor)) continue;
    const value = redactedProperty(descriptor.value, known, depth);
    if (value !== descriptor.value) {
      descriptors[name] = { ...descriptor, value };
      changed = true;
    }
  }
  return changed ? (Object.create(Object.getPrototypeOf(error), descriptors) as T) : error;
}
