/**
 * Managers for the commands that need one, loaded lazily (XState, ky): the offline `token get` never
 * imports this module. Every CLI manager runs with `backgroundRefresh: false`: in a short-lived
 * process no timer starts a request; only an explicit `getToken`/`refresh`/`remove` goes out.
 */
import { createTokenManager } from '../../machines/manager/manager.js';
import type { TokenManager } from '../../machines/manager/api-types.js';
import { InvalidConfigError } from '../../machines/lifecycle/errors.js';
import type { TokenEndpoint, TokenStorage } from '../../machines/lifecycle/types.js';
import { oauth2Endpoint } from '../oauth2/endpoint.js';
import { endpointOptions } from './endpoint-config.js';
import type { CliSettings } from './settings.js';

/** For commands that must not reach the server (`status`, `set`, `delete --no-revoke`): any request is refused. */
const noNetwork: TokenEndpoint = {
  refresh: () => Promise.reject(new InvalidConfigError('this command sends no request to the token server')),
};

function manager(settings: CliSettings, storage: TokenStorage, endpoint: TokenEndpoint): TokenManager {
  return createTokenManager({ endpoint, storage, refreshThreshold: settings.thresholdMs, backgroundRefresh: false });
}

export function offlineManager(settings: CliSettings, storage: TokenStorage): TokenManager {
  return manager(settings, storage, noNetwork);
}

/** A manager with the configured `oauth2Endpoint`; `why` names the command in configuration errors. */
export async function onlineManager(settings: CliSettings, storage: TokenStorage, why: string): Promise<TokenManager> {
  return manager(settings, storage, oauth2Endpoint(await endpointOptions(settings.endpoint, why)));
}

/** Stops a manager; a failure to persist refreshed tokens is returned, not thrown (the caller reports it). */
export async function stopQuietly(tokens: TokenManager): Promise<unknown> {
  try {
    await tokens.stop();
    return undefined;
  } catch (error) {
    return error;
  }
}
