/**
 * The authorization request URL (RFC 6749 §4.1.1 with PKCE, RFC 7636 §4.3), shared by the loopback
 * and the redirect login, which pass their options as they are (only the fields below are read). The
 * caller's extra parameters never override the ones set here.
 */
import type { DpopProver } from '../../machines/lifecycle/types.js';
import type { Pkce } from './pkce.js';

export interface AuthorizationRequest {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly state: string;
  readonly pkce: Pkce;
  readonly scope?: string | undefined;
  readonly dpop?: DpopProver | undefined;
  readonly authorizationParams?: Record<string, string> | undefined;
}

export async function authorizationUrl(endpoint: string | URL, request: AuthorizationRequest): Promise<URL> {
  const url = new URL(endpoint);
  const params: Record<string, string> = {
    ...request.authorizationParams,
    response_type: 'code',
    client_id: request.clientId,
    redirect_uri: request.redirectUri,
    state: request.state,
    code_challenge: request.pkce.challenge,
    code_challenge_method: request.pkce.method,
  };
  if (request.scope !== undefined) params.scope = request.scope;
  // RFC 9449 §10: bind the code to the DPoP key, so only this key can redeem it.
  const jkt = await request.dpop?.thumbprint?.();
  if (jkt !== undefined) params.dpop_jkt = jkt;
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url;
}
