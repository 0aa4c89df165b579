import {
  InvalidClientError,
  OAuthServerError,
  RefreshFailedError,
  oauthError,
  type TokenLifecycleError,
} from '../../machines/lifecycle/errors.js';
import { serverDescription, serverErrorCode, type KnownSecrets } from '../../machines/lifecycle/server-text.js';
import { parseRetryAfter } from './retry-after.js';
import type { RawResponse } from './transport.js';

/** The RFC 6749 §5.2 fields of an error body, made safe to emit (machines/lifecycle/server-text.ts). */
export interface OAuthErrorBody {
  /** The server's `error`, when it is a code we may show; absent when it was not (`notACode`). */
  readonly error?: string;
  readonly errorDescription?: string;
  /** The body had an `error` field that is not an RFC 6749 §5.2 code (or holds a secret): nothing of it is kept. */
  readonly notACode?: true;
}

/** What we say instead of an `error` field that is not a code. */
export const NOT_A_CODE = 'the error field is not an RFC 6749 §5.2 error code';

/**
 * Reads a JSON error body. The `error` must be an RFC 6749 §5.2 code holding none of `secrets`
 * (the token and client credentials just sent); `error_description` is redacted by value and by
 * shape, escaped and bounded (R13). Never returns any other part of the body.
 */
export function readOAuthError(text: string, secrets: KnownSecrets = []): OAuthErrorBody | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const { error, error_description: rawDescription } = body as Record<string, unknown>;
  if (typeof error !== 'string' || error === '') return undefined;
  const known = [...secrets];
  const code = serverErrorCode(error, known);
  const errorDescription = serverDescription(rawDescription, known);
  return {
    ...(code === undefined ? { notACode: true as const } : { error: code }),
    ...(errorDescription === undefined ? {} : { errorDescription }),
  };
}

/** 408, 429 and 5xx are the server saying "not now" (DESIGN R6). */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** `Retry-After` is read on 429 (RFC 6585 §4) and 503 (RFC 9110 §15.6.4) only. */
export function retryAfterOf(response: RawResponse, now: number = Date.now()): number | undefined {
  if (response.status !== 429 && response.status !== 503) return undefined;
  return parseRetryAfter(response.headers.get('retry-after'), now);
}

/** `code: description`, `code`, or for a body whose error was not a code, that fact (and the description). */
export function describeError(body: OAuthErrorBody | undefined): string | undefined {
  if (!body) return undefined;
  const head = body.error ?? NOT_A_CODE;
  return body.errorDescription ? `${head}: ${body.errorDescription}` : head;
}

/**
 * Maps a non-2xx token endpoint response to a typed error (RFC 6749 §5.2, DESIGN R6):
 * - 408, 429, 5xx, and `temporarily_unavailable` at any status → `refresh_failed` (retryable), with
 *   `retryAfter` on 429/503 and the server's code in `description`;
 * - a §5.2 code at any other status (400, 401, ...) → that code (permanent: invalid_grant, ...);
 * - 401 without a code → `invalid_client` (the client failed to authenticate, §5.2);
 * - any other status without a code (3xx, 404, or an `error` that is not a code) → `unexpected_response` (permanent).
 * `secrets` are what the request carried (refresh token, client secret and its Basic form).
 */
export function tokenErrorFor(
  response: RawResponse,
  secrets: KnownSecrets = [],
  now: number = Date.now(),
): TokenLifecycleError {
  const { status } = response;
  const body = readOAuthError(response.text, secrets);
  const description = describeError(body);
  const withDescription = description === undefined ? {} : { description };
  if (isTransientStatus(status) || body?.error === 'temporarily_unavailable') {
    const retryAfter = retryAfterOf(response, now);
    return new RefreshFailedError(`The token endpoint is unavailable (HTTP ${status})`, {
      status,
      ...(retryAfter === undefined ? {} : { retryAfter }),
      ...withDescription,
    });
  }
  if (body?.error !== undefined) {
    return oauthError(body.error, {
      status,
      ...(body.errorDescription === undefined ? {} : { description: body.errorDescription }),
    });
  }
  if (status === 401) return new InvalidClientError({ status, ...withDescription });
  return new OAuthServerError('unexpected_response', { status, ...withDescription });
}
