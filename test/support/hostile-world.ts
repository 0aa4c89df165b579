/**
 * A manager over `oauth2Endpoint` pointed at a hostile server, with everything it emits collected:
 * errors (whole cause chains, every rendering), events, `status()`, the actor's snapshot, inspection
 * events raw and through `withRedaction`. `secrets` is every secret the test knows.
 */
import { randomBytes } from 'node:crypto';
import { withRedaction } from '../../adapters/inspect/index.js';
import { oauth2Endpoint, type OAuth2EndpointOptions } from '../../adapters/oauth2/index.js';
import { basicAuthorization } from '../../adapters/oauth2/client-auth.js';
import { createTokenManager } from '../../machines/manager/manager.js';
import type { TokenManager } from '../../machines/manager/api-types.js';
import type { RetryOptions, TokenStorage } from '../../machines/lifecycle/types.js';
import type { HostileServer } from './hostile-server.js';
import { EmissionLog } from './secret-scan.js';

export const CLIENT_ID = 'hostile-client';

/** A distinctive random secret: `prefix-` and 24 base64url characters (VSCHAR, as tokens are). */
export function secretValue(prefix: string): string {
  return `${prefix}-${randomBytes(18).toString('base64url')}`;
}

export interface HostileWorld {
  readonly manager: TokenManager;
  readonly log: EmissionLog;
  readonly secrets: Map<string, string>;
  /** Runs `action`, recording its rejection (a result is what the caller asked for: not recorded). */
  attempt(where: string, action: () => Promise<unknown>): Promise<unknown>;
  /** Records status(), the actor's snapshot and its context. */
  observe(key?: string): void;
  stop(): Promise<void>;
}

export async function hostileWorld(
  server: HostileServer,
  options: {
    endpoint?: Partial<OAuth2EndpointOptions>;
    storage?: TokenStorage;
    key?: string;
    expiresIn?: number;
    managerRetry?: RetryOptions;
    stopTimeout?: number;
  } = {},
): Promise<HostileWorld> {
  const clientSecret = secretValue('cs');
  const refreshToken = secretValue('rt');
  const accessToken = secretValue('at');
  const idToken = secretValue('it');
  const secrets = new Map<string, string>([
    ['client_secret', clientSecret],
    ['basic_credentials', basicAuthorization(CLIENT_ID, clientSecret).slice('Basic '.length)],
    ['refresh_token', refreshToken],
    ['access_token', accessToken],
    ['id_token', idToken],
  ]);
  const log = new EmissionLog();
  const redactedView = withRedaction((event) => log.add('inspector (withRedaction)', JSON.stringify(event)));
  const endpoint = oauth2Endpoint({
    tokenUrl: server.tokenUrl,
    revocationUrl: server.revocationUrl,
    clientId: CLIENT_ID,
    clientSecret,
    timeout: '2s',
    ...options.endpoint,
  });
  const manager = createTokenManager({
    endpoint,
    ...(options.storage ? { storage: options.storage } : {}),
    backgroundRefresh: false,
    minRefreshInterval: 0,
    retry: options.managerRetry ?? { minDelay: 1, maxDelay: 5 },
    ...(options.stopTimeout === undefined ? {} : { stopTimeout: options.stopTimeout }),
    inspect: (event) => {
      log.addReachable('inspector (raw)', event);
      redactedView(event);
    },
  });
  manager.subscribe((event) => log.add(`event ${event.type}`, event));
  const key = options.key ?? 'default';
  await manager.setToken(key, {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: options.expiresIn ?? 0,
    refresh_token: refreshToken,
    id_token: idToken,
  });
  return {
    manager,
    log,
    secrets,
    async attempt(where, action) {
      try {
        return await action();
      } catch (error) {
        log.add(where, error);
        return error;
      }
    },
    observe(k = key) {
      log.add('status()', manager.status(k));
      const snapshot = manager.actor(k).getSnapshot();
      log.add('actor snapshot (JSON)', JSON.stringify(snapshot));
      log.addReachable('actor snapshot', snapshot);
      log.add('actor snapshot context', snapshot.context);
    },
    stop: () => manager.stop(),
  };
}
