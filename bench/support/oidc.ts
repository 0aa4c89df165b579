/**
 * oidc-provider 9 on loopback (shared/recipes/oidc-provider.md): a real authorization server, for the
 * context figure "refresh against a real server". Refresh tokens rotate on every use. Its
 * "Unsupported runtime" / dev-key notices are dropped from the console (those lines only, by the
 * examples' filter).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silenceOidcProviderNotices } from '../../examples/support/quiet.js';
import { BASIC, CLIENT_ID, CLIENT_SECRET } from './token-server.js';

export interface OidcServer {
  readonly tokenUrl: string;
  mintRefreshToken(): Promise<string>;
  close(): Promise<void>;
}

export { BASIC, CLIENT_ID, CLIENT_SECRET };

export async function oidcServer(): Promise<OidcServer> {
  silenceOidcProviderNotices();
  // Typed by examples/support/oidc-provider.d.ts (the package ships no types).
  const { default: Provider } = await import('oidc-provider');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1:1/cb'],
      },
    ],
    scopes: ['openid', 'offline_access'],
    findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
    cookies: { keys: ['bench-only-cookie-key'] },
    ttl: { AccessToken: 3600, RefreshToken: 86_400, Grant: 86_400, Session: 86_400, IdToken: 3600, AuthorizationCode: 60, Interaction: 600 },
    rotateRefreshToken: true,
    issueRefreshToken: async () => true,
    features: { devInteractions: { enabled: false } },
  });
  server.on('request', provider.callback());
  return {
    tokenUrl: `${issuer}/token`,
    async mintRefreshToken() {
      const client = await provider.Client.find(CLIENT_ID);
      const grant = new provider.Grant({ clientId: CLIENT_ID, accountId: 'alice' });
      grant.addOIDCScope('openid offline_access');
      const grantId = await grant.save();
      return new provider.RefreshToken({ client, accountId: 'alice', grantId, scope: 'openid offline_access', gty: 'authorization_code', expiresWithSession: false }).save();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
