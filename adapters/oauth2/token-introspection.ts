/**
 * RFC 7662 token introspection (`oauth2Endpoint({ introspection: tokenIntrospection() }).introspect(token)`).
 * A plug-in (docs/decisions.md, "Optional features are plug-ins"): the endpoint lends it its transport
 * (the mTLS one with `tls`), client authentication (client-auth.ts, the same as the token and
 * revocation requests), discovery and redaction memory. The answer is checked strictly (§2.2); what
 * the server says on failure goes through machines/lifecycle/server-text.ts (error-response.ts), with
 * the introspected token and the assertion redacted by value. The token is never in an error.
 */
import { DiscoveryFailedError, InvalidConfigError, TokenLifecycleError } from '../../machines/lifecycle/errors.js';
import type { EndpointRequestOptions } from '../../machines/lifecycle/types.js';
import { explainAssertionRefusal } from './client-assertion-errors.js';
import { applyClientAuth, type AssertionAudiences, type ClientCredentials } from './client-auth.js';
import type { ServerMetadata } from './discovery.js';
import { describeError, isTransientStatus, readOAuthError, retryAfterOf, tokenErrorFor } from './error-response.js';
import type { KnownSecrets } from './known-secrets.js';
import type { MtlsTransport } from './mtls.js';
import { ResponseTooLargeError } from './read-body.js';
import { discoveredUrl, requireSecureUrl } from './secure-url.js';
import { TransportError, type RawResponse, type Send } from './transport.js';

/** `introspection_failed`: the network, 408/429/5xx, an oversized body or an answer that breaks RFC 7662 §2.2. */
export class IntrospectionFailedError extends TokenLifecycleError {
  constructor(message: string, options: ConstructorParameters<typeof TokenLifecycleError>[2] = {}) {
    super('introspection_failed', `Token introspection failed: ${message}`, options);
  }
}

/** What the introspection endpoint said about a token, checked (RFC 7662 §2.2). */
export interface IntrospectionResult {
  readonly active: boolean;
  readonly scope?: string;
  readonly client_id?: string;
  readonly username?: string;
  readonly token_type?: string;
  readonly exp?: number;
  readonly iat?: number;
  readonly nbf?: number;
  readonly sub?: string;
  readonly aud?: string | readonly string[];
  readonly iss?: string;
  readonly jti?: string;
  /** RFC 8705 §3.2 / RFC 9449 §6.2: the key or certificate the token is bound to. */
  readonly cnf?: Readonly<Record<string, unknown>>;
}

export interface IntrospectOptions extends EndpointRequestOptions {
  /** RFC 7662 §2.1 `token_type_hint`: `access_token`, `refresh_token`, or another registered type. */
  readonly tokenTypeHint?: string;
}

/** What the endpoint lends the plug-in. */
export interface IntrospectionContext {
  readonly send: Send;
  readonly metadata: ((signal?: AbortSignal) => Promise<ServerMetadata>) | undefined;
  /** The endpoint's checked options: its client and, with `tls`, the mTLS transport. */
  readonly config: { readonly client: ClientCredentials; readonly tls?: MtlsTransport | undefined };
  readonly audiences: AssertionAudiences;
  readonly known: KnownSecrets;
}

/** What the `introspection` option of `oauth2Endpoint` takes: made by `tokenIntrospection()`. */
export interface TokenIntrospection {
  introspect(context: IntrospectionContext, token: string, options?: IntrospectOptions): Promise<IntrospectionResult>;
}

export interface TokenIntrospectionOptions {
  /** The introspection endpoint (https, or http on loopback); without it, `introspection_endpoint` from discovery. */
  readonly introspectionUrl?: string;
}

/**
 * `oauth2Endpoint({ ..., introspection: tokenIntrospection() })` gives the endpoint its
 * `introspect(token, { tokenTypeHint })` (RFC 7662). Configuration wrong on its face throws now.
 */
export function tokenIntrospection(options: TokenIntrospectionOptions = {}): TokenIntrospection {
  const configured = options.introspectionUrl === undefined ? undefined : requireSecureUrl(options.introspectionUrl, 'introspectionUrl');
  return { introspect: (context, token, request) => introspectToken(context, configured, token, request) };
}

async function introspectionUrl(context: IntrospectionContext, configured: URL | undefined, signal?: AbortSignal): Promise<URL> {
  if (configured) return configured;
  if (!context.metadata) throw new InvalidConfigError('introspection needs introspectionUrl or an issuer');
  const found = await context.metadata(signal);
  const discovered = context.config.tls?.alias?.(found, 'introspection_endpoint') ?? found.introspection_endpoint;
  if (discovered === undefined) throw new InvalidConfigError('The server has no introspection_endpoint: set introspectionUrl');
  // As the token endpoint's: http off loopback is insecure_endpoint, anything not a URL discovery_failed.
  if (typeof discovered !== 'string') throw new DiscoveryFailedError('introspection_endpoint is not a usable https URL');
  return discoveredUrl(discovered, 'introspection_endpoint');
}

/** Sends one introspection request (RFC 7662 §2.1) and resolves to the checked answer (§2.2). */
export async function introspectToken(
  context: IntrospectionContext,
  configured: URL | undefined,
  token: string,
  { tokenTypeHint, signal }: IntrospectOptions = {},
): Promise<IntrospectionResult> {
  signal?.throwIfAborted();
  if (typeof token !== 'string' || token.length === 0) throw new InvalidConfigError('introspect needs a token');
  const url = await introspectionUrl(context, configured, signal);
  const body = new URLSearchParams({ token });
  if (tokenTypeHint) body.set('token_type_hint', tokenTypeHint);
  const headers = new Headers({ accept: 'application/json' });
  const assertion = await applyClientAuth(context.config.client, body, headers, context.audiences);
  let response: RawResponse;
  try {
    response = await context.send(url, { method: 'POST', headers, body, ...(signal ? { signal } : {}) });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (error instanceof TransportError) {
      throw new IntrospectionFailedError(`${error.message}${context.config.tls?.closedNote ?? ''}`, { cause: error, retryable: true });
    }
    if (error instanceof ResponseTooLargeError) throw new IntrospectionFailedError(error.message, { status: error.status, retryable: true });
    throw error;
  }
  const secrets = context.known.with(token, assertion);
  const { status } = response;
  if (status >= 200 && status < 300) return checkIntrospection(response);
  const said = readOAuthError(response.text, secrets);
  let error: TokenLifecycleError;
  if (isTransientStatus(status) || said?.error === 'temporarily_unavailable') {
    const retryAfter = retryAfterOf(response);
    const description = describeError(said);
    error = new IntrospectionFailedError(`the endpoint is unavailable (HTTP ${status})`, {
      status,
      retryable: true,
      ...(retryAfter === undefined ? {} : { retryAfter }),
      ...(description === undefined ? {} : { description }),
    });
  } else {
    error = explainAssertionRefusal(tokenErrorFor(response, secrets), assertion);
  }
  context.config.tls?.explain?.(error, context.config.client.authMethod);
  throw error;
}

const STRING_CLAIMS = ['scope', 'client_id', 'username', 'token_type', 'sub', 'iss', 'jti'] as const;
const TIME_CLAIMS = ['exp', 'iat', 'nbf'] as const;

/**
 * RFC 7662 §2.2: a JSON object whose `active` is a boolean. An inactive token's answer is
 * `{ active: false }` and nothing else (whatever else the server said). For an active one the
 * claims we know are type-checked (a wrong type is a broken answer, named, its value never quoted)
 * and returned; other members are dropped.
 */
export function checkIntrospection(response: RawResponse): IntrospectionResult {
  const broken = (what: string): IntrospectionFailedError =>
    new IntrospectionFailedError(`the answer breaks RFC 7662 §2.2: ${what} (HTTP ${response.status})`, { status: response.status, retryable: true });
  let parsed: unknown;
  try {
    parsed = JSON.parse(response.text);
  } catch {
    throw broken('the body is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw broken('the body is not a JSON object');
  const answer = parsed as Record<string, unknown>;
  if (typeof answer.active !== 'boolean') throw broken('active is not a boolean');
  if (!answer.active) return { active: false };
  const result: Record<string, unknown> = { active: true };
  for (const name of STRING_CLAIMS) {
    const value = answer[name];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw broken(`${name} is not a string`);
    result[name] = value;
  }
  for (const name of TIME_CLAIMS) {
    const value = answer[name];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw broken(`${name} is not a number`);
    result[name] = value;
  }
  const { aud, cnf } = answer;
  if (aud !== undefined) {
    if (typeof aud !== 'string' && !(Array.isArray(aud) && aud.every((a) => typeof a === 'string'))) {
      throw broken('aud is not a string or a list of strings');
    }
    result.aud = aud;
  }
  if (cnf !== undefined) {
    if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) throw broken('cnf is not an object');
    result.cnf = cnf;
  }
  return result as unknown as IntrospectionResult;
}
