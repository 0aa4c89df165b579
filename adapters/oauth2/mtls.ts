/**
 * Mutual-TLS client authentication and certificate-bound tokens (RFC 8705), the browser-safe half:
 * what `oauth2Endpoint({ tls })` and the logins accept, and how a refusal is explained. The TLS
 * connection itself (node:crypto, an undici `Agent`) is made by `mtlsTransport()` in
 * `token-lifecycle/adapters/oauth2/node`, so nothing of it enters a browser bundle (R16).
 */
import { InvalidConfigError, type TokenLifecycleError } from '../../machines/lifecycle/errors.js';

/** A `fetch` whose requests go over one client certificate's TLS identity. */
export type MtlsFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * What `mtlsTransport({ cert, key, ca })` returns. Give the same value's `fetch` to `authFetch` /
 * `kyAuth`, so certificate-bound access tokens (`cnf.x5t#S256`) reach resource servers over the
 * certificate they are bound to (RFC 8705 §3).
 */
export interface MtlsTransport {
  readonly kind: 'mtls';
  /** `fetch` over the client certificate's TLS connection (keep-alive pooled). */
  readonly fetch: MtlsFetch;
  /** The certificate's SHA-256 thumbprint, base64url: what a bound token's `cnf.x5t#S256` holds. */
  readonly thumbprint: string;
  /** Closes the pooled connections. */
  close(): Promise<void>;
  /**
   * Added to the message of an `invalid_client` when the certificate authenticated the client: what
   * the server may have refused. Lives in the transport so the browser bundle does not carry it.
   */
  refusalNote?(method: TlsAuthMethod): string;
  /** Added to the message of a network failure: what a closed connection may mean. */
  readonly closedNote?: string;
}

export type TlsAuthMethod = 'tls_client_auth' | 'self_signed_tls_client_auth';

export function isTlsAuthMethod(method: string): method is TlsAuthMethod {
  return method === 'tls_client_auth' || method === 'self_signed_tls_client_auth';
}

/** The `tls` option must be made by `mtlsTransport()`: raw key material is refused (and never quoted). */
export function checkTls(value: unknown): MtlsTransport {
  const tls = value as Partial<MtlsTransport> | null;
  if (typeof tls === 'object' && tls !== null && tls.kind === 'mtls' && typeof tls.fetch === 'function') return tls as MtlsTransport;
  throw new InvalidConfigError("tls takes mtlsTransport({ cert, key, ca }) from 'token-lifecycle/adapters/oauth2/node'");
}

/** Adds the transport's note to a refusal of a client its certificate authenticated (servers hide why). */
export function explainTlsRefusal<E extends TokenLifecycleError>(error: E, method: string, tls: MtlsTransport | undefined): E {
  if (tls?.refusalNote && isTlsAuthMethod(method) && (error.code === 'invalid_client' || error.status === 401)) {
    error.message += tls.refusalNote(method);
  }
  return error;
}

/** The transport's note for a network failure under a client certificate, or nothing. */
export function tlsFailureHint(tls: MtlsTransport | undefined): string {
  return tls?.closedNote ?? '';
}

export type AliasedEndpoint = 'token_endpoint' | 'revocation_endpoint' | 'introspection_endpoint' | 'device_authorization_endpoint';

/**
 * RFC 8705 §5: a server may publish other URLs for clients that use mutual TLS
 * (`mtls_endpoint_aliases`); such a client uses them, and the plain metadata field otherwise.
 */
export function endpointOf(metadata: Readonly<Record<string, unknown>>, field: AliasedEndpoint, tls: MtlsTransport | undefined): unknown {
  const aliases = metadata.mtls_endpoint_aliases;
  if (tls && typeof aliases === 'object' && aliases !== null) {
    const alias = (aliases as Record<string, unknown>)[field];
    if (alias !== undefined) return alias;
  }
  return metadata[field];
}
