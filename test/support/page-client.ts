/**
 * The app's client in browser tests: a page served by `servePage()` (browser.ts) talks to the test's
 * oidc-provider (oidc-server.ts) as a public client whose redirect URI is on the page's origin, so
 * oidc-provider's client-based CORS answers the page's token requests.
 *
 *   server = await startAuthServer({ ttl: { AccessToken: 10 }, clients: [pageClient(CLIENT_ID, site)] });
 *   const tokens = await pageLogin(server, CLIENT_ID);   // what a login hands the app
 */
import type { ClientMetadata } from 'oidc-provider';
import { expect } from 'vitest';
import type { StaticServer } from './browser.js';
import type { AuthServer } from './oidc-server.js';

/** A public client (no secret, PKCE) redirecting to `/callback` on the page's origin. */
export function pageClient(clientId: string, site: StaticServer): ClientMetadata {
  return {
    client_id: clientId,
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [site.url('/callback')],
  };
}

/**
 * What a login would hand the app: the token response (RFC 6749 §5.1) to a refresh token minted for
 * the client, redeemed at the token endpoint (the access token lives the server's AccessToken TTL).
 */
export async function pageLogin(server: AuthServer, clientId: string): Promise<Record<string, unknown>> {
  const refreshToken = await server.mintRefreshToken(clientId);
  const response = await fetch(server.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}
