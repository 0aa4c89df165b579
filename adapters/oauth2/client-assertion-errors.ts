import type { TokenLifecycleError } from '../../machines/lifecycle/errors.js';

/** A refused client authentication: 401, or the RFC 6749 §5.2 code saying so. */
function refusesClient(error: TokenLifecycleError): boolean {
  return error.code === 'invalid_client' || error.status === 401 || (error.description ?? '').startsWith('invalid_client');
}

/**
 * Says in the error's message that a client assertion was sent and what the server may have refused
 * in it (servers hide the reason: oidc-provider answers a replayed `jti` with a bare `invalid_client`).
 * The assertion itself is never part of the message.
 */
export function explainAssertionRefusal<E extends TokenLifecycleError>(error: E, assertion: string | undefined): E {
  if (assertion !== undefined && refusesClient(error)) {
    error.message +=
      '; a client assertion (RFC 7523) was sent: the server may have refused it (a replayed jti, clock skew, an audience or key it does not accept)';
  }
  return error;
}
