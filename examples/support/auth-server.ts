/// <reference path="./oidc-provider.d.ts" />
/**
 * A real authorization server on loopback: oidc-provider 9 in-process on 127.0.0.1 with
 * refresh-token rotation on every use, revocation and devInteractions (so a login needs no browser).
 * `startLoopbackProvider` is the common core; `startLoopbackAuthServer` is the demo's one-client
 * server, and the test harness (test/support/oidc-server.ts) builds on the core with more clients,
 * fault injection and request counts.
 *
 * oidc-provider is a devDependency and ships no types: ./oidc-provider.d.ts declares the part used
 * here and in the tests. It is imported dynamically, so the library itself never depends on it.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import type Provider from 'oidc-provider';
import type { ClientMetadata, Middleware } from 'oidc-provider';
import { silenceOidcProviderNotices } from './quiet.js';

export interface LoopbackProviderOptions {
  clients: ClientMetadata[];
  scopes: string[];
  /** Signs the interaction cookies (loopback only: any constant does). */
  cookieKey: string;
  /**
   * Token lifetimes in seconds (oidc-provider counts whole seconds), over the defaults
   * RefreshToken 3600, AuthorizationCode 60, Interaction 600, Session 3600, Grant 3600.
   */
  ttl: { AccessToken: number; IdToken: number; RefreshToken?: number; ClientCredentials?: number };
  /** Features on top of devInteractions and revocation (always on). */
  features?: Record<string, { enabled: boolean }>;
  /** Koa middleware that sees every request before the provider does. */
  middleware?: Middleware;
  /** Listen on this port (default: any free one). */
  port?: number;
  /** Serve over TLS with these options (the issuer is then `https://127.0.0.1:<port>`). */
  https?: HttpsOptions;
  /** More oidc-provider configuration (e.g. `clientAuthMethods`). */
  configuration?: Record<string, unknown>;
}

export interface LoopbackProvider {
  /** `http(s)://127.0.0.1:<port>`, exactly as the discovery document says it. */
  readonly issuer: string;
  readonly port: number;
  readonly provider: Provider;
  /** An outage: the port stops listening (connections refused) and open connections are dropped. */
  pause(): Promise<void>;
  /** Listens again on the same port, with the same state (grants, tokens). */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startLoopbackProvider(options: LoopbackProviderOptions): Promise<LoopbackProvider> {
  silenceOidcProviderNotices();
  const { default: ProviderClass } = await import('oidc-provider');
  const server: Server = options.https ? (createHttpsServer(options.https) as unknown as Server) : createServer();
  const port = await listen(server, options.port ?? 0);
  const issuer = `${options.https ? 'https' : 'http'}://127.0.0.1:${port}`;

  const provider = new ProviderClass(issuer, {
    clients: options.clients,
    scopes: options.scopes,
    findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
    cookies: { keys: [options.cookieKey] },
    ttl: { RefreshToken: 3600, AuthorizationCode: 60, Interaction: 600, Session: 3600, Grant: 3600, ...options.ttl },
    // Rotate on every use (also for confidential clients), as strict servers do.
    rotateRefreshToken: true,
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(grant: string): boolean }, code: { scopes: Set<string> }) =>
      client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    features: { devInteractions: { enabled: true }, revocation: { enabled: true }, ...options.features },
    ...options.configuration,
  });
  // Before callback(): Koa composes the middleware chain when callback() is taken.
  if (options.middleware) provider.use(options.middleware);
  server.on('request', provider.callback());

  return {
    issuer,
    port,
    provider,
    pause: () => close(server),
    async resume() {
      if (!server.listening) await listen(server, port);
    },
    stop: () => close(server),
  };
}

export const DEMO_CLIENT = {
  clientId: 'demo-app',
  clientSecret: 'demo-secret',
  redirectUri: 'http://127.0.0.1:1/callback',
} as const;

export interface LoopbackAuthServerOptions {
  /** Access token lifetime in seconds (oidc-provider counts whole seconds). */
  accessTokenTtl: number;
  /** Listen on this port (default: any free one). */
  port?: number;
}

export type LoopbackAuthServer = Omit<LoopbackProvider, 'provider'>;

/** The demo's server: one confidential client (DEMO_CLIENT, client_secret_basic). */
export function startLoopbackAuthServer(options: LoopbackAuthServerOptions): Promise<LoopbackAuthServer> {
  return startLoopbackProvider({
    clients: [
      {
        client_id: DEMO_CLIENT.clientId,
        client_secret: DEMO_CLIENT.clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [DEMO_CLIENT.redirectUri],
      },
    ],
    scopes: ['openid', 'offline_access'],
    cookieKey: 'loopback-demo-only',
    ttl: { AccessToken: options.accessTokenTtl, IdToken: 3600 },
    port: options.port,
  });
}
