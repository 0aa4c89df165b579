/**
 * The failures both simulated answers script (a refresh, simulated-endpoint.ts, and a token
 * exchange, simulated-exchange.ts): the call is marked settled with the outcome's name, and the
 * error a real endpoint gives is thrown.
 */
import { InvalidGrantError, RefreshFailedError } from '../machines/lifecycle/errors.js';

export type ScriptedFailure =
  /** A 503 (or `status`), with `retryAfter` in ms if given: retryable. */
  | { readonly type: 'transient'; readonly retryAfter?: number; readonly status?: number }
  /** A 400 `invalid_grant`: the token sent is refused. */
  | { readonly type: 'invalid_grant' }
  /** This very error (a custom failure). */
  | { readonly type: 'error'; readonly error: unknown };

export function failScripted(call: { outcome: string; settled: boolean }, failure: ScriptedFailure): never {
  call.outcome = failure.type;
  call.settled = true;
  switch (failure.type) {
    case 'transient':
      throw new RefreshFailedError('The simulated token endpoint is unavailable', {
        status: failure.status ?? 503,
        ...(failure.retryAfter === undefined ? {} : { retryAfter: failure.retryAfter }),
      });
    case 'invalid_grant':
      throw new InvalidGrantError({ status: 400 });
    case 'error':
      throw failure.error;
  }
}
