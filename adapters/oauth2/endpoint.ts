import {
  InvalidConfigError,
  RefreshFailedError,
  RefreshTokenMissingError,
  RevocationFailedError,
  TokenLifecycleError,
} from '../../machines/lifecycle/errors.js';
import type { EndpointRequestOptions, RefreshRequestOptions, RevokeOptions, TokenEndpoint, TokenExchangeRequest } from '../../machines/lifecycle/types.js';
import { explainAssertionRefusal } from './client-assertion-errors.js';
import { applyClientAuth, type AssertionAudiences } from './client-auth.js';
import { discover, lazyDiscovery, type ServerMetadata } from './discovery.js';
import { dpopSend, explainDpopRefusal } from './dpop-send.js';
import { describeError, isTransientStatus, readOAuthError, retryAfterOf, tokenErrorFor } from './error-response.js';
import { knownSecrets, type KnownSecrets } from './known-secrets.js';
import type { MtlsTransport } from './mtls.js';
import type { TokenExchangeGrant, TokenExchangeResponse } from './token-exchange.js';
import type { IntrospectionResult, IntrospectOptions, TokenIntrospection } from './token-introspection.js';
import { normalizeOptions, type NormalizedOptions, type OAuth2EndpointOptions } from './options.js';
import { discoveredUrl } from './secure-url.js';
import { ResponseTooLargeError } from './read-body.js';
import { parseTokenBody, sendOr } from './token-request.js';
import { createTransport, TransportError, type RawResponse } from './transport.js';

/** The built-in token endpoint: always has `revoke`. */
export interface OAuth2Endpoint extends TokenEndpoint {
  readonly canRenewWithoutRefreshToken: boolean;
  refresh(refreshToken: string | undefined, options?: RefreshRequestOptions): Promise<unknown>;
  revoke(token: string, options?: RevokeOptions): Promise<void>;
  /** R22: RFC 8693 token exchange, with `tokenExchange: tokenExchangeGrant()`; resolves to the checked response. */
  tokenExchange?(request: TokenExchangeRequest, options?: EndpointRequestOptions): Promise<TokenExchangeResponse>;
}

/** `oauth2Endpoint({ ..., tokenExchange: tokenExchangeGrant() })`: `tokenExchange` is there (R22). */
export interface OAuth2ExchangeEndpoint extends OAuth2Endpoint {
  tokenExchange(request: TokenExchangeRequest, options?: EndpointRequestOptions): Promise<TokenExchangeResponse>;
}

/** `oauth2Endpoint({ ..., introspection: tokenIntrospection() })`: `introspect` is there (RFC 7662). */
export interface OAuth2IntrospectionEndpoint extends OAuth2Endpoint {
  /** RFC 7662: what the server says about `token`, checked (§2.2); authenticated as the token requests are. */
  introspect(token: string, options?: IntrospectOptions): Promise<IntrospectionResult>;
}

/**
 * A `TokenEndpoint` over `fetch` (or your ky instance) (DESIGN §5): the refresh_token (RFC 6749 §6) or client_credentials
 * (§4.4) grant, client authentication (§2.3), §5.2 error mapping, discovery from `issuer`
 * (RFC 8414 / OIDC, lazy and cached) and revocation (RFC 7009). Options are checked here, once:
 * configuration wrong on its face throws `invalid_config` or `insecure_endpoint` now.
 */
export function oauth2Endpoint(
  options: OAuth2EndpointOptions & { tokenExchange: TokenExchangeGrant; introspection: TokenIntrospection },
): OAuth2ExchangeEndpoint & OAuth2IntrospectionEndpoint;
export function oauth2Endpoint(options: OAuth2EndpointOptions & { tokenExchange: TokenExchangeGrant }): OAuth2ExchangeEndpoint;
export function oauth2Endpoint(options: OAuth2EndpointOptions & { introspection: TokenIntrospection }): OAuth2IntrospectionEndpoint;
export function oauth2Endpoint(options: OAuth2EndpointOptions): OAuth2Endpoint;
export function oauth2Endpoint(options: OAuth2EndpointOptions): OAuth2Endpoint {
  const config = normalizeOptions(options);
  const send = createTransport(config);
  // R20: with a DPoP key, token requests carry a proof (and follow a DPoP-Nonce once).
  const tokenSend = config.dpop ? dpopSend(send, config.dpop) : send;
  const metadata = config.issuer !== undefined && config.issuerUrl !== undefined
    ? lazyDiscovery(discover.bind(undefined, send, config.issuer, config.issuerUrl))
    : undefined;
  // What servers may echo back, redacted from everything we emit (R13).
  const known = knownSecrets(config.client);
  // RFC 7523: an assertion names the server as its audience, for revocation too.
  const audiences: AssertionAudiences = {
    tokenEndpoint: () => tokenEndpointUrl(config, metadata),
    ...(config.issuer !== undefined ? { issuer: config.issuer } : {}),
  };

  return {
    canRenewWithoutRefreshToken: config.grant === 'client_credentials',
    ...(config.dpop ? { dpop: config.dpop } : {}),

    async refresh(refreshToken, { signal, lateAnswer } = {}) {
      signal?.throwIfAborted();
      const body = new URLSearchParams();
      if (config.grant === 'refresh_token') {
        // R8: without a refresh token nothing is sent.
        if (!refreshToken) throw new RefreshTokenMissingError();
        body.set('grant_type', 'refresh_token');
        body.set('refresh_token', refreshToken);
      } else {
        body.set('grant_type', 'client_credentials');
      }
      for (const [name, value] of config.grantParams) body.append(name, value);
      const headers = new Headers();
      // A configured tokenUrl is used as is (no discovery, no await).
      const url = config.tokenUrl ?? (await tokenEndpointUrl(config, metadata, signal));
      const assertion = await applyClientAuth(config.client, body, headers, audiences);

      // R4: a timed-out refresh is kept for its answer, whose 2xx body goes to the manager as ours would.
      const keepLate = lateAnswer && ((answer: Promise<RawResponse | undefined>) => lateAnswer(answer.then((late) => lateTokenBody(late, known))));
      const response = await sendOr(tokenSend, url, { method: 'POST', headers, body, signal, ...(keepLate && { keepLate }) }, (error) =>
        new RefreshFailedError(`Token request failed: ${error.message}${config.tls?.closedNote ?? ''}`, { cause: error }),
      );
      if (response.status >= 200 && response.status < 300) {
        const parsed = parseTokenBody(response);
        known.remember(parsed);
        return parsed;
      }
      const error = explainAssertionRefusal(tokenErrorFor(response, known.with(refreshToken, assertion)), assertion);
      config.tls?.explain?.(error, config.client.authMethod);
      throw config.dpop ? explainDpopRefusal(error) : error;
    },

    // R22: only with the plug-in (token-exchange.ts), which lends itself the endpoint's parts.
    ...(config.tokenExchange
      ? {
          tokenExchange: config.tokenExchange.exchange.bind(undefined, {
            send: tokenSend,
            tokenUrl: (signal?: AbortSignal) => tokenEndpointUrl(config, metadata, signal),
            client: config.client,
            audiences,
            known,
            dpop: config.dpop !== undefined,
          }),
        }
      : {}),

    // RFC 7662: only with the plug-in (token-introspection.ts), authenticated as revocation is.
    ...(options.introspection && {
      introspect: options.introspection.introspect.bind(undefined, { send, metadata, config, audiences, known }),
    }),

    async revoke(token, { hint, signal } = {}) {
      signal?.throwIfAborted();
      let response: RawResponse;
      let assertion: string | undefined;
      try {
        if (!token) throw new RevocationFailedError('No token to revoke');
        const url = await revocationEndpointUrl(config, metadata, signal);
        // RFC 7009 §2.1: `token`, an optional `token_type_hint`, and the client's authentication.
        const body = new URLSearchParams({ token });
        if (hint) body.set('token_type_hint', hint);
        const headers = new Headers();
        assertion = await applyClientAuth(config.client, body, headers, audiences);
        response = await send(url, { method: 'POST', headers, body, ...(signal ? { signal } : {}) });
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        throw asRevocationError(error, config.tls);
      }
      // RFC 7009 §2.2: 200 also for a token the server did not know. Any 2xx counts (some answer 204).
      if (response.status >= 200 && response.status < 300) return;
      const error = explainAssertionRefusal(revocationErrorFor(response, known.with(token, assertion)), assertion);
      config.tls?.explain?.(error, config.client.authMethod);
      throw error;
    },
  };
}

type Metadata = ((signal?: AbortSignal) => Promise<ServerMetadata>) | undefined;

/** An explicit `tokenUrl` wins; otherwise discovery (made on this first need, then cached). */
async function tokenEndpointUrl(config: NormalizedOptions, metadata: Metadata, signal?: AbortSignal): Promise<URL> {
  if (config.tokenUrl) return config.tokenUrl;
  if (!metadata) throw new InvalidConfigError('oauth2Endpoint needs issuer or tokenUrl');
  const found = await metadata(signal);
  return discoveredUrl(config.tls?.alias?.(found, 'token_endpoint') ?? found.token_endpoint, 'token_endpoint');
}

async function revocationEndpointUrl(config: NormalizedOptions, metadata: Metadata, signal?: AbortSignal): Promise<URL> {
  if (config.revocationUrl) return config.revocationUrl;
  const found = await metadata?.(signal);
  const discovered = found && (config.tls?.alias?.(found, 'revocation_endpoint') ?? found.revocation_endpoint);
  if (!discovered) {
    throw new RevocationFailedError('No revocation endpoint is known: set revocationUrl, or an issuer that has one');
  }
  return discoveredUrl(discovered, 'revocation_endpoint');
}

function asRevocationError(error: unknown, tls: MtlsTransport | undefined): RevocationFailedError {
  if (error instanceof RevocationFailedError) return error;
  const retryable =
    error instanceof TransportError ||
    error instanceof ResponseTooLargeError ||
    (error instanceof TokenLifecycleError && error.retryable);
  const reason = (error instanceof Error ? error.message : 'unknown error') + (error instanceof TransportError ? (tls?.closedNote ?? '') : '');
  return new RevocationFailedError(`Token revocation failed: ${reason}`, { cause: error, retryable });
}

function revocationErrorFor(response: RawResponse, secrets: ReadonlyArray<string | undefined>): RevocationFailedError {
  const { status } = response;
  const body = readOAuthError(response.text, secrets);
  const retryAfter = retryAfterOf(response);
  const description = describeError(body);
  return new RevocationFailedError(`Token revocation failed (HTTP ${status}${body?.error ? ` ${body.error}` : ''})`, {
    status,
    retryable: isTransientStatus(status),
    ...(retryAfter === undefined ? {} : { retryAfter }),
    ...(description === undefined ? {} : { description }),
  });
}

/** A late answer's body, as `refresh` would have resolved it; nothing for anything but a JSON 2xx. */
function lateTokenBody(late: RawResponse | undefined, known: KnownSecrets): unknown {
  if (!late || late.status < 200 || late.status >= 300) return undefined;
  try {
    const parsed = parseTokenBody(late);
    known.remember(parsed);
    return parsed;
  } catch {
    return undefined;
  }
}
