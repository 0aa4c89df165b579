/**
 * A token endpoint whose answers a test scripts: tokens with or without rotation, a transient failure
 * (with `Retry-After`), a rejection (`invalid_grant`), a slow answer (on the test's clock) or no answer
 * until the test gives one. It records every call. It implements `TokenEndpoint`, so a real manager
 * runs against it exactly as against `oauth2Endpoint`.
 */
import type { Clock, EndpointRequestOptions, RevokeOptions, TokenEndpoint } from '../machines/lifecycle/types.js';
import { failScripted } from './scripted-failure.js';
import { simulatedExchanges, type SimulatedExchanges } from './simulated-exchange.js';

/** What one refresh call answers. */
export type SimulatedOutcome =
  /** New tokens, the refresh token kept (none in the response). */
  | 'ok'
  /** New tokens and a new refresh token (the old one is spent). */
  | 'rotate'
  /** A 503 without `Retry-After` (the object form sets `retryAfter` in ms, and the status). */
  | 'transient'
  /** A 400 `invalid_grant`: the refresh token is rejected. */
  | 'invalid_grant'
  /** No answer until `answer()` (a request in flight). */
  | 'hang'
  | { readonly type: 'ok' | 'rotate'; readonly expiresIn?: number | null; readonly body?: Readonly<Record<string, unknown>> }
  | { readonly type: 'transient'; readonly retryAfter?: number; readonly status?: number }
  | { readonly type: 'invalid_grant' }
  | { readonly type: 'hang' }
  /** Answers `then` (default: the default outcome) after `ms` on the endpoint's clock. */
  | { readonly type: 'slow'; readonly ms: number; readonly then?: SimulatedOutcome }
  /** Throws this error (a custom failure: set `retryable: true` on it for a transient one). */
  | { readonly type: 'error'; readonly error: unknown };

export interface SimulatedCall {
  /** The refresh token the manager sent (test tokens: safe to read). */
  readonly refreshToken: string | undefined;
  /** The clock's time when the call arrived. */
  readonly at: number;
  /** The outcome it was given (for a hung call: `hang` until answered, then the answer). */
  outcome: string;
  /** False while the call waits (hang, slow). */
  settled: boolean;
}

export interface SimulatedEndpointOptions {
  /** Used for `at` stamps and `slow` answers; default: the global timers and `Date.now`. */
  readonly clock?: Clock;
  /** `expires_in` (seconds) of issued tokens; `null` omits it (unknown expiry). Default 3600. */
  readonly expiresIn?: number | null;
  /** What a call answers when nothing is scripted. Default `'rotate'`. */
  readonly defaultOutcome?: SimulatedOutcome;
  /** The refresh token the server accepts before any refresh (as `setToken` gave it). */
  readonly initialRefreshToken?: string;
  /** R8: a `client_credentials`-like endpoint that renews without a refresh token. */
  readonly canRenewWithoutRefreshToken?: boolean;
  /**
   * As a server with refresh-token reuse detection: a call that sends a refresh token this endpoint
   * has already rotated away answers `invalid_grant`, whatever is scripted (R4: a lost rotated token
   * shows). Default false.
   */
  readonly rejectSpentRefreshTokens?: boolean;
}

/** R22: it also answers `tokenExchange()` (simulated-exchange.ts): `scriptExchange`, `exchanges`. */
export interface SimulatedEndpoint extends Omit<TokenEndpoint, 'tokenExchange'>, SimulatedExchanges {
  /** Queues outcomes for the next calls, in order. */
  script(...outcomes: SimulatedOutcome[]): void;
  /** Answers the oldest hung call with `outcome` (default: the default outcome). False when none hangs. */
  answer(outcome?: SimulatedOutcome): boolean;
  /** Every refresh call, in order. */
  readonly calls: readonly SimulatedCall[];
  /** Calls waiting for `answer()`. */
  readonly hanging: number;
  /** Outcomes scripted and not used yet. */
  readonly scripted: number;
  /** The refresh token the server would accept now: the newest it issued (or the initial one). */
  readonly currentRefreshToken: string | undefined;
  /** The access token it issued last. */
  readonly lastAccessToken: string | undefined;
  /** Tokens passed to `revoke()`, in order. */
  readonly revoked: readonly string[];
}

type Resolved = Exclude<SimulatedOutcome, string>;

function normalise(given: SimulatedOutcome): Resolved {
  const outcome = (typeof given === 'string' ? { type: given } : given) as Resolved;
  if (typeof outcome !== 'object' || outcome === null || typeof outcome.type !== 'string') {
    throw new TypeError(`not a simulated outcome: ${JSON.stringify(given)}`);
  }
  if (!['ok', 'rotate', 'transient', 'invalid_grant', 'hang', 'slow', 'error'].includes(outcome.type)) {
    throw new TypeError(`unknown simulated outcome type "${outcome.type}"`);
  }
  if (outcome.type === 'slow' && !(Number.isFinite(outcome.ms) && outcome.ms >= 0)) throw new TypeError('a slow outcome needs ms ≥ 0');
  return outcome;
}

const globalClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};

export function simulatedEndpoint(options: SimulatedEndpointOptions = {}): SimulatedEndpoint {
  const clock = options.clock ?? globalClock;
  const expiresIn = options.expiresIn === undefined ? 3600 : options.expiresIn;
  const defaultOutcome = normalise(options.defaultOutcome ?? 'rotate');
  const queue: Resolved[] = [];
  const calls: SimulatedCall[] = [];
  const revoked: string[] = [];
  const hung: Array<(outcome: Resolved) => void> = [];
  let issued = 0;
  let currentRefreshToken = options.initialRefreshToken;
  let lastAccessToken: string | undefined;
  /** Refresh tokens rotated away (the initial one included once a newer one is issued). */
  const spent = new Set<string>();

  function issue(outcome: Extract<Resolved, { type: 'ok' | 'rotate' }>, sent: string | undefined): Record<string, unknown> {
    issued++;
    // Without rotation the server goes on accepting the token it was sent.
    if (sent !== undefined) currentRefreshToken = sent;
    lastAccessToken = `at-${issued}`;
    const body: Record<string, unknown> = { access_token: lastAccessToken, token_type: 'Bearer' };
    const lifetime = outcome.expiresIn === undefined ? expiresIn : outcome.expiresIn;
    if (lifetime !== null) body.expires_in = lifetime;
    if (outcome.type === 'rotate' && !options.canRenewWithoutRefreshToken) {
      if (currentRefreshToken !== undefined) spent.add(currentRefreshToken);
      currentRefreshToken = `rt-${issued}`;
      body.refresh_token = currentRefreshToken;
    }
    return { ...body, ...(outcome.body ?? {}) };
  }

  async function settleWith(call: SimulatedCall, outcome: Resolved, signal: AbortSignal | undefined): Promise<unknown> {
    switch (outcome.type) {
      case 'ok':
      case 'rotate':
        call.outcome = outcome.type;
        call.settled = true;
        return issue(outcome, call.refreshToken);
      case 'transient':
      case 'invalid_grant':
      case 'error':
        return failScripted(call, outcome);
      case 'hang': {
        const answer = await new Promise<Resolved>((resolve, reject) => {
          hung.push(resolve);
          signal?.addEventListener('abort', () => {
            const index = hung.indexOf(resolve);
            if (index < 0) return; // answered already
            hung.splice(index, 1);
            call.outcome = 'aborted';
            call.settled = true;
            reject(signal.reason);
          }, { once: true });
        });
        return settleWith(call, answer, signal);
      }
      case 'slow': {
        await new Promise<void>((resolve) => clock.setTimeout(resolve, outcome.ms));
        return settleWith(call, normalise(outcome.then ?? defaultOutcome), signal);
      }
    }
  }

  const exchange = simulatedExchanges(clock, expiresIn);
  const endpoint: SimulatedEndpoint = {
    ...(options.canRenewWithoutRefreshToken ? { canRenewWithoutRefreshToken: true } : {}),
    tokenExchange: exchange.tokenExchange,
    scriptExchange: exchange.scriptExchange,
    answerExchange: exchange.answerExchange,
    exchanges: exchange.exchanges,
    script(...outcomes) {
      queue.push(...outcomes.map(normalise));
    },
    answer(outcome) {
      const wake = hung.shift();
      if (!wake) return false;
      wake(normalise(outcome ?? defaultOutcome));
      return true;
    },
    calls,
    get hanging() {
      return hung.length;
    },
    get scripted() {
      return queue.length;
    },
    get currentRefreshToken() {
      return currentRefreshToken;
    },
    get lastAccessToken() {
      return lastAccessToken;
    },
    revoked,
    async refresh(refreshToken: string | undefined, requestOptions: EndpointRequestOptions = {}) {
      const scriptedOutcome = queue.shift() ?? defaultOutcome;
      const reused = options.rejectSpentRefreshTokens === true && refreshToken !== undefined && spent.has(refreshToken);
      const outcome: Resolved = reused ? { type: 'invalid_grant' } : scriptedOutcome;
      const call: SimulatedCall = { refreshToken, at: clock.now(), outcome: outcome.type, settled: false };
      calls.push(call);
      if (requestOptions.signal?.aborted) {
        call.outcome = 'aborted';
        call.settled = true;
        throw requestOptions.signal.reason;
      }
      return settleWith(call, outcome, requestOptions.signal);
    },
    async revoke(token: string, _options?: RevokeOptions) {
      revoked.push(token);
    },
  };
  return endpoint;
}
