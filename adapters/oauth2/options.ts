import { InvalidConfigError } from '../../machines/lifecycle/errors.js';
import { parseDuration } from '../../machines/lifecycle/duration.js';
import type { Duration } from '../../machines/lifecycle/types.js';
import type { ClientAuthMethod, ClientCredentials } from './client-auth.js';
import type { ClientAssertion } from './client-assertion.js';
import type { DpopProver } from '../../machines/lifecycle/types.js';
import type { MtlsTransport } from './mtls.js';
import { requireSecureUrl } from './secure-url.js';
import type { KyLike } from './transport.js';
import type { TokenExchangeGrant } from './token-exchange.js';
import type { TokenIntrospection } from './token-introspection.js';

export type OAuth2Grant = 'refresh_token' | 'client_credentials';

/** Options of `oauth2Endpoint` (DESIGN §4, §5). */
export interface OAuth2EndpointOptions {
  /** Authorization server issuer: endpoints are discovered from it (RFC 8414, then OIDC Discovery). */
  issuer?: string;
  /** Token endpoint; wins over discovery. */
  tokenUrl?: string;
  /** Revocation endpoint (RFC 7009); wins over discovery. */
  revocationUrl?: string;
  clientId: string;
  clientSecret?: string;
  /**
   * Default: the `clientAssertion`'s method when one is given, else `client_secret_basic` when a
   * secret is given, else `tls_client_auth` with `tls`, else `none`. `tls_client_auth` /
   * `self_signed_tls_client_auth` (RFC 8705, Node) need `tls`.
   */
  authMethod?: ClientAuthMethod;
  /**
   * Client assertions (RFC 7523): `privateKeyJwt({ key, kid?, alg?, audience? })` signs a fresh one
   * per request with the client's private key, `clientSecretJwt()` with `clientSecret` (HS256).
   */
  clientAssertion?: ClientAssertion;
  /**
   * Node only: the client certificate's TLS connection, `mtlsTransport({ cert, key, ca })` from
   * `token-lifecycle/adapters/oauth2/node` (RFC 8705). Every request of this endpoint goes over it:
   * with `tls_client_auth` / `self_signed_tls_client_auth` it authenticates the client, with any
   * method it binds the tokens to the certificate (`cnf.x5t#S256`). Not with `fetch` or `ky`.
   */
  tls?: MtlsTransport;
  /** Default `refresh_token`; `client_credentials` renews without a refresh token (R8). */
  grant?: OAuth2Grant;
  scope?: string;
  /** Resource indicator(s), RFC 8707. */
  resource?: string | string[];
  /** More body parameters for the token request (not those set by the options above). */
  extraParams?: Record<string, string>;
  /** Per request (default 10s). */
  timeout?: Duration;
  /** A custom `fetch` (proxies, custom CAs, tests). */
  fetch?: typeof fetch;
  /**
   * Sender-constrained tokens (RFC 9449, R20): `createDpopProver({ keyPair })`; every token request
   * carries a proof signed with its key.
   */
  dpop?: DpopProver;
  /**
   * Send the token, discovery and revocation requests through your ky instance (its hooks, proxies and
   * logging then see them) instead of plain `fetch`. Its retries, timeout and `throwHttpErrors` are
   * turned off for these calls: this endpoint's own `timeout`, limits and checks apply.
   */
  ky?: KyLike;
  /** Largest response body read, in bytes (default 1 MiB): a larger one is refused, read no further. */
  maxResponseBytes?: number;
  /**
   * R22: `tokenExchangeGrant()` gives the endpoint its `tokenExchange()` (RFC 8693), which
   * `manager.derive()` uses. A plug-in, so an app without it does not bundle it.
   */
  tokenExchange?: TokenExchangeGrant;
  /** RFC 7662: `tokenIntrospection({ introspectionUrl? })` gives the endpoint its `introspect()`. */
  introspection?: TokenIntrospection;
}

export interface NormalizedOptions {
  readonly issuer?: string;
  readonly issuerUrl?: URL;
  readonly tokenUrl?: URL;
  readonly revocationUrl?: URL;
  readonly client: ClientCredentials;
  readonly grant: OAuth2Grant;
  /** Parameters every token request carries besides grant_type, the refresh token and client auth. */
  readonly grantParams: ReadonlyArray<readonly [string, string]>;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly fetch?: typeof fetch;
  readonly dpop?: DpopProver;
  readonly ky?: KyLike;
  /** Requests go over this client certificate (RFC 8705): the server's `mtls_endpoint_aliases` apply. */
  readonly tls?: MtlsTransport;
  readonly tokenExchange?: TokenExchangeGrant;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
/** setTimeout's limit. */
const MAX_TIMEOUT_MS = 2_147_483_647;
/** Set by the adapter itself: `extraParams` may not override them. */
const RESERVED_PARAMS = new Set([
  'grant_type', 'refresh_token', 'client_id', 'client_secret', 'client_assertion', 'client_assertion_type', 'scope', 'resource',
]);
const AUTH_METHODS: readonly ClientAuthMethod[] = [
  'client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth', 'none',
];

/** Validates and normalises the options once, at construction; configuration wrong on its face throws. */
export function normalizeOptions(options: OAuth2EndpointOptions): NormalizedOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidConfigError('oauth2Endpoint needs options');
  const { issuer, tokenUrl, revocationUrl, clientId, clientSecret } = options;
  if (typeof clientId !== 'string' || clientId === '') throw new InvalidConfigError('clientId is required');
  if (!issuer && !tokenUrl) throw new InvalidConfigError('oauth2Endpoint needs issuer or tokenUrl');
  if (clientSecret !== undefined && (typeof clientSecret !== 'string' || clientSecret === '')) {
    throw new InvalidConfigError('clientSecret must be a non-empty string');
  }

  const authMethod = options.authMethod ?? defaultAuthMethod(options);
  if (!AUTH_METHODS.includes(authMethod)) throw new InvalidConfigError(`authMethod ${String(authMethod)} is not supported`);
  const client = clientCredentials(options, authMethod);

  const grant = options.grant ?? 'refresh_token';
  if (grant !== 'refresh_token' && grant !== 'client_credentials') {
    throw new InvalidConfigError(`grant ${String(grant)} is not supported`);
  }
  // RFC 6749 §4.4: the client credentials grant is for confidential clients only.
  if (grant === 'client_credentials' && authMethod === 'none') {
    throw new InvalidConfigError('grant client_credentials needs a confidential client (a clientSecret or clientAssertion)');
  }

  const timeoutMs = options.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(options.timeout, 'timeout');
  if (timeoutMs <= 0 || timeoutMs > MAX_TIMEOUT_MS) {
    throw new InvalidConfigError(`timeout must be between 1 ms and ${MAX_TIMEOUT_MS} ms`);
  }
  if (options.fetch !== undefined && typeof options.fetch !== 'function') {
    throw new InvalidConfigError('fetch must be a function');
  }
  if (options.ky !== undefined && typeof options.ky !== 'function') {
    throw new InvalidConfigError('ky must be a ky instance (a function)');
  }
  if (options.ky !== undefined && options.fetch !== undefined) {
    throw new InvalidConfigError('give ky or fetch, not both (pass your fetch to ky)');
  }
  const { dpop } = options;
  if (dpop !== undefined && (typeof dpop?.proof !== 'function' || typeof dpop.rememberNonce !== 'function')) {
    throw new InvalidConfigError('dpop takes createDpopProver({ keyPair })');
  }
  const { tls } = options;
  // Not the value in the message: raw `{ cert, key }` holds a private key.
  if (tls !== undefined && (tls?.kind !== 'mtls' || options.fetch || options.ky)) {
    throw new InvalidConfigError('tls takes mtlsTransport() (adapters/oauth2/node), and no fetch or ky');
  }
  const { tokenExchange } = options;
  if (tokenExchange !== undefined && typeof tokenExchange?.exchange !== 'function') {
    throw new InvalidConfigError('tokenExchange takes tokenExchangeGrant()');
  }
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  if (!Number.isSafeInteger(maxResponseBytes) || maxResponseBytes <= 0) {
    throw new InvalidConfigError('maxResponseBytes must be a positive whole number of bytes');
  }

  return {
    ...(issuer ? { issuer, issuerUrl: issuerUrl(issuer) } : {}),
    ...(tokenUrl ? { tokenUrl: requireSecureUrl(tokenUrl, 'tokenUrl') } : {}),
    ...(revocationUrl ? { revocationUrl: requireSecureUrl(revocationUrl, 'revocationUrl') } : {}),
    client,
    grant,
    grantParams: grantParams(options),
    timeoutMs,
    maxResponseBytes,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(tls ? { fetch: tls.fetch, tls } : {}),
    ...(dpop !== undefined ? { dpop } : {}),
    ...(options.ky ? { ky: options.ky } : {}),
    ...(tokenExchange !== undefined ? { tokenExchange } : {}),
  };
}

function defaultAuthMethod(options: OAuth2EndpointOptions): ClientAuthMethod {
  const fromAssertion = options.clientAssertion?.authMethod;
  if (fromAssertion !== undefined) return fromAssertion;
  if (options.clientSecret) return 'client_secret_basic';
  return options.tls !== undefined ? 'tls_client_auth' : 'none';
}

/** Each method takes exactly what it uses: a secret, a signing key, or neither. */
function clientCredentials(options: OAuth2EndpointOptions, authMethod: ClientAuthMethod): ClientCredentials {
  const { clientId, clientSecret, clientAssertion } = options;
  if (clientAssertion !== undefined && typeof clientAssertion?.signer !== 'function') {
    throw new InvalidConfigError('clientAssertion takes privateKeyJwt({ key }) or clientSecretJwt()');
  }
  if (authMethod === 'private_key_jwt' || authMethod === 'client_secret_jwt') {
    if (clientAssertion?.authMethod !== authMethod) {
      throw new InvalidConfigError(`authMethod ${authMethod} needs clientAssertion: ${authMethod === 'private_key_jwt' ? 'privateKeyJwt({ key })' : 'clientSecretJwt()'}`);
    }
    const secretJwt = authMethod === 'client_secret_jwt';
    if (secretJwt !== Boolean(clientSecret)) throw new InvalidConfigError(`authMethod ${authMethod} ${secretJwt ? 'needs' : 'takes no'} clientSecret`);
    const assertion = clientAssertion.signer(clientId, clientSecret);
    if (assertion.audience === 'issuer' && !options.issuer) {
      throw new InvalidConfigError('clientAssertion.audience issuer needs the issuer option');
    }
    return { clientId, ...(secretJwt ? { clientSecret } : {}), authMethod, assertion };
  }
  if (clientAssertion !== undefined) throw new InvalidConfigError(`authMethod ${authMethod} takes no clientAssertion`);
  if (authMethod.includes('tls')) {
    // RFC 8705 §2: the certificate authenticates; client_id goes in the body.
    if (!options.tls || clientSecret !== undefined) throw new InvalidConfigError(`authMethod ${authMethod} takes tls, no clientSecret`);
    return { clientId, authMethod };
  }
  if (authMethod === 'none') {
    if (clientSecret) throw new InvalidConfigError('authMethod none takes no clientSecret');
    return { clientId, authMethod };
  }
  if (!clientSecret) throw new InvalidConfigError(`authMethod ${authMethod} needs clientSecret`);
  return { clientId, clientSecret, authMethod };
}

/** RFC 8414 §2: the issuer is an https URL with no query or fragment. */
function issuerUrl(issuer: string): URL {
  const url = requireSecureUrl(issuer, 'issuer');
  if (url.search || url.hash || issuer.includes('#')) {
    throw new InvalidConfigError('issuer must not have a query or fragment (RFC 8414 §2)');
  }
  return url;
}

function grantParams(options: OAuth2EndpointOptions): Array<[string, string]> {
  const params: Array<[string, string]> = [];
  if (options.scope !== undefined) {
    if (typeof options.scope !== 'string') throw new InvalidConfigError('scope must be a string');
    params.push(['scope', options.scope]);
  }
  const resources = options.resource === undefined ? [] : [options.resource].flat();
  for (const resource of resources) {
    // RFC 8707 §2: an absolute URI without a fragment.
    if (typeof resource !== 'string' || !URL.canParse(resource) || resource.includes('#')) {
      throw new InvalidConfigError('resource must be an absolute URI without a fragment (RFC 8707 §2)');
    }
    params.push(['resource', resource]);
  }
  for (const [name, value] of Object.entries(options.extraParams ?? {})) {
    if (RESERVED_PARAMS.has(name)) throw new InvalidConfigError(`extraParams may not set ${name}: the adapter sets it`);
    if (typeof value !== 'string') throw new InvalidConfigError(`extraParams.${name} must be a string`);
    params.push([name, value]);
  }
  return params;
}
