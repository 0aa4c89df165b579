/** What every token endpoint request shares (refresh, client credentials, token exchange): sending and reading the 2xx body. */
import { InvalidTokenResponseError, type TokenLifecycleError } from '../../machines/lifecycle/errors.js';
import { ResponseTooLargeError } from './read-body.js';
import { TransportError, type RawResponse, type Send } from './transport.js';

/**
 * Sends; a network failure or timeout becomes the caller's typed error, an abort its reason, a body
 * over `maxResponseBytes` an `invalid_token_response` (retryable, as any malformed answer, R6).
 */
export async function sendOr(
  send: Send,
  url: URL,
  options: Parameters<Send>[1],
  onTransport: (error: TransportError) => TokenLifecycleError,
): Promise<RawResponse> {
  try {
    return await send(url, options);
  } catch (error) {
    if (error instanceof TransportError) throw onTransport(error);
    if (error instanceof ResponseTooLargeError) {
      throw new InvalidTokenResponseError(error.message, { status: error.status });
    }
    throw error;
  }
}

/**
 * The 2xx body is returned as parsed, unjudged (the manager validates it, R12); but a body that is
 * not JSON at all (an HTML error page behind a 200) is `invalid_token_response`, retryable.
 */
export function parseTokenBody(response: RawResponse): unknown {
  try {
    return JSON.parse(response.text);
  } catch {
    throw new InvalidTokenResponseError(`the body is not JSON (HTTP ${response.status})`, { status: response.status });
  }
}
