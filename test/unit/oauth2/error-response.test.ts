import { describe, expect, it } from 'vitest';
import { readOAuthError, tokenErrorFor } from '../../../adapters/oauth2/error-response.js';
import type { RawResponse } from '../../../adapters/oauth2/transport.js';
import { InvalidClientError, InvalidGrantError, OAuthServerError, RefreshFailedError, UnauthorizedClientError } from '../../../machines/lifecycle/errors.js';

const NOW = Date.UTC(2025, 0, 1);

function response(status: number, body: unknown = '', headers: Record<string, string> = {}): RawResponse {
  return { status, headers: new Headers(headers), text: typeof body === 'string' ? body : JSON.stringify(body) };
}

describe('tokenErrorFor (RFC 6749 §5.2, DESIGN R6)', () => {
  it.each([
    [400, 'invalid_grant', InvalidGrantError],
    [400, 'invalid_client', InvalidClientError],
    [401, 'invalid_client', InvalidClientError],
    [400, 'unauthorized_client', UnauthorizedClientError],
    [400, 'invalid_scope', OAuthServerError],
    [400, 'invalid_request', OAuthServerError],
    [400, 'unsupported_grant_type', OAuthServerError],
    [403, 'access_denied', OAuthServerError],
  ])('%d with error=%s → that code, permanent', (status, code, Type) => {
    const error = tokenErrorFor(response(status, { error: code, error_description: 'why' }), [], NOW);
    expect(error).toBeInstanceOf(Type);
    expect(error).toMatchObject({ code, status, retryable: false, description: 'why' });
  });

  it('401 without a code → invalid_client', () => {
    expect(tokenErrorFor(response(401, ''), [], NOW)).toMatchObject({ code: 'invalid_client', status: 401, retryable: false });
  });

  it.each([400, 403, 404, 405, 302])('%d without a code → unexpected_response, permanent', (status) => {
    expect(tokenErrorFor(response(status, 'nope'), [], NOW)).toMatchObject({
      code: 'unexpected_response', status, retryable: false,
    });
  });

  it.each([408, 429, 500, 502, 503, 504])('%d → refresh_failed, retryable', (status) => {
    const error = tokenErrorFor(response(status), [], NOW);
    expect(error).toBeInstanceOf(RefreshFailedError);
    expect(error).toMatchObject({ code: 'refresh_failed', status, retryable: true });
    expect(error.description).toBeUndefined();
  });

  it('a 5xx with a code keeps the code in description, still retryable', () => {
    const error = tokenErrorFor(response(500, { error: 'server_error', error_description: 'db down' }), [], NOW);
    expect(error).toMatchObject({ code: 'refresh_failed', retryable: true, description: 'server_error: db down' });
  });

  it('temporarily_unavailable is transient whatever the status', () => {
    expect(tokenErrorFor(response(400, { error: 'temporarily_unavailable' }), [], NOW)).toMatchObject({
      code: 'refresh_failed', retryable: true, description: 'temporarily_unavailable',
    });
  });

  it('Retry-After is read on 429 and 503 (seconds or HTTP-date)', () => {
    expect(tokenErrorFor(response(429, '', { 'retry-after': '5' }), [], NOW).retryAfter).toBe(5_000);
    expect(tokenErrorFor(response(503, '', { 'retry-after': 'Wed, 01 Jan 2025 00:01:00 GMT' }), [], NOW).retryAfter).toBe(60_000);
  });

  it('Retry-After is ignored on other statuses and when malformed', () => {
    expect(tokenErrorFor(response(500, '', { 'retry-after': '5' }), [], NOW).retryAfter).toBeUndefined();
    expect(tokenErrorFor(response(503, '', { 'retry-after': 'later' }), [], NOW).retryAfter).toBeUndefined();
  });
});

describe('readOAuthError', () => {
  it('blanks the secrets just sent out of error_description (R13), never out of the code', () => {
    const text = JSON.stringify({ error: 'invalid_grant', error_description: 'refresh token RT-123 is unknown (RT-123)' });
    expect(readOAuthError(text, ['RT-123', undefined, 'grant'])).toEqual({
      error: 'invalid_grant',
      errorDescription: 'refresh token [redacted] is unknown ([redacted])',
    });
  });

  it.each([
    ['HTML', '<html>oops</html>'],
    ['an empty body', ''],
    ['no error field', '{"message":"x"}'],
    ['a non-string error', '{"error":42}'],
    ['an empty error', '{"error":""}'],
    ['JSON null', 'null'],
  ])('%s has no OAuth error', (_, text) => {
    expect(readOAuthError(text)).toBeUndefined();
  });

  it('drops a non-string error_description', () => {
    expect(readOAuthError('{"error":"invalid_grant","error_description":5}')).toEqual({ error: 'invalid_grant' });
  });
});
