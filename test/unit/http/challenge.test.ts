import { describe, expect, it } from 'vitest';
import { authorizationHeader, credentialsOf } from '../../../adapters/http/authorization.js';
import { authParams, isInsufficientScope, isRenewable } from '../../../adapters/http/challenge.js';

const response = (status: number, challenge?: string): Response =>
  new Response(null, { status, headers: challenge === undefined ? {} : { 'www-authenticate': challenge } });

describe('WWW-Authenticate (RFC 9110 §11.6.1, RFC 6750 §3)', () => {
  it.each([
    ['Bearer error="insufficient_scope"', true],
    ['Bearer realm="api", error=insufficient_scope, scope="a b"', true],
    ['Bearer ERROR = "insufficient_scope"', true],
    ['Basic realm="x", Bearer realm="api", error="insufficient_scope"', true],
    ['DPoP algs="ES256", error="insufficient_scope"', true],
    ['Bearer error="invalid_token", error_description="not error=\\"insufficient_scope\\""', false],
    ['Bearer error_description="error=insufficient_scope", error="invalid_token"', false],
    ['Bearer realm="insufficient_scope"', false],
    ['Basic dG9rZW4=, Bearer realm="api"', false],
    ['Bearer', false],
    ['', false],
  ])('%j insufficient_scope: %s', (challenge, expected) => {
    expect(isInsufficientScope(response(401, challenge))).toBe(expected);
  });

  it('reads auth-params, unescaping quoted strings', () => {
    expect(authParams('Bearer realm="a \\"b\\"", error=invalid_token, Basic abc==')).toEqual([
      ['realm', 'a "b"'],
      ['error', 'invalid_token'],
    ]);
  });

  it('renews on 401 only, and not for insufficient_scope', () => {
    expect(isRenewable(response(401))).toBe(true);
    expect(isRenewable(response(401, 'Bearer error="invalid_token"'))).toBe(true);
    expect(isRenewable(response(401, 'Bearer error="insufficient_scope"'))).toBe(false);
    expect(isRenewable(response(403))).toBe(false);
    expect(isRenewable(response(200))).toBe(false);
  });
});

describe('Authorization header (RFC 6750 §2.1)', () => {
  it.each([
    ['Bearer', 'Bearer t'],
    ['bearer', 'Bearer t'],
    ['BEARER', 'Bearer t'],
    ['DPoP', 'DPoP t'],
    ['', 'Bearer t'],
  ])('token_type %j → %j', (tokenType, header) => {
    expect(authorizationHeader({ accessToken: 't', tokenType })).toBe(header);
  });

  it('reads back the credentials a request carried', () => {
    expect(credentialsOf('Bearer abc.def')).toBe('abc.def');
    expect(credentialsOf('DPoP  xyz ')).toBe('xyz');
    expect(credentialsOf('Bearer')).toBeUndefined();
    expect(credentialsOf(null)).toBeUndefined();
  });
});
