import type { Actor } from 'xstate';
import type { TokenMachine } from '../lifecycle/machine.js';
import type { RefreshHistory, RefreshOutput, TokenMeta } from '../lifecycle/machine-types.js';
import type { TokenState, TokenStateDetail } from './api-types.js';
import type { TokenRecord, TokenSet } from '../lifecycle/types.js';

/**
 * One credential in a manager. `record` is the vault: the newest token values this process knows,
 * which never enter the machine (R13). The actor sees `metaOf(record)` only.
 */
export interface Credential {
  readonly key: string;
  /** Loaded from storage or set: the actor knows the record (or that there is none to renew). */
  loaded: boolean;
  record: TokenRecord | undefined;
  /** The version storage is known to hold (0 = nothing); below `record.version` while a write is pending (R4). */
  storedVersion: number;
  /**
   * The public view of `record`, built on first use (`viewFor`) and kept until the record changes: a
   * dormant credential nobody reads never pays for it (memory, issue 17). Read it through `viewFor`.
   */
  view: TokenSet | undefined;
  /**
   * `view` as a settled promise, made on the first hot-path `getToken` and handed to every caller
   * after (no promise per call); dropped with the view. Never made for a dormant, unread credential.
   */
  served: Promise<TokenSet> | undefined;
  /** Hot path: `view` may be served without asking the actor while `now < freshUntil`. */
  freshUntil: number;
  actor: Actor<TokenMachine> | undefined;
  state: TokenState;
  detail: TokenStateDetail | undefined;
  /**
   * The outcome of the refresh in flight, shared by every caller that joins it without a signal
   * (a herd of 10,000 `getToken()` waits on one promise, R7). Made on first use, dropped when it settles.
   */
  joined: Promise<TokenSet> | undefined;
  /** Callers waiting for the in-flight refresh to settle (R7). */
  /** Created on first use: most credentials never have a waiter (memory, issue 7). */
  settleWaiters: Set<() => void> | undefined;
  /** Counts settled refreshes; with `lastFailure` tells a caller how the refresh it joined ended. */
  refreshSeq: number;
  lastFailure: unknown;
  /**
   * A refresh run while dormant, with no actor (actors.ts, "quiet refresh"): `base` is the token
   * metadata it started from; `handingOver` once an actor takes the run over (a failure, a caller
   * asking for the actor). Made per refresh, dropped when it settles.
   */
  quiet: { readonly run: Promise<RefreshOutput>; readonly base: TokenMeta; handingOver: boolean } | undefined;
  /** The running refresh I/O, if any: `stop()` waits for it (R15). */
  inflight: Promise<unknown> | undefined;
  reauthAnnounced: boolean;
  /** No live actor: valid and far from refresh; the manager's wake wheel wakes it at `refreshAt`. */
  dormant: boolean;
  /** The wake wheel's bookkeeping (see wake-wheel.ts): its place in the wheel's heap, -1 when not there. */
  wakeIndex: number;
  /** `actor(key)` was asked for: keep the actor live for whoever watches it. */
  pinned: boolean;
  /** Survives dormancy (the minimum interval, `status().lastRefreshAt`). */
  history: RefreshHistory;
  /** A write retry: its timer, or (`running`) the write it started, which stop() waits for. */
  writeRetry: { handle: unknown; attempt: number; running?: Promise<boolean> } | undefined;
  /** Refresh tokens our own rotations spent (few, most recent last): a stored record holding one is stale. */
  spent: string[] | undefined;
  removed: boolean;
  /**
   * R22: set on a credential made by `derive()`: its renewal is a token exchange of its parent's
   * access token (derive.ts). Absent on every other credential (never initialised: no cost to them).
   */
  derived?: Derivation;
}

/** How a derived credential is exchanged (RFC 8693), and from which of its parent's tokens. */
export interface Derivation {
  /** The parent credential's key. */
  readonly from: string;
  readonly audience?: string | readonly string[];
  readonly resource?: string | readonly string[];
  readonly scope?: string;
  /**
   * The parent's access token the latest exchange was attempted with (vault: never in the machine,
   * never shown). A parent token seen once is exchanged once (success or not): R22's "one exchange
   * per parent change".
   */
  attempted: string | undefined;
}

/** Shared by every credential that never refreshed here (history is replaced, never mutated). */
const NO_HISTORY: RefreshHistory = Object.freeze({});

export function createCredential(key: string): Credential {
  return {
    key,
    loaded: false,
    record: undefined,
    storedVersion: 0,
    view: undefined,
    served: undefined,
    freshUntil: Number.NEGATIVE_INFINITY,
    actor: undefined,
    state: 'idle',
    detail: undefined,
    joined: undefined,
    settleWaiters: undefined,
    refreshSeq: 0,
    lastFailure: undefined,
    quiet: undefined,
    inflight: undefined,
    reauthAnnounced: false,
    dormant: false,
    wakeIndex: -1,
    pinned: false,
    history: NO_HISTORY,
    writeRetry: undefined,
    spent: undefined,
    removed: false,
  };
}

/** What the machine may know of a record: no token value. (Built without spreads: on every refresh.) */
export function metaOf(record: TokenRecord | undefined, now: number): TokenMeta {
  if (!record) return { hasAccessToken: false, hasRefreshToken: false, obtainedAt: now, version: 0 };
  const meta: { -readonly [K in keyof TokenMeta]: TokenMeta[K] } = {
    hasAccessToken: record.accessToken.length > 0,
    hasRefreshToken: typeof record.refreshToken === 'string' && record.refreshToken.length > 0,
    obtainedAt: record.obtainedAt,
    version: record.version,
  };
  if (record.expiresAt !== undefined) meta.expiresAt = record.expiresAt;
  if (record.rejection !== undefined) meta.rejection = record.rejection;
  if (record.retryAt !== undefined) meta.retryAt = record.retryAt;
  return meta;
}

/** The `TokenSet` handed to callers; undefined when there is no access token (R9). */
export function viewOf(record: TokenRecord | undefined): TokenSet | undefined {
  if (!record || record.accessToken.length === 0) return undefined;
  const view: { -readonly [K in keyof TokenSet]: TokenSet[K] } = { accessToken: record.accessToken, tokenType: record.tokenType };
  if (record.expiresAt !== undefined) view.expiresAt = record.expiresAt;
  if (record.refreshToken !== undefined) view.refreshToken = record.refreshToken;
  if (record.scope !== undefined) view.scope = record.scope;
  if (record.idToken !== undefined) view.idToken = record.idToken;
  return Object.freeze(view);
}

export function setRecord(credential: Credential, record: TokenRecord | undefined): void {
  credential.record = record;
  credential.view = undefined;
  credential.served = undefined;
}

/** Read through a call: sending an event changes the state, which narrowing cannot see. */
export function isRefreshing(credential: Credential): boolean {
  return credential.state === 'refreshing';
}

/** Whether the credential has a token to hand out (R9: never an empty access token). */
export function hasView(credential: Credential): boolean {
  return credential.record !== undefined && credential.record.accessToken.length > 0;
}

/** The credential's `TokenSet`, built once per record. */
export function viewFor(credential: Credential): TokenSet | undefined {
  return (credential.view ??= viewOf(credential.record));
}

/** Top-level state and `degraded` sub-state of a snapshot value. */
export function stateOfValue(value: unknown): { state: TokenState; detail: TokenStateDetail | undefined } {
  if (typeof value === 'string') return { state: value as TokenState, detail: undefined };
  if (typeof value === 'object' && value !== null) {
    const [state, sub] = Object.entries(value)[0] ?? ['idle', undefined];
    return { state: state as TokenState, detail: typeof sub === 'string' ? (sub as TokenStateDetail) : undefined };
  }
  return { state: 'idle', detail: undefined };
}
