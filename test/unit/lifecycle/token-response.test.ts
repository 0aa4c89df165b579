import { describe, expect, it } from 'vitest';
import { InvalidTokenResponseError } from '../../../machines/lifecycle/errors.js';
import { checkTokenInput, checkTokenResponse, checkTokenSet, type TokenResponseCheck } from '../../../machines/lifecycle/token-response.js';

const SENT = 1_700_000_000_000;
// Realistic-looking secrets, so a leak into a message is caught by a plain substring search.
const ACCESS = 'eyJhbGciOiJSUzI1NiJ9.ACCESS-secret-value.sig';
const REFRESH = 'rt-7f3c9a1e-REFRESH-secret-value';
const ID = 'eyJhbGciOiJSUzI1NiJ9.ID-secret-value.sig';

const valid = { access_token: ACCESS, token_type: 'Bearer', expires_in: 3600, refresh_token: REFRESH, scope: 'read write', id_token: ID };

function failure(check: TokenResponseCheck): Extract<TokenResponseCheck, { ok: false }> {
  if (check.ok) throw new Error('expected a failure, got a valid response');
  return check;
}

function tokens(check: TokenResponseCheck) {
  if (!check.ok) throw new Error(`expected a valid response, got: ${check.error.message}`);
  return check.tokens;
}

/** Everything about an error a user or a log could see. */
function visible(error: InvalidTokenResponseError): string {
  return [error.message, String(error), error.stack ?? '', JSON.stringify(error), JSON.stringify(Object.getOwnPropertyDescriptors(error))].join('\n');
}

describe('checkTokenResponse (R12)', () => {
  it('accepts a valid response and maps every field', () => {
    expect(tokens(checkTokenResponse(valid, SENT))).toStrictEqual({
      accessToken: ACCESS,
      tokenType: 'Bearer',
      obtainedAt: SENT,
      expiresAt: SENT + 3_600_000,
      refreshToken: REFRESH,
      scope: 'read write',
      idToken: ID,
    });
  });

  it('a minimal response has no invented fields', () => {
    expect(tokens(checkTokenResponse({ access_token: ACCESS, token_type: 'Bearer' }, SENT))).toStrictEqual({
      accessToken: ACCESS,
      tokenType: 'Bearer',
      obtainedAt: SENT,
    });
  });

  it('absent or null expires_in means unknown expiry (no expiresAt)', () => {
    expect(tokens(checkTokenResponse({ access_token: ACCESS, token_type: 'Bearer' }, SENT))).not.toHaveProperty('expiresAt');
    expect(tokens(checkTokenResponse({ access_token: ACCESS, token_type: 'Bearer', expires_in: null }, SENT))).not.toHaveProperty('expiresAt');
  });

  it('computes expiresAt from the moment the request was sent', () => {
    expect(tokens(checkTokenResponse({ ...valid, expires_in: 60 }, SENT)).expiresAt).toBe(SENT + 60_000);
    expect(tokens(checkTokenResponse({ ...valid, expires_in: 60 }, SENT + 5_000)).expiresAt).toBe(SENT + 65_000);
    expect(tokens(checkTokenResponse({ ...valid, expires_in: 0 }, SENT)).expiresAt).toBe(SENT);
    expect(tokens(checkTokenResponse({ ...valid, expires_in: 1.5 }, SENT)).expiresAt).toBe(SENT + 1_500);
  });

  it('accepts a numeric string expires_in', () => {
    expect(tokens(checkTokenResponse({ ...valid, expires_in: '3600' }, SENT)).expiresAt).toBe(SENT + 3_600_000);
    expect(tokens(checkTokenResponse({ ...valid, expires_in: '0' }, SENT)).expiresAt).toBe(SENT);
    expect(tokens(checkTokenResponse({ ...valid, expires_in: '2.5' }, SENT)).expiresAt).toBe(SENT + 2_500);
  });

  it('keeps a huge expires_in inside the Date range (no Infinity, toISOString works)', () => {
    for (const expires_in of [1e20, 1e306, '9'.repeat(300)]) {
      const { expiresAt } = tokens(checkTokenResponse({ ...valid, expires_in }, SENT));
      expect(Number.isFinite(expiresAt)).toBe(true);
      expect(expiresAt).toBeGreaterThan(SENT + 1e12);
      expect(() => new Date(expiresAt!).toISOString()).not.toThrow();
    }
  });

  it.each<[string, unknown]>([
    ['negative', -1],
    ['negative string', '-1'],
    ['non-numeric string', 'abc'],
    ['exponent string (outside the numeric pattern)', '1e3'],
    ['empty string', ''],
    ['padded string', ' 3600'],
    ['hex string', '0x10'],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a string overflowing to Infinity', '9'.repeat(400)],
    ['boolean true', true],
    ['object', {}],
    ['array', [3600]],
  ])('rejects expires_in %s', (_, expires_in) => {
    const check = failure(checkTokenResponse({ ...valid, expires_in }, SENT));
    expect(check.error).toBeInstanceOf(InvalidTokenResponseError);
    expect(check.error.code).toBe('invalid_token_response');
    expect(check.error.retryable).toBe(true);
    expect(check.error.message).toContain('expires_in');
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['missing access_token', { token_type: 'Bearer' }, 'access_token'],
    ['empty access_token', { access_token: '', token_type: 'Bearer' }, 'access_token'],
    ['numeric access_token', { access_token: 12345, token_type: 'Bearer' }, 'access_token'],
    ['null access_token', { access_token: null, token_type: 'Bearer' }, 'access_token'],
    ['missing token_type', { access_token: ACCESS }, 'token_type'],
    ['empty token_type', { access_token: ACCESS, token_type: '' }, 'token_type'],
    ['non-string scope', { access_token: ACCESS, token_type: 'Bearer', scope: ['read'] }, 'scope'],
    ['empty id_token', { access_token: ACCESS, token_type: 'Bearer', id_token: '' }, 'id_token'],
  ])('rejects a %s', (_, body, field) => {
    const check = failure(checkTokenResponse(body, SENT));
    expect(check.error.code).toBe('invalid_token_response');
    expect(check.error.message).toContain(field);
    expect(check).not.toHaveProperty('refreshToken');
  });

  it.each<[string, unknown]>([
    ['an HTML string', '<html><body>502 Bad Gateway</body></html>'],
    ['an array', [valid]],
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['a JSON string of a valid response', JSON.stringify(valid)],
  ])('rejects a body that is %s', (_, body) => {
    const check = failure(checkTokenResponse(body, SENT));
    expect(check.error.code).toBe('invalid_token_response');
    expect(check).not.toHaveProperty('refreshToken');
  });

  it('salvages a well-formed refresh_token from an otherwise bad response (R4, R12)', () => {
    for (const bad of [
      { refresh_token: REFRESH },
      { refresh_token: REFRESH, access_token: '', token_type: 'Bearer' },
      { refresh_token: REFRESH, access_token: ACCESS },
      { refresh_token: REFRESH, access_token: ACCESS, token_type: 'Bearer', expires_in: 'soon' },
      { refresh_token: REFRESH, access_token: ACCESS, token_type: 'Bearer', scope: 7 },
    ]) {
      const check = failure(checkTokenResponse(bad, SENT));
      expect(check.refreshToken).toBe(REFRESH);
      expect(check.error.code).toBe('invalid_token_response');
    }
  });

  it.each<[string, unknown]>([
    ['a number', 12345],
    ['an empty string', ''],
    ['an object', { value: REFRESH }],
    ['true', true],
  ])('a malformed refresh_token (%s) is a failure without salvage', (_, refresh_token) => {
    for (const body of [{ ...valid, refresh_token }, { refresh_token }]) {
      const check = failure(checkTokenResponse(body, SENT));
      expect(check.error.message).toContain('refresh_token');
      expect(check).not.toHaveProperty('refreshToken');
    }
  });

  it('treats a null refresh_token as absent (the old one is kept by the caller)', () => {
    expect(tokens(checkTokenResponse({ ...valid, refresh_token: null }, SENT))).not.toHaveProperty('refreshToken');
  });

  it('ignores unknown parameters', () => {
    const t = tokens(checkTokenResponse({ ...valid, 'x-vendor': { nested: true }, not_before_policy: 0 }, SENT));
    expect(Object.keys(t).sort()).toEqual(['accessToken', 'expiresAt', 'idToken', 'obtainedAt', 'refreshToken', 'scope', 'tokenType']);
  });

  it('never puts a token value into an error (R13)', () => {
    const bodies: unknown[] = [
      { access_token: ACCESS, refresh_token: REFRESH, id_token: ID },
      { access_token: ACCESS, token_type: 'Bearer', expires_in: ACCESS, refresh_token: REFRESH },
      { access_token: ACCESS, token_type: ACCESS, expires_in: REFRESH, refresh_token: REFRESH, id_token: 5 },
      { access_token: ACCESS, token_type: 'Bearer', scope: { ACCESS }, refresh_token: REFRESH },
      { access_token: 5, token_type: ID, refresh_token: REFRESH },
      { access_token: ACCESS, token_type: 'Bearer', refresh_token: 5, id_token: ID },
      ACCESS,
    ];
    for (const body of bodies) {
      const seen = visible(failure(checkTokenResponse(body, SENT)).error);
      for (const secret of [ACCESS, REFRESH, ID, 'secret-value']) expect(seen).not.toContain(secret);
    }
  });
});

describe('checkTokenSet (setToken with a TokenSet)', () => {
  const set = { accessToken: ACCESS, tokenType: 'Bearer', expiresAt: SENT + 60_000, refreshToken: REFRESH, scope: 's', idToken: ID };

  it('accepts a full set and stamps obtainedAt with now', () => {
    expect(tokens(checkTokenSet(set, SENT))).toStrictEqual({ ...set, obtainedAt: SENT });
  });

  it('accepts a minimal set without inventing fields', () => {
    expect(tokens(checkTokenSet({ accessToken: ACCESS, tokenType: 'Bearer' }, SENT))).toStrictEqual({
      accessToken: ACCESS,
      tokenType: 'Bearer',
      obtainedAt: SENT,
    });
  });

  it('accepts an expiresAt in the past (the lifecycle treats it as expired)', () => {
    expect(tokens(checkTokenSet({ ...set, expiresAt: SENT - 1 }, SENT)).expiresAt).toBe(SENT - 1);
  });

  it('keeps an expiresAt beyond the Date range inside it', () => {
    const { expiresAt } = tokens(checkTokenSet({ ...set, expiresAt: 1e300 }, SENT));
    expect(() => new Date(expiresAt!).toISOString()).not.toThrow();
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['missing accessToken', { tokenType: 'Bearer' }, 'accessToken'],
    ['empty accessToken', { accessToken: '', tokenType: 'Bearer' }, 'accessToken'],
    ['missing tokenType', { accessToken: ACCESS }, 'tokenType'],
    ['string expiresAt', { accessToken: ACCESS, tokenType: 'Bearer', expiresAt: '2030-01-01' }, 'expiresAt'],
    ['NaN expiresAt', { accessToken: ACCESS, tokenType: 'Bearer', expiresAt: Number.NaN }, 'expiresAt'],
    ['Infinity expiresAt', { accessToken: ACCESS, tokenType: 'Bearer', expiresAt: Number.POSITIVE_INFINITY }, 'expiresAt'],
    ['empty refreshToken', { accessToken: ACCESS, tokenType: 'Bearer', refreshToken: '' }, 'refreshToken'],
    ['numeric refreshToken', { accessToken: ACCESS, tokenType: 'Bearer', refreshToken: 1 }, 'refreshToken'],
    ['non-string scope', { accessToken: ACCESS, tokenType: 'Bearer', scope: 1 }, 'scope'],
    ['empty idToken', { accessToken: ACCESS, tokenType: 'Bearer', idToken: '' }, 'idToken'],
  ])('rejects a %s', (_, input, field) => {
    const check = failure(checkTokenSet(input, SENT));
    expect(check.error.code).toBe('invalid_token_response');
    expect(check.error.message).toContain(field);
    const seen = visible(check.error);
    for (const secret of [ACCESS, REFRESH, ID]) expect(seen).not.toContain(secret);
  });

  it('rejects non-objects', () => {
    for (const input of [null, undefined, 'token', [set], 1]) expect(checkTokenSet(input, SENT).ok).toBe(false);
  });
});

describe('checkTokenInput', () => {
  it('reads camelCase input as a TokenSet', () => {
    const t = tokens(checkTokenInput({ accessToken: ACCESS, tokenType: 'Bearer', expiresAt: SENT + 1_000 }, SENT));
    expect(t).toStrictEqual({ accessToken: ACCESS, tokenType: 'Bearer', expiresAt: SENT + 1_000, obtainedAt: SENT });
  });

  it('reads snake_case input as a token endpoint response', () => {
    const t = tokens(checkTokenInput({ access_token: ACCESS, token_type: 'Bearer', expires_in: 10 }, SENT));
    expect(t).toStrictEqual({ accessToken: ACCESS, tokenType: 'Bearer', expiresAt: SENT + 10_000, obtainedAt: SENT });
  });

  it('does not read expires_in from a TokenSet or expiresAt from a response', () => {
    expect(tokens(checkTokenInput({ accessToken: ACCESS, tokenType: 'Bearer', expires_in: 10 }, SENT))).not.toHaveProperty('expiresAt');
    expect(tokens(checkTokenInput({ access_token: ACCESS, token_type: 'Bearer', expiresAt: SENT }, SENT))).not.toHaveProperty('expiresAt');
  });

  it('rejects garbage', () => {
    for (const input of [null, 'x', [], {}]) expect(checkTokenInput(input, SENT).ok).toBe(false);
  });
});

describe('R20: token types the client cannot use', () => {
  const dpopResponse = { access_token: 'AT-DPOP', token_type: 'DPoP', expires_in: 60, refresh_token: 'RT-ROTATED' };

  it('a DPoP token without a DPoP key is unsupported_token_type, keeping a rotated refresh token', () => {
    const checked = checkTokenResponse(dpopResponse, 0);
    expect(checked).toMatchObject({ ok: false, error: { code: 'unsupported_token_type' }, refreshToken: 'RT-ROTATED' });
    expect(checkTokenInput({ accessToken: 'AT', tokenType: 'dpop' }, 0)).toMatchObject({ ok: false, error: { code: 'unsupported_token_type' } });
  });

  it('with a DPoP key it is a valid token set', () => {
    expect(checkTokenResponse(dpopResponse, 0, { dpop: true })).toMatchObject({ ok: true, tokens: { tokenType: 'DPoP' } });
    expect(checkTokenInput({ accessToken: 'AT', tokenType: 'DPoP' }, 0, { dpop: true }).ok).toBe(true);
  });

  it('Bearer needs nothing', () => {
    expect(checkTokenResponse({ access_token: 'AT', token_type: 'bearer' }, 0).ok).toBe(true);
  });
});
