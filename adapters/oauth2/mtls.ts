/**
 * Mutual-TLS client authentication and certificate-bound tokens (RFC 8705), the browser-safe half:
 * the type of what `oauth2Endpoint({ tls })` and the logins accept. Types only: the TLS connection
 * (node:crypto, an undici `Agent`), the `mtls_endpoint_aliases` lookup and the texts that explain a
 * refusal all come with the value `mtlsTransport()` makes in `token-lifecycle/adapters/oauth2/node`,
 * so none of it enters a browser bundle (R16, docs/decisions.md "mTLS transport").
 */

/** A `fetch` whose requests go over one client certificate's TLS identity. */
export type MtlsFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** The part of a typed error `explain` reads and extends. */
export interface ExplainableError {
  readonly code: string;
  readonly status?: number | undefined;
  message: string;
}

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
  /** RFC 8705 §5: the server's `mtls_endpoint_aliases` URL for `field`, if its metadata has one. */
  alias?(metadata: Readonly<Record<string, unknown>>, field: string): string | undefined;
  /**
   * Adds to a refusal's message what the server may have refused, when the certificate authenticated
   * the client (`authMethod` one of the TLS methods): servers answer a bare `invalid_client`.
   */
  explain?<E extends ExplainableError>(error: E, authMethod: string): E;
  /** Added to the message of a network failure: what a closed connection may mean. */
  readonly closedNote?: string;
}
