/**
 * Public types of token-lifecycle (DESIGN §4–§5). Pure declarations: no I/O here.
 */

/** Milliseconds, or a string `<number><unit>` with unit ms|s|m|h|d (`90s`, `1.5m`); a bare numeric string is ms. */
export type Duration = number | string;

/** What `getToken` resolves to. `expiresAt` is epoch milliseconds; absent means unknown expiry. */
export interface TokenSet {
  readonly accessToken: string;
  readonly tokenType: string;
  readonly expiresAt?: number;
  readonly refreshToken?: string;
  readonly scope?: string;
  readonly idToken?: string;
}

/** A token endpoint response as the server sends it (RFC 6749 §5.1). Validated by the manager (R12). */
export interface TokenResponse {
  readonly access_token?: unknown;
  readonly token_type?: unknown;
  readonly expires_in?: unknown;
  readonly refresh_token?: unknown;
  readonly scope?: unknown;
  readonly id_token?: unknown;
  readonly [parameter: string]: unknown;
}

/** The record a `TokenStorage` keeps per credential key (DESIGN §5). */
export interface TokenRecord {
  accessToken: string;
  tokenType: string;
  /** Epoch ms; absent = unknown expiry. */
  expiresAt?: number;
  /** Epoch ms at which the token request was sent: with `expiresAt` it gives the lifetime (R1). */
  obtainedAt: number;
  refreshToken?: string;
  scope?: string;
  idToken?: string;
  /** Error code with which the server rejected the refresh token (R6, R14): never re-sent. */
  rejection?: string;
  /** Epoch ms before which no retry may be sent (backoff, `Retry-After`; R5, R14). */
  retryAt?: number;
  /**
   * A lock holder (`by`, a manager instance) began a refresh at `since` whose result is not stored
   * yet. Another instance does not send the same refresh token while this stands and its own token is
   * still valid: the holder may hold the rotated one, unwritten (R4 across a fleet).
   */
  refreshing?: { by: string; since: number };
  /** Grows by one on every write of this key; `expectedVersion` compares against it. */
  version: number;
}

export interface StorageSetOptions {
  /** Refuse the write with `storage_conflict` unless the stored version equals this; 0 = must not exist. */
  expectedVersion?: number;
  /**
   * The `fence` of the lock the writer holds: the write is refused with `storage_conflict` when a
   * newer lock has been taken on the key since this fence (a paused, stale holder cannot overwrite a
   * newer rotated token). Stores without cross-process locks may ignore it.
   */
  fence?: number;
}

/** A held lock on one key (DESIGN §5). */
export interface StorageLock {
  release(): Promise<void>;
  /**
   * Sets the lock's expiry to now + `ms`, shorter or longer than what is left (the manager shortens
   * the locks of refreshes still in flight at stop()); resolves false when the lock was lost.
   */
  extend(ms: number): Promise<boolean>;
  /** Grows with every lock taken on the key: a fencing token for writes. */
  readonly fence: number;
}

export type StorageChangeListener = (key: string) => void;

/**
 * What a store could or could not get from its platform (e.g. a browser without Web Locks), as
 * `name: value` pairs; the manager shows them in `status(key).storage`.
 */
export type StorageCapabilities = Readonly<Record<string, string | boolean>>;

/** Where token records live. Implementations: memory (core), file, redis, web. */
export interface TokenStorage {
  get(key: string): Promise<TokenRecord | undefined>;
  set(key: string, record: TokenRecord, options?: StorageSetOptions): Promise<void>;
  delete(key: string): Promise<void>;
  keys?(): Promise<string[]>;
  /** Resolves to the lock, or null when another holder has it. */
  lock?(key: string, ttlMs: number): Promise<StorageLock | null>;
  /** Changes made by other processes; returns an unsubscribe function. */
  subscribe?(listener: StorageChangeListener): () => void;
  close?(): Promise<void>;
  /** Optional: what the store runs on (webStorage: lock and change-feed kinds). */
  readonly capabilities?: StorageCapabilities;
}

export interface EndpointRequestOptions {
  signal?: AbortSignal;
}

/** `refresh`'s options. */
export interface RefreshRequestOptions extends EndpointRequestOptions {
  /**
   * R4: called when a refresh times out before its answer came, with the promise of that late answer
   * (what `refresh` would have resolved to, or `undefined` if none comes): the server may have
   * rotated the refresh token, and then holds the new one only there. The manager adopts it before it
   * sends the same refresh token again (after its `stop()`, it writes it). An endpoint that cannot
   * keep a request may ignore it.
   */
  lateAnswer?: (answer: Promise<unknown>) => void;
}

export type TokenTypeHint = 'refresh_token' | 'access_token';

export interface RevokeOptions extends EndpointRequestOptions {
  hint?: TokenTypeHint;
}

/**
 * The token endpoint port (DESIGN §5). `refresh` resolves to the raw response, which the manager
 * validates (R12). A transient failure is reported by throwing an error with `retryable: true`
 * (and optional `retryAfter` in ms).
 */
export interface TokenEndpoint {
  refresh(refreshToken: string | undefined, options?: RefreshRequestOptions): Promise<unknown>;
  /** True when the endpoint renews without a refresh token (`client_credentials`, R8). */
  readonly canRenewWithoutRefreshToken?: boolean;
  revoke?(token: string, options?: RevokeOptions): Promise<void>;
  /**
   * R20: present when the endpoint binds tokens to a DPoP key (RFC 9449). The manager then accepts
   * `token_type: DPoP`, and the HTTP adapters sign a proof per request with it.
   */
  readonly dpop?: DpopProver;
  /**
   * R22: RFC 8693 token exchange. Resolves to the raw response (the manager checks it with
   * `checkExchangeResponse`, `issued_token_type` included). Needed by `manager.derive()`.
   */
  tokenExchange?(request: TokenExchangeRequest, options?: EndpointRequestOptions): Promise<unknown>;
}

/** An RFC 8693 §2.1 token exchange request (token type identifiers: RFC 8693 §3, `TOKEN_TYPES`). */
export interface TokenExchangeRequest {
  /** The token that represents the party on whose behalf the request is made. */
  readonly subjectToken: string;
  readonly subjectTokenType: string;
  /** Logical name(s) of the target service (sent as one `audience` parameter each). */
  readonly audience?: string | readonly string[];
  /** Absolute URI(s) of the target resource (RFC 8707; one `resource` parameter each). */
  readonly resource?: string | readonly string[];
  readonly scope?: string;
  /** The type of token wanted; the response's `issued_token_type` must then be this one. */
  readonly requestedTokenType?: string;
  /** Delegation (RFC 8693 §1.1): the acting party's token; needs `actorTokenType`. */
  readonly actorToken?: string;
  readonly actorTokenType?: string;
}

export interface DpopProofOptions {
  /** The access token the request carries: its hash goes in the proof's `ath` (RFC 9449 §4.2). */
  accessToken?: string;
}

/** Signs DPoP proofs (RFC 9449) with one key pair. Holds the last `DPoP-Nonce` each server gave. */
export interface DpopProver {
  /** A fresh proof JWT for one request (new `jti`, current `iat`, the origin's nonce when known). */
  proof(method: string, url: string | URL, options?: DpopProofOptions): Promise<string>;
  /** Keeps the `DPoP-Nonce` of a response from `url`'s origin; true when it differs from the one held. */
  rememberNonce(url: string | URL, headers: Headers): boolean;
  /** The RFC 7638 thumbprint of the public key: logins send it as `dpop_jkt` (RFC 9449 §10) when present. */
  thumbprint?(): Promise<string>;
}

/** Injected time: `XState`'s `SimulatedClock` fits as is. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Exponential backoff settings (R5). */
export interface RetryOptions {
  minDelay?: Duration;
  maxDelay?: Duration;
  factor?: number;
  /** Fraction 0..1 of each delay that is randomised. */
  jitter?: number;
  /** Ceiling on a server's `Retry-After` (default: `maxDelay`); a longer wait is cut to this. */
  maxRetryAfter?: Duration;
}
