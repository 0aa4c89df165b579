/**
 * A real authorization server for the interactive logins: oidc-provider 9 on loopback (the examples'
 * core, as test/support/oidc-server.ts) with the device flow (RFC 8628) and DPoP (RFC 9449) on, a
 * native public client whose loopback redirect may use any port (RFC 8252 §7.3), request counts and
 * fault injection. Separate from oidc-server.ts so no other test's server changes.
 *
 * oidc-provider's device authorization response has no `interval` (so clients poll every 5 s); this
 * server says `interval: 1` (`deviceInterval`), as a server may, to keep the tests at seconds.
 */
import { randomBytes } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { ClientMetadata, KoaContext, Middleware } from 'oidc-provider';
import { startLoopbackProvider } from '../../examples/support/auth-server.js';
import { FaultInjector, type Fault, type RequestCounts } from './fault-injection.js';

export const LOGIN_CLIENT = {
  /** Public native client: device code, authorization code (loopback, any port) and refresh token. */
  clientId: 'login-cli',
  redirectUri: 'http://127.0.0.1/callback',
} as const;

export const LOGIN_SCOPE = 'openid offline_access';

export interface LoginServerOptions {
  /** Seconds the device authorization response asks between polls (default 1; `null`: none given). */
  deviceInterval?: number | null;
  /** Device code lifetime in seconds (default 600). */
  deviceCodeTtl?: number;
  /** Access token lifetime in seconds (default 60). */
  accessTokenTtl?: number;
  /** The server demands a `DPoP-Nonce` in every proof (RFC 9449 §8). */
  requireDpopNonce?: boolean;
  /** More clients, registered next to LOGIN_CLIENT. */
  clients?: ClientMetadata[];
}

/** What the server saw of DPoP: proofs per path, and the `use_dpop_nonce` challenges it sent. */
export interface DpopCounts {
  readonly proofsByPath: Readonly<Record<string, number>>;
  readonly nonceChallenges: number;
  /** Token responses by `token_type`. */
  readonly tokenTypes: Readonly<Record<string, number>>;
}

export interface LoginServer {
  readonly issuer: string;
  readonly provider: Provider;
  readonly counts: RequestCounts;
  readonly dpop: DpopCounts;
  /** The server's own reasons for refusing grants (`grant.error`): hidden from clients. */
  readonly grantErrors: string[];
  injectFault(path: string, fault: Fault): void;
  stop(): Promise<void>;
}

export async function startLoginServer(options: LoginServerOptions = {}): Promise<LoginServer> {
  const faults = new FaultInjector();
  const proofsByPath = new Map<string, number>();
  const tokenTypes = new Map<string, number>();
  let nonceChallenges = 0;
  const interval = options.deviceInterval === undefined ? 1 : options.deviceInterval;

  const observe: Middleware = async (ctx, next) => {
    if (ctx.req.headers.dpop !== undefined) proofsByPath.set(ctx.path, (proofsByPath.get(ctx.path) ?? 0) + 1);
    await next();
    const body = ctx.body as Record<string, unknown> | undefined;
    if (ctx.path === '/device/auth' && ctx.status === 200 && body && interval !== null) ctx.body = { ...body, interval };
    if (ctx.path === '/token' && ctx.status === 200 && typeof body?.token_type === 'string') {
      tokenTypes.set(body.token_type, (tokenTypes.get(body.token_type) ?? 0) + 1);
    }
    if (isNonceChallenge(ctx)) nonceChallenges += 1;
  };
  const middleware: Middleware = (ctx, next) => faults.middleware(ctx, () => observe(ctx, next));

  // Not an object literal: the examples' type for `features` names `enabled` only.
  const dPoP = {
    enabled: true,
    nonceSecret: randomBytes(32),
    requireNonce: () => options.requireDpopNonce === true,
  };
  const deviceFlow = { enabled: true };
  const features: Record<string, { enabled: boolean }> = { deviceFlow, dPoP, introspection: { enabled: true } };

  const loopback = await startLoopbackProvider({
    clients: [
      {
        client_id: LOGIN_CLIENT.clientId,
        token_endpoint_auth_method: 'none',
        application_type: 'native',
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [LOGIN_CLIENT.redirectUri],
      },
      ...(options.clients ?? []),
    ],
    scopes: ['openid', 'offline_access', 'api'],
    cookieKey: 'login-tests-only',
    ttl: {
      AccessToken: options.accessTokenTtl ?? 60,
      IdToken: 60,
      ...(options.deviceCodeTtl === undefined ? {} : { DeviceCode: options.deviceCodeTtl }),
    } as { AccessToken: number; IdToken: number },
    features,
    middleware,
  });
  const grantErrors: string[] = [];
  loopback.provider.on('grant.error', (...args: unknown[]) => {
    const error = args[1] as { error_detail?: string; message?: string } | undefined;
    grantErrors.push(error?.error_detail ?? error?.message ?? 'unknown');
  });

  return {
    issuer: loopback.issuer,
    provider: loopback.provider,
    counts: faults.counts,
    dpop: {
      get proofsByPath() {
        return Object.fromEntries(proofsByPath);
      },
      get nonceChallenges() {
        return nonceChallenges;
      },
      get tokenTypes() {
        return Object.fromEntries(tokenTypes);
      },
    },
    grantErrors,
    injectFault: (path, fault) => faults.inject(path, fault),
    async stop() {
      faults.cancelDelays();
      await loopback.stop();
    },
  };
}

function isNonceChallenge(ctx: KoaContext): boolean {
  const body = ctx.body as { error?: unknown } | undefined;
  const header = ctx.res.getHeader('www-authenticate');
  return body?.error === 'use_dpop_nonce' || (typeof header === 'string' && header.includes('use_dpop_nonce'));
}
