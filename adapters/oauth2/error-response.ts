import {
  InvalidClientError,
  OAuthServerError,
  RefreshFailedError,
  oauthError,
  type TokenLifecycleError,
} from '../../machines/lifecycle/errors.js';
import { parseRetryAfter } from './retry-after.js';
import type { RawResponse } from './transport.js';

/** The RFC 6749 §5.2 fields of an error body, when it is JSON with a string `error`. */
export interface OAuthErrorBody {
  readonly error: string;
  readonly errorDescription?: string;
}

/**
 * `secrets` (the token and client secret just sent) are blanked out of `error_description`, so a
 * server that echoes them cannot leak them into errors (R13).
 */
export function readOAuthError(text: string, secrets: ReadonlyArray<string | undefined> = []): OAuthErrorBody | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const { error, error_description: description } = body as Record<string, unknown>;
  if (typeof error !== 'string' || error === '') return undefined;
  return typeof description === 'string' ? { error, errorDescription: redact(description, secrets) } : { error };
}

function redact(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let result = text;
  for (const secret of secrets) {
    if (secret) result = result.split(secret).join('[redacted]');
  }
  return result;
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

function describeCode(body: OAuthErrorBody | undefined): string | undefined {
  if (!body) return undefined;
  return body.errorDescription ? `${body.error}: ${body.errorDescription}` : body.error;
}

/**
 * Maps a non-2xx token endpoint response to a typed error (RFC 6749 §5.2, DESIGN R6):
 * - 408, 429, 5xx, and `temporarily_unavailable` at any status → `refresh_failed` (retryable), with
 *   `retryAfter` on 429/503 and the server's code in `description`;
 * - a §5.2 code at any other status (400, 401, ...) → that code (permanent: invalid_grant, ...);
 * - 401 without a code → `invalid_client` (the client failed to authenticate, §5.2);
 * - any other status without a code (3xx, 404, ...) → `unexpected_response` (permanent).
 */
export function tokenErrorFor(
  response: RawResponse,
  secrets: ReadonlyArray<string | undefined> = [],
  now: number = Date.now(),
): TokenLifecycleError {
  const { status } = response;
  const body = readOAuthError(response.text, secrets);
  if (isTransientStatus(status) || body?.error === 'temporarily_unavailable') {
    const retryAfter = retryAfterOf(response, now);
    const description = describeCode(body);
    return new RefreshFailedError(`The token endpoint is unavailable (HTTP ${status})`, {
      status,
      ...(retryAfter === undefined ? {} : { retryAfter }),
      ...(description === undefined ? {} : { description }),
    });
  }
  if (body) {
    return oauthError(body.error, {
      status,
      ...(body.errorDescription === undefined ? {} : { description: body.errorDescription }),
    });
  }
  if (status === 401) return new InvalidClientError({ status });
  return new OAuthServerError('unexpected_response', { status });
}
