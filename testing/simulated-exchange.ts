/**
 * The token exchange half of `simulatedEndpoint()` (R22, RFC 8693): scripted answers to
 * `tokenExchange()` calls, each recorded with the subject token it was sent, so a test can count the
 * exchanges a derived credential makes (one per parent change) and drive its failures.
 */
import { TOKEN_TYPES } from '../machines/lifecycle/exchange-response.js';
import type { Clock, EndpointRequestOptions, TokenExchangeRequest } from '../machines/lifecycle/types.js';
import { failScripted, type ScriptedFailure } from './scripted-failure.js';

/** What one exchange answers. */
export type SimulatedExchangeOutcome =
  /** A new access token (`issued_token_type` access_token, Bearer). */
  | 'ok'
  /** A 503: retryable. */
  | 'transient'
  /** A 400 `invalid_grant`: the subject token is refused. */
  | 'invalid_grant'
  /** No answer until `answerExchange()`. */
  | 'hang'
  | { readonly type: 'ok'; readonly expiresIn?: number | null; readonly body?: Readonly<Record<string, unknown>> }
  | { readonly type: 'slow'; readonly ms: number }
  /** `transient` with `retryAfter` (ms) or `status`; `invalid_grant`; or a custom `error`. */
  | ScriptedFailure;

export interface SimulatedExchange {
  /** The request as the manager sent it (test tokens: safe to read). */
  readonly request: TokenExchangeRequest;
  readonly at: number;
  outcome: string;
  settled: boolean;
}

export interface SimulatedExchanges {
  tokenExchange(request: TokenExchangeRequest, options?: EndpointRequestOptions): Promise<unknown>;
  /** Queues outcomes for the next exchanges, in order (default: `ok`). */
  scriptExchange(...outcomes: SimulatedExchangeOutcome[]): void;
  /** Answers the oldest hung exchange. False when none hangs. */
  answerExchange(outcome?: SimulatedExchangeOutcome): boolean;
  /** Every exchange, in order. */
  readonly exchanges: readonly SimulatedExchange[];
}

export function simulatedExchanges(clock: Clock, expiresIn: number | null): SimulatedExchanges {
  const queue: SimulatedExchangeOutcome[] = [];
  const exchanges: SimulatedExchange[] = [];
  const hung: Array<(outcome: SimulatedExchangeOutcome) => void> = [];
  let issued = 0;

  async function settle(call: SimulatedExchange, outcome: SimulatedExchangeOutcome): Promise<unknown> {
    const o = typeof outcome === 'string' ? { type: outcome } : outcome;
    switch (o.type) {
      case 'ok': {
        call.outcome = 'ok';
        call.settled = true;
        issued++;
        const given = o as { expiresIn?: number | null; body?: Readonly<Record<string, unknown>> };
        const lifetime = given.expiresIn === undefined ? expiresIn : given.expiresIn;
        return {
          access_token: `xt-${issued}`,
          issued_token_type: TOKEN_TYPES.accessToken,
          token_type: 'Bearer',
          ...(lifetime === null ? {} : { expires_in: lifetime }),
          ...(given.body ?? {}),
        };
      }
      case 'transient':
      case 'invalid_grant':
      case 'error':
        return failScripted(call, o as ScriptedFailure);
      case 'hang':
        return settle(call, await new Promise<SimulatedExchangeOutcome>((resolve) => hung.push(resolve)));
      case 'slow':
        await new Promise<void>((resolve) => clock.setTimeout(resolve, (o as { ms: number }).ms));
        return settle(call, 'ok');
      default:
        throw new TypeError(`unknown simulated exchange outcome ${JSON.stringify(o)}`);
    }
  }

  return {
    exchanges,
    scriptExchange(...outcomes) {
      queue.push(...outcomes);
    },
    answerExchange(outcome = 'ok') {
      const wake = hung.shift();
      if (!wake) return false;
      wake(outcome);
      return true;
    },
    async tokenExchange(request) {
      const outcome = queue.shift() ?? 'ok';
      const call: SimulatedExchange = { request, at: clock.now(), outcome: typeof outcome === 'string' ? outcome : outcome.type, settled: false };
      exchanges.push(call);
      return settle(call, outcome);
    },
  };
}
