/**
 * R22: RFC 8693 token exchange at the token endpoint (`oauth2Endpoint(...).tokenExchange(request)`).
 * The same client authentication, DPoP, transport, limits and error mapping as the refresh grant;
 * the response is checked strictly (RFC 8693 §2.2.1, machines/lifecycle/exchange-response.ts) before
 * it is handed back. What the server says on failure goes through machines/lifecycle/server-text.ts
 * (error-response.ts), with the tokens the request carried redacted by value (R13).
 */
import { checkExchangeResponse, TOKEN_EXCHANGE_GRANT } from '../../machines/lifecycle/exchange-response.js';
import { InvalidConfigError, RefreshFailedError } from '../../machines/lifecycle/errors.js';
import type { EndpointRequestOptions, TokenExchangeRequest } from '../../machines/lifecycle/types.js';
import { explainAssertionRefusal } from './client-assertion-errors.js';
import { applyClientAuth, type AssertionAudiences, type ClientCredentials } from './client-auth.js';
import { explainDpopRefusal } from './dpop-send.js';
import { tokenErrorFor } from './error-response.js';
import type { KnownSecrets } from './known-secrets.js';
import { parseTokenBody, sendOr } from './token-request.js';
import type { Send } from './transport.js';

/** A token exchange response as the server sent it, checked (RFC 8693 §2.2.1). */
export interface TokenExchangeResponse {
  /** The issued token (named `access_token` whatever its type, RFC 8693 §2.2.1). */
  readonly access_token: string;
  readonly issued_token_type: string;
  /** `Bearer`, `DPoP`, or `N_A` when the issued token is not an access token. */
  readonly token_type: string;
  readonly expires_in?: number | string;
  readonly scope?: string;
  readonly refresh_token?: string;
  readonly [parameter: string]: unknown;
}

/** What the endpoint lends the exchange: its transport, token URL, client and redaction memory. */
export interface ExchangeContext {
  readonly send: Send;
  readonly tokenUrl: (signal?: AbortSignal) => Promise<URL>;
  readonly client: ClientCredentials;
  readonly audiences: AssertionAudiences;
  readonly known: KnownSecrets;
  /** A DPoP key is configured: `token_type: DPoP` is usable. */
  readonly dpop: boolean;
}

/** One `name=value` pair per value, in order (RFC 8693 §2.1 allows several `audience` and `resource`). */
function many(value: string | readonly string[] | undefined, name: string): readonly string[] {
  if (value === undefined) return [];
  const values = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(values) || values.some((v) => typeof v !== 'string' || v.length === 0)) {
    throw new InvalidConfigError(`tokenExchange ${name} must be a non-empty string or a list of them`);
  }
  return values;
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw new InvalidConfigError(`tokenExchange ${name} must be a non-empty string`);
  return value;
}

/** RFC 8693 §2.1's parameters, checked: a request wrong on its face is `invalid_config`, and nothing is sent. */
export function exchangeParameters(request: TokenExchangeRequest): URLSearchParams {
  if (typeof request !== 'object' || request === null) throw new InvalidConfigError('tokenExchange needs a request');
  const subjectToken = optionalString(request.subjectToken, 'subjectToken');
  const subjectTokenType = optionalString(request.subjectTokenType, 'subjectTokenType');
  if (subjectToken === undefined || subjectTokenType === undefined) {
    throw new InvalidConfigError('tokenExchange needs subjectToken and subjectTokenType');
  }
  const actorToken = optionalString(request.actorToken, 'actorToken');
  const actorTokenType = optionalString(request.actorTokenType, 'actorTokenType');
  // §2.1: actor_token_type is REQUIRED with an actor_token and MUST NOT be there without one.
  if ((actorToken === undefined) !== (actorTokenType === undefined)) {
    throw new InvalidConfigError('tokenExchange actorToken and actorTokenType go together');
  }
  const resources = many(request.resource, 'resource');
  for (const resource of resources) {
    // RFC 8707 §2: an absolute URI without a fragment.
    if (!URL.canParse(resource) || resource.includes('#')) {
      throw new InvalidConfigError('tokenExchange resource must be an absolute URI without a fragment (RFC 8707 §2)');
    }
  }
  const body = new URLSearchParams();
  body.set('grant_type', TOKEN_EXCHANGE_GRANT);
  for (const audience of many(request.audience, 'audience')) body.append('audience', audience);
  for (const resource of resources) body.append('resource', resource);
  const scope = optionalString(request.scope, 'scope');
  if (scope !== undefined) body.set('scope', scope);
  const requested = optionalString(request.requestedTokenType, 'requestedTokenType');
  if (requested !== undefined) body.set('requested_token_type', requested);
  body.set('subject_token', subjectToken);
  body.set('subject_token_type', subjectTokenType);
  if (actorToken !== undefined && actorTokenType !== undefined) {
    body.set('actor_token', actorToken);
    body.set('actor_token_type', actorTokenType);
  }
  return body;
}

/** What the `tokenExchange` option of `oauth2Endpoint` takes: made by `tokenExchangeGrant()`. */
export interface TokenExchangeGrant {
  exchange(context: ExchangeContext, request: TokenExchangeRequest, options?: EndpointRequestOptions): Promise<TokenExchangeResponse>;
}

/**
 * R22: `oauth2Endpoint({ ..., tokenExchange: tokenExchangeGrant() })` gives the endpoint its
 * `tokenExchange(request)` (RFC 8693), which `manager.derive()` needs. A plug-in: an app that never
 * imports it does not bundle it (docs/decisions.md, "Optional features are plug-ins").
 */
export function tokenExchangeGrant(): TokenExchangeGrant {
  return { exchange: exchangeToken };
}

/**
 * Sends one exchange (RFC 8693 §2.1) and resolves to the checked response (§2.2.1). Errors are the
 * refresh grant's: `refresh_failed` for the network, 408, 429 and 5xx (retryable, `Retry-After` read),
 * the server's §5.2 code otherwise (`invalid_grant` for a subject token it refuses, `invalid_target`
 * for an audience it does not serve, ...), `invalid_token_response` for a 2xx that breaks §2.2.1.
 */
export async function exchangeToken(
  context: ExchangeContext,
  request: TokenExchangeRequest,
  { signal }: EndpointRequestOptions = {},
): Promise<TokenExchangeResponse> {
  signal?.throwIfAborted();
  const body = exchangeParameters(request);
  const headers = new Headers();
  const url = await context.tokenUrl(signal);
  const assertion = await applyClientAuth(context.client, body, headers, context.audiences);
  const sentAt = Date.now();
  const response = await sendOr(context.send, url, { method: 'POST', headers, body, ...(signal ? { signal } : {}) }, (error) =>
    new RefreshFailedError(`Token exchange failed: ${error.message}`, { cause: error }),
  );
  const secrets = context.known.with(request.subjectToken, request.actorToken, assertion);
  if (response.status < 200 || response.status >= 300) {
    const error = explainAssertionRefusal(tokenErrorFor(response, secrets), assertion);
    throw context.dpop ? explainDpopRefusal(error) : error;
  }
  const parsed = parseTokenBody(response);
  context.known.remember(parsed);
  const checked = checkExchangeResponse(parsed, sentAt, {
    dpop: context.dpop,
    ...(request.requestedTokenType === undefined ? {} : { requestedTokenType: request.requestedTokenType }),
  });
  if (!checked.ok) throw checked.error;
  return parsed as TokenExchangeResponse;
}
