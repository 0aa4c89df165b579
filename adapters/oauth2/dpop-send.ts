/**
 * The token endpoint's side of DPoP (RFC 9449): a proof on every token request from the endpoint's
 * prover, a `use_dpop_nonce` challenge followed once, and what a refused proof may mean. Small and
 * separate from the signer (dpop.ts), which only an app that calls `createDpopProver` bundles.
 */
import type { TokenLifecycleError } from '../../machines/lifecycle/errors.js';
import type { DpopProver } from '../../machines/lifecycle/types.js';
import { readOAuthError } from './error-response.js';
import type { RawResponse, Send } from './transport.js';

/** True for a token endpoint answer asking for a nonce (RFC 9449 §8: 400 `use_dpop_nonce`). */
function asksForNonce(response: RawResponse): boolean {
  return response.status === 400 && readOAuthError(response.text)?.error === 'use_dpop_nonce';
}

/**
 * The token endpoint's `Send` with a DPoP proof on every request, following a `use_dpop_nonce`
 * challenge once (RFC 9449 §8): the body is form data, so the same request goes again with a new
 * proof carrying the server's nonce. Nonces in any response are kept for the next request.
 */
export function dpopSend(send: Send, prover: DpopProver): Send {
  return async (url, options) => {
    const attempt = async (): Promise<{ response: RawResponse; freshNonce: boolean }> => {
      const headers = new Headers(options.headers);
      headers.set('dpop', await prover.proof(options.method, url));
      const response = await send(url, { ...options, headers });
      return { response, freshNonce: prover.rememberNonce(url, response.headers) };
    };
    const first = await attempt();
    if (!first.freshNonce || !asksForNonce(first.response)) return first.response;
    return (await attempt()).response;
  };
}

// Codes with which a token endpoint may be refusing the proof rather than the grant. oidc-provider,
// for one, answers a replayed proof or a key that does not match the token with a bare `invalid_grant`.
const PROOF_REFUSALS = new Set(['invalid_dpop_proof', 'use_dpop_nonce', 'invalid_grant']);

/** Says in the error's message that a DPoP proof was sent and what the server may have refused in it. */
export function explainDpopRefusal<E extends TokenLifecycleError>(error: E): E {
  if (PROOF_REFUSALS.has(error.code)) {
    error.message += '; a DPoP proof was sent: the server may have refused the proof (replayed, clock skew, or not the key the token is bound to)';
  }
  return error;
}
