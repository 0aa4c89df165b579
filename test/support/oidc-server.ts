import type { ServerOptions as HttpsOptions } from 'node:https';
import type Provider from 'oidc-provider';
import type { ClientMetadata, Middleware } from 'oidc-provider';
import { startLoopbackProvider } from '../../examples/support/auth-server.js';
import { FaultInjector, type Fault, type RequestCounts } from './fault-injection.js';

export type { Fault, RequestCounts } from './fault-injection.js';
export { obtainTokensViaAuthCode, type AuthCodeOptions } from './auth-code-flow.js';

/**
 * A real authorization server for integration tests: oidc-provider 9 in-process on 127.0.0.1
 * (recipes/oidc-provider.md), started by the examples' loopback core (examples/support/auth-server.ts)
 * with the clients below and a fault injector in front. Refresh tokens rotate on every use, reuse
 * revokes the grant, revocation and client_credentials are on. Each test file starts its own (the
 * store is in memory).
 */

/** The registered clients. The confidential client's secret has `+ / : %` on purpose (RFC 6749 §2.3.1). */
export const CLIENTS = {
  /** client_secret_basic, authorization_code + refresh_token. */
  confidential: { clientId: 'conf-client', clientSecret: 'a+secret/with:odd%chars' },
  /** client_secret_post, authorization_code + refresh_token. */
  post: { clientId: 'post-client', clientSecret: 'post-secret-value' },
  /** Public client (auth method none), authorization_code + refresh_token. */
  public: { clientId: 'public-client' },
  /** client_credentials only, client_secret_basic. */
  service: { clientId: 'service-client', clientSecret: 'service+secret' },
} as const;

export const REDIRECT_URI = 'http://127.0.0.1:1/cb';
export const DEFAULT_SCOPE = 'openid offline_access';

export interface AuthServerOptions {
  /** Token lifetimes in seconds (oidc-provider's `ttl`): AccessToken defaults to 5, ClientCredentials to 5. */
  ttl?: { AccessToken?: number; ClientCredentials?: number; RefreshToken?: number; IdToken?: number };
  /** Listen on this port (default: any free one). */
  port?: number;
  /** Extra clients, registered next to the built-in ones. */
  clients?: ClientMetadata[];
  /** Koa middleware run before the fault injector and the provider (e.g. a request gate). */
  middleware?: Middleware;
  /** More oidc-provider features (e.g. `mTLS`), next to introspection and clientCredentials. */
  features?: Record<string, { enabled: boolean }>;
  /** Serve over TLS (the issuer is then `https://127.0.0.1:<port>`). */
  https?: HttpsOptions;
  /** More oidc-provider configuration (e.g. `clientAuthMethods`). */
  configuration?: Record<string, unknown>;
}

export interface AuthServer {
  /** `http(s)://127.0.0.1:<port>`, exactly as the discovery documents say it. */
  readonly issuer: string;
  readonly tokenUrl: string;
  readonly revocationUrl: string;
  readonly port: number;
  readonly provider: Provider;
  /** Requests seen (faulted ones included). */
  readonly counts: RequestCounts;
  /** A refresh token the token endpoint accepts, minted through the model API (~3 ms). */
  mintRefreshToken(clientId?: string, scope?: string): Promise<string>;
  /** Queues a fault for the next request(s) to `path` (e.g. `/token`). */
  injectFault(path: string, fault: Fault): void;
  clearFaults(): void;
  /** Server-side revocation of the whole grant behind a refresh token: it is then rejected (invalid_grant). */
  revokeGrant(refreshToken: string): Promise<void>;
  /** An outage: the port stops listening (connections refused) and open connections are dropped. */
  pause(): Promise<void>;
  /** Listens again on the same port, with the same state. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

function clientsList(extra: ClientMetadata[]): ClientMetadata[] {
  const interactive = {
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [REDIRECT_URI],
  };
  return [
    { client_id: CLIENTS.confidential.clientId, client_secret: CLIENTS.confidential.clientSecret,
      token_endpoint_auth_method: 'client_secret_basic', ...interactive },
    { client_id: CLIENTS.post.clientId, client_secret: CLIENTS.post.clientSecret,
      token_endpoint_auth_method: 'client_secret_post', ...interactive },
    { client_id: CLIENTS.public.clientId, token_endpoint_auth_method: 'none', ...interactive },
    { client_id: CLIENTS.service.clientId, client_secret: CLIENTS.service.clientSecret,
      token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'],
      response_types: [], redirect_uris: [] },
    ...extra,
  ];
}

export async function startAuthServer(options: AuthServerOptions = {}): Promise<AuthServer> {
  const faults = new FaultInjector();
  const loopback = await startLoopbackProvider({
    clients: clientsList(options.clients ?? []),
    scopes: ['openid', 'offline_access', 'api'],
    cookieKey: 'test-only-cookie-key',
    ttl: {
      AccessToken: options.ttl?.AccessToken ?? 5,
      ClientCredentials: options.ttl?.ClientCredentials ?? 5,
      RefreshToken: options.ttl?.RefreshToken ?? 3600,
      IdToken: options.ttl?.IdToken ?? 60,
    },
    features: { introspection: { enabled: true }, clientCredentials: { enabled: true }, ...options.features },
    middleware: options.middleware ? (ctx, next) => options.middleware!(ctx, () => faults.middleware(ctx, next)) : faults.middleware,
    port: options.port,
    ...(options.https ? { https: options.https } : {}),
    ...(options.configuration ? { configuration: options.configuration } : {}),
  });
  const { issuer, port, provider } = loopback;

  return {
    issuer,
    tokenUrl: `${issuer}/token`,
    revocationUrl: `${issuer}/token/revocation`,
    port,
    provider,
    counts: faults.counts,

    async mintRefreshToken(clientId = CLIENTS.confidential.clientId, scope = DEFAULT_SCOPE) {
      const client = await provider.Client.find(clientId);
      if (!client) throw new Error(`unknown client ${clientId}`);
      const grant = new provider.Grant({ clientId, accountId: 'alice' });
      grant.addOIDCScope(scope);
      const grantId = await grant.save();
      return new provider.RefreshToken({
        client,
        accountId: 'alice',
        grantId,
        scope,
        gty: 'authorization_code',
        expiresWithSession: false,
      }).save();
    },

    injectFault: (path, fault) => faults.inject(path, fault),
    clearFaults: () => faults.clearFaults(),

    async revokeGrant(refreshToken) {
      const token = await provider.RefreshToken.find(refreshToken, { ignoreExpiration: true });
      if (!token?.grantId) throw new Error('no such refresh token');
      const { grantId } = token;
      await Promise.all([
        provider.RefreshToken.revokeByGrantId(grantId),
        provider.AccessToken.revokeByGrantId(grantId),
        provider.Grant.adapter.destroy(grantId),
      ]);
    },

    async pause() {
      faults.cancelDelays();
      await loopback.pause();
    },
    resume: () => loopback.resume(),
    async stop() {
      faults.cancelDelays();
      faults.clearFaults();
      await loopback.stop();
    },
  };
}
