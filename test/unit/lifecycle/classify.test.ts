import { describe, expect, it } from 'vitest';
import { classifyFailure } from '../../../machines/lifecycle/classify.js';
import {
  InvalidClientError,
  InvalidGrantError,
  InvalidTokenResponseError,
  oauthError,
  OAuthServerError,
  RefreshFailedError,
  UnauthorizedClientError,
} from '../../../machines/lifecycle/errors.js';

describe('classifyFailure (R6)', () => {
  describe('typed errors', () => {
    it.each([
      ['InvalidGrantError', new InvalidGrantError({ status: 400 }), 'invalid_grant'],
      ['InvalidClientError', new InvalidClientError({ status: 401 }), 'invalid_client'],
      ['UnauthorizedClientError', new UnauthorizedClientError({ status: 400 }), 'unauthorized_client'],
      ['oauthError(invalid_scope)', oauthError('invalid_scope', { status: 400 }), 'invalid_scope'],
      ['oauthError(invalid_request)', oauthError('invalid_request'), 'invalid_request'],
      ['oauthError(unsupported_grant_type)', oauthError('unsupported_grant_type', { status: 400 }), 'unsupported_grant_type'],
      ['a 4xx without an OAuth code', new OAuthServerError('unexpected_response', { status: 404 }), 'unexpected_response'],
    ])('%s is permanent with its code', (_, error, code) => {
      expect(classifyFailure(error)).toEqual({ kind: 'permanent', code });
    });

    it('RefreshFailedError is transient refresh_failed', () => {
      expect(classifyFailure(new RefreshFailedError())).toEqual({ kind: 'transient', code: 'refresh_failed' });
    });

    it('InvalidTokenResponseError is transient and keeps its code', () => {
      expect(classifyFailure(new InvalidTokenResponseError('x'))).toEqual({ kind: 'transient', code: 'invalid_token_response' });
    });

    it('temporarily_unavailable is transient whatever the HTTP status', () => {
      for (const status of [503, 400, 401, undefined]) {
        const options = status === undefined ? {} : { status };
        expect(classifyFailure(oauthError('temporarily_unavailable', options))).toEqual({
          kind: 'transient',
          code: 'temporarily_unavailable',
        });
      }
    });

    it('an error code on a 408, 429 or 5xx response is transient (R6: only 400/401 codes are permanent)', () => {
      for (const status of [408, 429, 500, 502, 503, 504]) {
        expect(classifyFailure(new OAuthServerError('server_error', { status })).kind).toBe('transient');
        expect(classifyFailure(oauthError('invalid_grant', { status })).kind).toBe('transient');
      }
      expect(classifyFailure(new OAuthServerError('server_error', { status: 400 })).kind).toBe('permanent');
    });

    it('carries retryAfter as retryAfterMs', () => {
      expect(classifyFailure(new RefreshFailedError('busy', { status: 429, retryAfter: 30_000 }))).toEqual({
        kind: 'transient',
        code: 'refresh_failed',
        retryAfterMs: 30_000,
      });
      expect(classifyFailure(oauthError('temporarily_unavailable', { status: 503, retryAfter: 0 }))).toEqual({
        kind: 'transient',
        code: 'temporarily_unavailable',
        retryAfterMs: 0,
      });
    });
  });

  describe('foreign throwables (custom endpoints)', () => {
    it('{ retryable: true, retryAfter } is transient with retryAfterMs', () => {
      expect(classifyFailure({ retryable: true, retryAfter: 5_000 })).toEqual({
        kind: 'transient',
        code: 'refresh_failed',
        retryAfterMs: 5_000,
      });
      const error = Object.assign(new Error('upstream busy'), { retryable: true, retryAfter: 1_500 });
      expect(classifyFailure(error)).toEqual({ kind: 'transient', code: 'refresh_failed', retryAfterMs: 1_500 });
    });

    it('ignores a retryAfter that is not a finite number ≥ 0', () => {
      for (const retryAfter of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5000', null]) {
        expect(classifyFailure({ retryable: true, retryAfter })).toEqual({ kind: 'transient', code: 'refresh_failed' });
      }
    });

    it('{ code: "invalid_grant" } is permanent', () => {
      expect(classifyFailure({ code: 'invalid_grant' })).toEqual({ kind: 'permanent', code: 'invalid_grant' });
      expect(classifyFailure(Object.assign(new Error('nope'), { code: 'invalid_client' }))).toEqual({
        kind: 'permanent',
        code: 'invalid_client',
      });
    });

    it('a lowercase code with retryable: true is transient', () => {
      expect(classifyFailure({ code: 'invalid_grant', retryable: true }).kind).toBe('transient');
    });

    it('an explicit retryable: false with any code is permanent with that code', () => {
      expect(classifyFailure({ code: 'ECONNREFUSED', retryable: false })).toEqual({ kind: 'permanent', code: 'ECONNREFUSED' });
    });

    it('a foreign temporarily_unavailable is transient too (e.g. a typed error from another copy of the library)', () => {
      expect(classifyFailure({ code: 'temporarily_unavailable' }).kind).toBe('transient');
      expect(classifyFailure({ code: 'temporarily_unavailable', retryable: false }).kind).toBe('transient');
    });

    it('a plain TypeError or Error("ECONNRESET") is transient refresh_failed', () => {
      expect(classifyFailure(new TypeError('fetch failed'))).toEqual({ kind: 'transient', code: 'refresh_failed' });
      expect(classifyFailure(new Error('ECONNRESET'))).toEqual({ kind: 'transient', code: 'refresh_failed' });
    });

    it('a Node system error (uppercase code) is transient refresh_failed', () => {
      const error = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', errno: -104 });
      expect(classifyFailure(error)).toEqual({ kind: 'transient', code: 'refresh_failed' });
    });

    it('an abort or timeout DOMException is transient', () => {
      expect(classifyFailure(new DOMException('timed out', 'TimeoutError')).kind).toBe('transient');
      expect(classifyFailure(new DOMException('aborted', 'AbortError')).kind).toBe('transient');
    });

    it.each([[undefined], [null], ['a string'], [42], [Symbol('x')], [{}], [[]]])('%s is transient refresh_failed', (value) => {
      expect(classifyFailure(value)).toEqual({ kind: 'transient', code: 'refresh_failed' });
    });
  });
});
