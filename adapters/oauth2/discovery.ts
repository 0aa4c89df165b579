import { DiscoveryFailedError, type TokenLifecycleError } from '../../machines/lifecycle/errors.js';
import { describeError, isTransientStatus, readOAuthError, retryAfterOf } from './error-response.js';
import { ResponseTooLargeError } from './read-body.js';
import { TransportError, type RawResponse, type Send } from './transport.js';

/** The fields of authorization server metadata this adapter uses (RFC 8414 §2). */
export interface ServerMetadata {
  readonly issuer: string;
  readonly token_endpoint: string;
  readonly revocation_endpoint?: string;
  readonly [field: string]: unknown;
}

/**
 * RFC 8414 §3.1: `/.well-known/oauth-authorization-server` goes between the host and the issuer's
 * path, whose terminating `/` is removed first: `https://a.example/tenant` →
 * `https://a.example/.well-known/oauth-authorization-server/tenant`.
 */
export function authorizationServerMetadataUrl(issuer: URL): URL {
  const path = issuer.pathname.replace(/\/$/, '');
  return new URL(`/.well-known/oauth-authorization-server${path}`, issuer.origin);
}

/** OpenID Connect Discovery 1.0 §4: `/.well-known/openid-configuration` appended to the issuer. */
export function openIdConfigurationUrl(issuer: URL): URL {
  const path = issuer.pathname.replace(/\/$/, '');
  // Concatenated, not resolved: a path starting with `//` must not become another host.
  return new URL(`${issuer.origin}${path}/.well-known/openid-configuration`);
}

/** The two locations tried in order, as one discovery. */
export function discoveryUrls(issuer: URL): [URL, URL] {
  return [authorizationServerMetadataUrl(issuer), openIdConfigurationUrl(issuer)];
}

/**
 * Validates a metadata document. The `issuer` must equal the configured one exactly (RFC 8414 §3.3,
 * OIDC Discovery §4.3): that is what stops a mix-up with another server's endpoints.
 */
export function checkMetadata(document: unknown, expectedIssuer: string): ServerMetadata {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new DiscoveryFailedError('the metadata is not a JSON object');
  }
  const metadata = document as Record<string, unknown>;
  if (metadata.issuer !== expectedIssuer) {
    throw new DiscoveryFailedError('the metadata issuer differs from the configured issuer (RFC 8414 §3.3)');
  }
  if (typeof metadata.token_endpoint !== 'string' || metadata.token_endpoint === '') {
    throw new DiscoveryFailedError('the metadata has no token_endpoint');
  }
  if (metadata.revocation_endpoint !== undefined && typeof metadata.revocation_endpoint !== 'string') {
    throw new DiscoveryFailedError('the metadata revocation_endpoint is not a string');
  }
  return metadata as ServerMetadata;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

type Attempt = { readonly document: unknown } | { readonly miss: RawResponse };

/** One location: a JSON 2xx document, or a miss (4xx, or a 2xx that is not JSON, e.g. an HTML page). */
async function fetchLocation(send: Send, url: URL): Promise<Attempt> {
  let response: RawResponse;
  try {
    response = await send(url, { method: 'GET' });
  } catch (error) {
    if (error instanceof TransportError) {
      // The server is unreachable: the manager backs off and discovery is tried again next time.
      throw new DiscoveryFailedError(error.message, { cause: error, retryable: true });
    }
    if (error instanceof ResponseTooLargeError) {
      // Read no further; retried later, as a server answering HTTP 5xx would be.
      throw new DiscoveryFailedError(error.message, { status: error.status, retryable: true });
    }
    throw error;
  }
  if (isTransientStatus(response.status)) throw unavailable(response);
  if (response.status >= 200 && response.status < 300) {
    const document = parseJson(response.text);
    if (document !== undefined) return { document };
  }
  return { miss: response };
}

/** A 408/429/5xx: retryable; an RFC 6749 §5.2-style error body is passed on only through server-text.ts. */
function unavailable(response: RawResponse): TokenLifecycleError {
  const retryAfter = retryAfterOf(response);
  const description = describeError(readOAuthError(response.text));
  return new DiscoveryFailedError(`the server answered HTTP ${response.status}`, {
    status: response.status,
    retryable: true,
    ...(retryAfter === undefined ? {} : { retryAfter }),
    ...(description === undefined ? {} : { description }),
  });
}

/**
 * Fetches and validates the metadata: the RFC 8414 location, then OpenID's when the first has no
 * document. Network failures, timeouts, 408/429/5xx are retryable; no document at either place,
 * or a document that fails the checks, is not.
 */
export async function discover(send: Send, issuer: string, issuerUrl: URL): Promise<ServerMetadata> {
  let last: RawResponse | undefined;
  for (const url of discoveryUrls(issuerUrl)) {
    const attempt = await fetchLocation(send, url);
    if ('document' in attempt) return checkMetadata(attempt.document, issuer);
    last = attempt.miss;
  }
  const status = last?.status ?? 0;
  return Promise.reject(
    new DiscoveryFailedError(`no metadata document found for the issuer (last HTTP ${status})`, { status }),
  );
}

/**
 * Lazy, cached discovery: nothing is fetched until `get()` is first called; concurrent first callers
 * share one fetch; a failure is not cached, so the next call tries again. Each caller's `signal` ends
 * only its own wait, never the shared fetch.
 */
export function lazyDiscovery(load: () => Promise<ServerMetadata>): (signal?: AbortSignal) => Promise<ServerMetadata> {
  let pending: Promise<ServerMetadata> | undefined;
  return (signal) => {
    if (pending === undefined) {
      const attempt = load();
      pending = attempt;
      attempt.catch(() => {
        if (pending === attempt) pending = undefined;
      });
    }
    return untilAborted(pending, signal);
  };
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
