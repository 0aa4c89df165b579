import type { ActorRefFrom, InspectionEvent, Observer } from 'xstate';
import type { TokenMachine } from '../lifecycle/machine.js';
import type { Clock, DpopProver, Duration, RetryOptions, StorageCapabilities, TokenEndpoint, TokenResponse, TokenSet, TokenStorage } from '../lifecycle/types.js';

/** Top-level states of the lifecycle machine (DESIGN §3). */
export type TokenState = 'idle' | 'valid' | 'nearExpiry' | 'refreshing' | 'degraded' | 'reauthRequired';
/** Sub-states of `degraded`. */
export type TokenStateDetail = 'retrying' | 'rejected' | 'expired';

export interface TokenManagerOptions {
  endpoint: TokenEndpoint;
  /** Default: a `memoryStorage()` of its own, without locks (nobody else can reach it). */
  storage?: TokenStorage;
  /** R1: default `5m`; any value ≥ 0. The refresh window is never more than half the lifetime. */
  refreshThreshold?: Duration;
  /** R3: default true. When false no timer starts a request; `getToken` refreshes when due. */
  backgroundRefresh?: boolean;
  /** R5: backoff after transient failures. */
  retry?: RetryOptions;
  /** R1: two refreshes of one credential never start closer than this (default `2s`). */
  minRefreshInterval?: Duration;
  /** §6: fraction 0..1 of the refresh window over which keys' refresh moments are spread (default 0). */
  refreshJitter?: number;
  /** At most this many refreshes in flight at once in this manager (default unlimited). */
  maxConcurrentRefreshes?: number;
  /** TTL of a storage lock taken for a refresh (default `30s`); exceeds the endpoint timeout. */
  lockTtl?: Duration;
  /** R15: how long `stop()` waits for an in-flight refresh (default `10s`). */
  stopTimeout?: Duration;
  /** Injected time (R11); XState's `SimulatedClock` fits. Default: the system clock. */
  clock?: Clock;
  /** R6: called once per episode on entering `reauthRequired`. May be async; its failure goes to `onError`. */
  onReauthRequired?: (key: string, reason: string) => void;
  /**
   * Passed to every credential's actor as XState's `inspect` option; sees no token value (R13). May be
   * async; its failure goes to `onError` and never reaches the actor.
   */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /**
   * Where a failing callback (a `subscribe()` listener, `onReauthRequired`, the inspector) is reported:
   * a throw or a rejection, once per failure; it never reaches the process or the lifecycle. Default:
   * one process warning per failing callback (`process.emitWarning`, else `console.warn`).
   */
  onError?: CallbackErrorHandler;
  /** Source of backoff jitter in [0, 1) (default `Math.random`); fix it for reproducible tests. */
  random?: () => number;
  /**
   * R19: OpenTelemetry metrics and a span per refresh: `openTelemetry({ meter?, tracer? })`, or
   * `openTelemetry()` for the API's globals. A plug-in, so an app without it does not bundle it.
   */
  telemetry?: TelemetryPlugin;
  /**
   * R22: `derivedCredentials()` turns on `derive()` (credentials exchanged from a parent's token,
   * RFC 8693). A plug-in, so an app without it does not bundle it.
   */
  derivedCredentials?: DerivedCredentialsPlugin;
}

/** What the `derivedCredentials` option takes: made by `derivedCredentials()` (opaque). */
export interface DerivedCredentialsPlugin {
  readonly plugin: 'derivedCredentials';
}

/** What the `telemetry` option takes: made by `openTelemetry()`; it watches the manager it is given. */
export interface TelemetryPlugin {
  attach(manager: TokenManager): void;
}

export interface TokenStatus {
  readonly key: string;
  readonly state: TokenState;
  readonly detail?: TokenStateDetail;
  readonly expiresAt?: number;
  readonly refreshAt?: number;
  readonly lastRefreshAt?: number;
  readonly timeUntilExpiry?: number;
  readonly timeUntilRefresh?: number;
  readonly needsRefresh: boolean;
  readonly hasRefreshToken: boolean;
  readonly retryAt?: number;
  readonly lastError?: { readonly code: string; readonly retryable: boolean };
  /** In `reauthRequired` and `degraded.rejected`: why. */
  readonly reason?: string;
  /** The storage's `capabilities`, when it has them (webStorage: Web Locks or a lease, the feed). */
  readonly storage?: StorageCapabilities;
  /** R22: the key this credential is derived from (`derive()`), when it is a derived credential. */
  readonly parent?: string;
}

interface EventBase {
  readonly key: string;
  /** Epoch ms from the manager's clock. */
  readonly at: number;
}

/** Events a manager emits (DESIGN §4). None carries a token value (R13). */
export type TokenEvent =
  | (EventBase & {
      readonly type: 'state';
      readonly state: TokenState;
      readonly detail?: TokenStateDetail;
      readonly previous: { readonly state: TokenState; readonly detail?: TokenStateDetail };
    })
  | (EventBase & { readonly type: 'refreshed'; readonly expiresAt?: number; readonly rotated: boolean })
  | (EventBase & {
      readonly type: 'refresh_failed';
      readonly code: string;
      readonly retryable: boolean;
      readonly retryAt?: number;
    })
  | (EventBase & { readonly type: 'reauth_required'; readonly reason: string })
  | (EventBase & { readonly type: 'storage_failed'; readonly code: string; readonly retrying: boolean });

/** May be async (a `void` return accepts a promise): a throw or a rejection goes to the manager's `onError`, never to the process. */
export type TokenEventListener = (event: TokenEvent) => void;

/** Which callback failed; never a token value. */
export interface CallbackErrorContext {
  /** `listener` (a `subscribe()` listener), `onReauthRequired`, `inspect`; `onError` only in the default warning. */
  readonly callback: 'listener' | 'onReauthRequired' | 'inspect' | 'onError';
  /** The credential concerned, when there is one (listeners, `onReauthRequired`). */
  readonly key?: string;
  /** For a listener: the type of the event it was given. */
  readonly event?: TokenEvent['type'];
}

/** The `onError` option: told of each failure of a user callback (the error is the callback's own). */
export type CallbackErrorHandler = (error: unknown, context: CallbackErrorContext) => void;

export interface GetTokenOptions {
  /** Ends this caller's wait only; a shared refresh goes on. */
  signal?: AbortSignal;
}

/** R22: `derive(key, options)`: what the derived credential's token is exchanged for (RFC 8693 §2.1). */
export interface DeriveOptions {
  /** The parent credential's key: its current access token is the exchange's subject token. */
  from: string;
  /** The target service(s) (`audience`). */
  audience?: string | readonly string[];
  /** The target resource URI(s) (RFC 8707 `resource`). */
  resource?: string | readonly string[];
  scope?: string;
}

export interface RemoveOptions {
  /** RFC 7009 revocation before deleting (default true). */
  revoke?: boolean;
}

/** A credential's lifecycle actor: `ActorRefFrom<typeof tokenMachine>`. */
export type TokenActor = ActorRefFrom<TokenMachine>;

export interface TokenManager {
  /** Loads every stored key (`storage.keys()`) and arms background refresh. Optional. */
  start(): Promise<void>;
  /** After a login: validates, persists, (re)starts the lifecycle. Resolves to the stored set. */
  setToken(key: string, tokens: TokenResponse | TokenSet): Promise<TokenSet>;
  /** A usable token, refreshing if needed (R1–R9). */
  getToken(key?: string, options?: GetTokenOptions): Promise<TokenSet>;
  /** Synchronous read: the current token if loaded and far from refresh, else undefined. No I/O. */
  peekToken(key?: string): TokenSet | undefined;
  status(key?: string): TokenStatus;
  /** Forced refresh: ignores the minimum interval and backoff; joins one in flight. */
  refresh(key?: string, options?: GetTokenOptions): Promise<TokenSet>;
  /**
   * R10, for HTTP adapters: a resource answered 401 to a request that carried `rejectedAccessToken`.
   * Resolves to a token to retry with (the current one when the rejected one is older, else a
   * refreshed one), or undefined when the 401 should go back to the caller.
   */
  renewAfterUnauthorized(key: string, rejectedAccessToken: string, options?: GetTokenOptions): Promise<TokenSet | undefined>;
  /**
   * R22: a credential whose token is exchanged (RFC 8693) from the parent's current access token,
   * re-exchanged on its own expiry and once per change of the parent's token, in `reauthRequired`
   * with its parent. Needs an endpoint with `tokenExchange`. Resolves to its first token. Held in
   * memory only. Needs `createTokenManager({ derivedCredentials: derivedCredentials() })`
   * (`invalid_config` without); docs/manager.md.
   */
  derive(key: string, options: DeriveOptions): Promise<TokenSet>;
  /** Logout: RFC 7009 revocation (unless `revoke: false`), then delete; a parent's derived credentials go with it. */
  remove(key?: string, options?: RemoveOptions): Promise<void>;
  subscribe(listener: TokenEventListener): () => void;
  /**
   * The credential's XState actor, for inspection (created on demand), typed from the machine: its
   * snapshot's `value` and `context`, and the events `send` takes, are the machine's own (no `any`),
   * so `useSelector` (@xstate/react), Vue/Svelte stores and the Stately inspector get real types.
   */
  actor(key?: string): TokenActor;
  /** R15. */
  stop(): Promise<void>;
  /** R20: the endpoint's DPoP prover, when it binds tokens to a key; the HTTP adapters sign with it. */
  readonly dpop?: DpopProver;
}
