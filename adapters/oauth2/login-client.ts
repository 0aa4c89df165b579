/**
 * What the interactive logins (device, loopback, redirect) share: the client's configuration checked
 * as `oauth2Endpoint` checks it, discovery of the endpoint they need, and the token request of a grant
 * (client authentication, DPoP, RFC 6749 §5.2 errors as typed errors). Browser-safe (R16).
 */
import {
  asLoginError,
  InvalidConfigError,
  InvalidTokenResponseError,
  LoginFailedError,
  RefreshFailedError,
  type TokenLifecycleError,
} from '../../machines/lifecycle/errors.js';
import type { Duration } from '../../machines/lifecycle/types.js';
import { applyClientAuth, type ClientAuthMethod } from './client-auth.js';
import type { ClientAssertion } from './client-assertion.js';
import { explainAssertionRefusal } from './client-assertion-errors.js';
import type { MtlsTransport } from './mtls.js';
import { discover, lazyDiscovery, type ServerMetadata } from './discovery.js';
import { dpopSend, explainDpopRefusal } from './dpop-send.js';
import type { DpopProver } from '../../machines/lifecycle/types.js';
import { tokenErrorFor } from './error-response.js';
import { normalizeOptions, type NormalizedOptions } from './options.js';
import { discoveredUrl, requireSecureUrl } from './secure-url.js';
import { createTransport, TransportError, type RawResponse, type Send } from './transport.js';

/** Options every login takes. */
export interface LoginClientOptions {
  /** Authorization server issuer: the endpoints are discovered from it (RFC 8414, then OIDC). */
  issuer?: string;
  /** Token endpoint; wins over discovery. */
  tokenUrl?: string;
  clientId: string;
  clientSecret?: string;
  /**
   * As `oauth2Endpoint`'s (docs/oauth2.md, "Client authentication"): default the `clientAssertion`'s
   * method, else `client_secret_basic` with a secret, else `tls_client_auth` with `tls`, else `none`.
   */
  authMethod?: ClientAuthMethod;
  /** As for `oauth2Endpoint`: `privateKeyJwt({ key })` or `clientSecretJwt()` (RFC 7523). */
  clientAssertion?: ClientAssertion;
  /**
   * Node only: `mtlsTransport({ cert, key, ca })` (RFC 8705). The login's requests go over the client
   * certificate: it authenticates the client (`tls_client_auth`) and binds the tokens to it.
   */
  tls?: MtlsTransport;
  /** Space-separated scopes to ask for (e.g. `openid offline_access`). */
  scope?: string;
  /** Per request (default 10s). */
  timeout?: Duration;
  fetch?: typeof fetch;
  /**
   * Bind the tokens to a DPoP key (RFC 9449): `createDpopProver({ keyPair })`; give the same prover
   * to `oauth2Endpoint({ dpop })`.
   */
  dpop?: DpopProver;
  /** Aborts the login: it rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** The raw token endpoint response (RFC 6749 §5.1): what `setToken` accepts as is. */
export type LoginTokenResponse = Record<string, unknown>;

/** A response, and the client assertion its request carried (never to appear in an error). */
export interface Sent {
  readonly response: RawResponse;
  readonly assertion?: string | undefined;
}

export type MetadataField = 'authorization_endpoint' | 'device_authorization_endpoint';

export interface LoginClient {
  readonly config: NormalizedOptions;
  /** An endpoint URL: the explicit one, else discovered (`field` names it in errors). */
  endpointUrl(field: MetadataField, explicit: string | undefined, signal?: AbortSignal): Promise<URL>;
  /** A form POST with the client's authentication (no DPoP): device authorization requests. */
  postForm(url: URL, params: URLSearchParams, signal?: AbortSignal): Promise<Sent>;
  /** Adds to a refusal's message what the server may have refused in the client's authentication. */
  explainRefusal<E extends TokenLifecycleError>(error: E, assertion: string | undefined): E;
  /** A token request for `params` (grant_type and its parameters); resolves to the 2xx JSON object. */
  requestToken(params: URLSearchParams, signal?: AbortSignal): Promise<LoginTokenResponse>;
}

export function loginClient(options: LoginClientOptions): LoginClient {
  if (typeof options !== 'object' || options === null) throw new InvalidConfigError('a login needs options');
  const config = normalizeOptions({
    clientId: options.clientId,
    ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
    ...(options.tokenUrl !== undefined ? { tokenUrl: options.tokenUrl } : {}),
    ...(options.clientSecret !== undefined ? { clientSecret: options.clientSecret } : {}),
    ...(options.authMethod !== undefined ? { authMethod: options.authMethod } : {}),
    ...(options.clientAssertion !== undefined ? { clientAssertion: options.clientAssertion } : {}),
    ...(options.tls !== undefined ? { tls: options.tls } : {}),
    ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
    ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
    ...(options.dpop !== undefined ? { dpop: options.dpop } : {}),
  });
  if (options.scope !== undefined && typeof options.scope !== 'string') throw new InvalidConfigError('scope must be a string');
  const send = createTransport(config);
  const tokenSend = config.dpop ? dpopSend(send, config.dpop) : send;
  const metadata =
    config.issuer !== undefined && config.issuerUrl !== undefined
      ? lazyDiscovery(discover.bind(undefined, send, config.issuer, config.issuerUrl))
      : undefined;

  async function discovered(signal?: AbortSignal): Promise<ServerMetadata> {
    if (!metadata) throw new InvalidConfigError('a login needs an issuer (or the endpoint URLs)');
    return metadata(signal);
  }

  async function endpointUrl(field: MetadataField, explicit: string | undefined, signal?: AbortSignal): Promise<URL> {
    if (explicit !== undefined) return requireSecureUrl(explicit, field);
    // The browser visits the authorization endpoint: only the client's own requests use mTLS aliases.
    const metadata = await discovered(signal);
    const value = (field !== 'authorization_endpoint' && config.tls?.alias?.(metadata, field)) || metadata[field];
    if (typeof value !== 'string' || value === '') {
      throw new LoginFailedError(`the authorization server has no ${field} (its metadata does not list one)`);
    }
    return discoveredUrl(value, field);
  }

  async function tokenUrl(signal?: AbortSignal): Promise<URL> {
    if (config.tokenUrl) return config.tokenUrl;
    const found = await discovered(signal);
    return discoveredUrl(config.tls?.alias?.(found, 'token_endpoint') ?? found.token_endpoint, 'token_endpoint');
  }

  /** Resolves to the response and the client assertion it carried, if any (to keep it out of errors). */
  async function post(via: Send, url: URL, params: URLSearchParams, signal?: AbortSignal): Promise<Sent> {
    const body = new URLSearchParams(params);
    const headers = new Headers();
    const assertion = await applyClientAuth(config.client, body, headers, { tokenEndpoint: tokenUrl, ...(config.issuer !== undefined ? { issuer: config.issuer } : {}) });
    try {
      return { response: await via(url, { method: 'POST', headers, body, ...(signal ? { signal } : {}) }), assertion };
    } catch (error) {
      if (error instanceof TransportError) {
        throw new RefreshFailedError(`Request to ${url.origin} failed: ${error.message}${(config.tls?.closedNote ?? '')}`, { cause: error });
      }
      throw error;
    }
  }

  const explainRefusal = <E extends TokenLifecycleError>(error: E, assertion: string | undefined): E => {
    explainAssertionRefusal(error, assertion);
    config.tls?.explain?.(error, config.client.authMethod);
    return error;
  };

  return {
    config,
    endpointUrl,
    explainRefusal,
    postForm: (url, params, signal) => post(send, url, params, signal),
    async requestToken(params, signal) {
      const url = await tokenUrl(signal);
      const { response, assertion } = await post(tokenSend, url, params, signal);
      const secrets = [config.client.clientSecret, assertion, ...secretParams(params)];
      if (response.status < 200 || response.status >= 300) {
        const error = explainRefusal(asLoginError(tokenErrorFor(response, secrets)), assertion);
        throw config.dpop ? explainDpopRefusal(error) : error;
      }
      return jsonObject(response);
    },
  };
}

/** Values a grant sends that must never appear in an error (codes, verifiers, device codes). */
function secretParams(params: URLSearchParams): string[] {
  return ['code', 'code_verifier', 'device_code', 'refresh_token'].flatMap((name) => params.getAll(name));
}

/** A 2xx body that must be a JSON object (RFC 6749 §5.1, RFC 8628 §3.2). */
export function jsonObject(response: RawResponse): LoginTokenResponse {
  let body: unknown;
  try {
    body = JSON.parse(response.text);
  } catch {
    throw new InvalidTokenResponseError(`the body is not JSON (HTTP ${response.status})`, { status: response.status, retryable: false });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidTokenResponseError('the body is not a JSON object', { status: response.status, retryable: false });
  }
  return body as LoginTokenResponse;
}
