/**
 * A real authorization server on loopback for examples (and, if wanted, tests): oidc-provider 9
 * in-process on 127.0.0.1 with short-lived access tokens, refresh-token rotation on every use,
 * revocation and devInteractions (so a login needs no browser). Minimal on purpose; the test harness
 * in test/support/oidc-server.ts adds fault injection and request counts.
 *
 * oidc-provider is a devDependency and ships no types: it is loaded with a dynamic import through a
 * variable specifier (typed by the small interface below), so compiling examples/ needs neither its
 * types nor the test tree's ambient declaration, and the library itself never depends on it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silenceOidcProviderNotices } from './quiet.js';

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

export interface LoopbackAuthServer {
  /** `http://127.0.0.1:<port>`. */
  readonly issuer: string;
  readonly port: number;
  /** An outage: the port stops listening and open connections are dropped. */
  pause(): Promise<void>;
  /** Listens again on the same port, with the same state (grants, tokens). */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/** The part of oidc-provider's API used here. */
interface ProviderInstance {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
}
type ProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => ProviderInstance;

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

export async function startLoopbackAuthServer(options: LoopbackAuthServerOptions): Promise<LoopbackAuthServer> {
  silenceOidcProviderNotices();
  const specifier: string = 'oidc-provider';
  const { default: Provider } = (await import(specifier)) as { default: ProviderConstructor };
  const server = createServer();
  const port = await listen(server, options.port ?? 0);
  const issuer = `http://127.0.0.1:${port}`;

  const provider = new Provider(issuer, {
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
    findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
    cookies: { keys: ['loopback-demo-only'] },
    ttl: {
      AccessToken: options.accessTokenTtl,
      RefreshToken: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    // Rotate on every use (also for confidential clients), as strict servers do.
    rotateRefreshToken: true,
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(grant: string): boolean }, code: { scopes: Set<string> }) =>
      client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    features: { devInteractions: { enabled: true }, revocation: { enabled: true } },
  });
  server.on('request', provider.callback());

  return {
    issuer,
    port,
    pause: () => close(server),
    async resume() {
      if (!server.listening) await listen(server, port);
    },
    stop: () => close(server),
  };
}
