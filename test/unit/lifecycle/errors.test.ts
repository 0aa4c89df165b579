import { describe, expect, it } from 'vitest';
import * as errors from '../../../machines/lifecycle/errors.js';
import {
  DiscoveryFailedError,
  InsecureEndpointError,
  InvalidClientError,
  InvalidConfigError,
  InvalidGrantError,
  InvalidTokenResponseError,
  isTokenLifecycleError,
  isTransientStatus,
  NotFoundError,
  oauthError,
  OAuthServerError,
  ReauthRequiredError,
  RefreshFailedError,
  RefreshTokenMissingError,
  RevocationFailedError,
  StorageConflictError,
  StorageCorruptError,
  StorageSealedError,
  StorageFailedError,
  StoppedError,
  TokenLifecycleError,
  UnauthorizedClientError,
  UnsupportedTokenTypeError,
  AccessDeniedError,
  asLoginError,
  ExpiredTokenError,
  LoginAlreadyCompletedError,
  LoginFailedError,
  LoginTimeoutError,
} from '../../../machines/lifecycle/errors.js';

// [class, an instance, its stable code, retryable by default]
const cases: Array<[string, TokenLifecycleError, string, boolean]> = [
  ['ReauthRequiredError', new ReauthRequiredError('invalid_grant'), 'reauth_required', false],
  ['RefreshTokenMissingError', new RefreshTokenMissingError(), 'refresh_token_missing', false],
  ['InvalidGrantError', new InvalidGrantError(), 'invalid_grant', false],
  ['InvalidClientError', new InvalidClientError(), 'invalid_client', false],
  ['UnauthorizedClientError', new UnauthorizedClientError(), 'unauthorized_client', false],
  ['RefreshFailedError', new RefreshFailedError(), 'refresh_failed', true],
  ['InvalidTokenResponseError', new InvalidTokenResponseError('access_token is missing'), 'invalid_token_response', true],
  ['StorageFailedError', new StorageFailedError(), 'storage_failed', true],
  ['StorageCorruptError', new StorageCorruptError(), 'storage_corrupt', false],
  ['StorageConflictError', new StorageConflictError(), 'storage_conflict', false],
  ['StorageSealedError', new StorageSealedError(), 'storage_sealed', false],
  ['NotFoundError', new NotFoundError('default'), 'not_found', false],
  ['InvalidConfigError', new InvalidConfigError('bad'), 'invalid_config', false],
  ['InsecureEndpointError', new InsecureEndpointError('http://auth.example.com/token'), 'insecure_endpoint', false],
  ['DiscoveryFailedError', new DiscoveryFailedError('404'), 'discovery_failed', false],
  ['RevocationFailedError', new RevocationFailedError(), 'revocation_failed', false],
  ['StoppedError', new StoppedError(), 'stopped', false],
  ['OAuthServerError', new OAuthServerError('invalid_scope'), 'invalid_scope', false],
  ['UnsupportedTokenTypeError', new UnsupportedTokenTypeError('DPoP'), 'unsupported_token_type', false],
  ['AccessDeniedError', new AccessDeniedError(), 'access_denied', false],
  ['ExpiredTokenError', new ExpiredTokenError(), 'expired_token', false],
  ['LoginFailedError', new LoginFailedError('state mismatch'), 'login_failed', false],
  ['LoginTimeoutError', new LoginTimeoutError(120_000), 'login_timeout', false],
  ['LoginAlreadyCompletedError', new LoginAlreadyCompletedError(), 'login_already_completed', false],
];

describe('typed errors (DESIGN §4)', () => {
  it.each(cases)('%s has its stable code, name, prototype chain and retryable flag', (className, error, code, retryable) => {
    expect(error.code).toBe(code);
    expect(error.name).toBe(className);
    expect(error).toBeInstanceOf(TokenLifecycleError);
    expect(error).toBeInstanceOf(Error);
    expect(error.constructor.name).toBe(className);
    expect(error.retryable).toBe(retryable);
    expect(isTokenLifecycleError(error)).toBe(true);
    expect(typeof error.message).toBe('string');
    expect(error.message.length).toBeGreaterThan(0);
    expect(String(error)).toContain(className);
    expect(error.stack).toBeTypeOf('string');
  });

  it('covers every exported error class', () => {
    const exported = Object.entries(errors)
      .filter(([, value]) => typeof value === 'function' && value.prototype instanceof TokenLifecycleError)
      .map(([name]) => name)
      .sort();
    expect(exported).toEqual(cases.map(([name]) => name).sort());
  });

  it('UnsupportedTokenTypeError says how to use DPoP, and never echoes a token-like type', () => {
    expect(new UnsupportedTokenTypeError('DPoP').message).toContain('dpop: createDpopProver({ keyPair })');
    expect(new UnsupportedTokenTypeError('MAC').message).toContain('"MAC"');
    const pasted = new UnsupportedTokenTypeError('eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.sig');
    expect(pasted.message).not.toContain('eyJ');
  });

  it('the login errors the server names map to their classes (RFC 8628 §3.5)', () => {
    expect(asLoginError(oauthError('access_denied', { status: 400 }))).toBeInstanceOf(AccessDeniedError);
    expect(asLoginError(oauthError('expired_token', { status: 400, description: 'gone' }))).toMatchObject({ code: 'expired_token', status: 400, description: 'gone' });
    expect(asLoginError(oauthError('expired_token', { status: 400 }))).toBeInstanceOf(ExpiredTokenError);
    expect(asLoginError(oauthError('access_denied', { status: 400 })).retryable).toBe(false);
    const other = oauthError('invalid_scope', { status: 400 });
    expect(asLoginError(other)).toBe(other);
  });

  it('the OAuth classes extend OAuthServerError', () => {
    for (const error of [new InvalidGrantError(), new InvalidClientError(), new UnauthorizedClientError()]) {
      expect(error).toBeInstanceOf(OAuthServerError);
    }
  });

  it('keeps the options: cause, status, description, retryAfter, reason, key', () => {
    const cause = new TypeError('fetch failed');
    const error = new RefreshFailedError('Token endpoint unreachable', {
      cause,
      status: 503,
      description: 'maintenance',
      retryAfter: 120_000,
      key: 'api',
    });
    expect(error.cause).toBe(cause);
    expect(error.status).toBe(503);
    expect(error.description).toBe('maintenance');
    expect(error.retryAfter).toBe(120_000);
    expect(error.key).toBe('api');
    expect(error.message).toBe('Token endpoint unreachable');
    expect('reason' in error).toBe(false);
  });

  it('leaves unset options absent (no undefined own properties, no cause)', () => {
    const error = new StoppedError();
    for (const field of ['status', 'description', 'retryAfter', 'reason', 'key', 'cause']) {
      expect(Object.hasOwn(error, field)).toBe(false);
    }
  });

  it('a caller may override retryable', () => {
    expect(new StorageFailedError('closed', { retryable: false }).retryable).toBe(false);
    expect(new RefreshFailedError('x', { retryable: false }).retryable).toBe(false);
  });

  it('ReauthRequiredError carries the reason and names it in the message', () => {
    const error = new ReauthRequiredError('refresh_token_missing', { key: 'default' });
    expect(error.reason).toBe('refresh_token_missing');
    expect(error.message).toContain('refresh_token_missing');
    expect(error.key).toBe('default');
  });

  it('NotFoundError carries the key', () => {
    const error = new NotFoundError('user:alice');
    expect(error.key).toBe('user:alice');
    expect(error.message).toContain('user:alice');
  });

  it('OAuthServerError names the code and the HTTP status in the message', () => {
    const error = new OAuthServerError('invalid_scope', { status: 400, description: 'scope too wide' });
    expect(error.message).toContain('invalid_scope');
    expect(error.message).toContain('400');
    expect(error.description).toBe('scope too wide');
  });
});

describe('oauthError', () => {
  it.each([
    ['invalid_grant', InvalidGrantError],
    ['invalid_client', InvalidClientError],
    ['unauthorized_client', UnauthorizedClientError],
  ])('maps %s to its class', (code, Class) => {
    const error = oauthError(code, { status: 400, description: 'd' });
    expect(error).toBeInstanceOf(Class);
    expect(error.code).toBe(code);
    expect(error.status).toBe(400);
    expect(error.description).toBe('d');
    expect(error.retryable).toBe(false);
  });

  it('keeps any other code as an OAuthServerError with the server’s code', () => {
    for (const code of ['invalid_request', 'invalid_scope', 'unsupported_grant_type', 'server_error', 'vendor_specific']) {
      const error = oauthError(code, { status: 400 });
      expect(error.constructor).toBe(OAuthServerError);
      expect(error.code).toBe(code);
      expect(error.name).toBe('OAuthServerError');
      expect(error.retryable).toBe(false);
    }
  });

  it('does not map inherited Object properties to classes', () => {
    for (const code of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const error = oauthError(code);
      expect(error.constructor).toBe(OAuthServerError);
      expect(error.code).toBe(code);
    }
  });

  it('marks temporarily_unavailable retryable whatever the status (R6)', () => {
    expect(oauthError('temporarily_unavailable', { status: 503 }).retryable).toBe(true);
    expect(oauthError('temporarily_unavailable', { status: 400 }).retryable).toBe(true);
    expect(oauthError('temporarily_unavailable').retryable).toBe(true);
  });

  it('marks codes on 408/429/5xx retryable, on 400/401 permanent', () => {
    for (const status of [408, 429, 500, 503, 599]) expect(oauthError('server_error', { status }).retryable).toBe(true);
    for (const status of [400, 401, 403, 404]) expect(oauthError('invalid_request', { status }).retryable).toBe(false);
    expect(oauthError('invalid_grant', { status: 503 })).toBeInstanceOf(InvalidGrantError);
    expect(oauthError('invalid_grant', { status: 503 }).retryable).toBe(true);
  });

  it('an explicit retryable wins', () => {
    expect(oauthError('server_error', { status: 503, retryable: false }).retryable).toBe(false);
    expect(oauthError('invalid_request', { status: 400, retryable: true }).retryable).toBe(true);
  });
});

describe('isTransientStatus', () => {
  it('is true for 408, 429 and 5xx only', () => {
    expect([408, 429, 500, 502, 503, 504, 599].every(isTransientStatus)).toBe(true);
    expect([undefined, 0, 200, 400, 401, 403, 404, 409, 499, 600, Number.NaN, '503'].some(isTransientStatus)).toBe(false);
  });
});

describe('isTokenLifecycleError', () => {
  it('is false for foreign errors and look-alikes', () => {
    expect(isTokenLifecycleError(new Error('x'))).toBe(false);
    expect(isTokenLifecycleError({ code: 'invalid_grant', retryable: false })).toBe(false);
    expect(isTokenLifecycleError(undefined)).toBe(false);
  });
});
