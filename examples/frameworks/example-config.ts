/**
 * What the React and Vue examples share: the server's `/config.json` (examples/browser/server.ts
 * serves it next to oidc-provider), the manager they build from it, and the login's options.
 */
import { createTokenManager, TokenLifecycleError, type TokenManager } from '../../index.js';
import { oauth2Endpoint, type RedirectLoginOptions } from '../../adapters/oauth2/index.js';
import { webStorage } from '../../adapters/storage/web/index.js';

export interface ExampleConfig {
  readonly issuer: string;
  readonly clientId: string;
  readonly apiUrl: string;
  /** The demo's fault switches (outage, server-side revocation) are served. */
  readonly controls: boolean;
}

/** The credentials the page shows a badge for (one login here; a second API's key would go beside it). */
export const CREDENTIALS = ['user'] as const;
export const USER = CREDENTIALS[0];

export async function loadConfig(): Promise<ExampleConfig> {
  return (await (await fetch('/config.json')).json()) as ExampleConfig;
}

export function exampleManager(config: ExampleConfig, storagePrefix: string): TokenManager {
  return createTokenManager({
    endpoint: oauth2Endpoint({ issuer: config.issuer, clientId: config.clientId }),
    storage: webStorage({ prefix: storagePrefix }),
    refreshThreshold: '5s',
    retry: { minDelay: '500ms', maxDelay: '2s' },
  });
}

export function loginOptions(config: ExampleConfig): RedirectLoginOptions {
  return {
    issuer: config.issuer,
    clientId: config.clientId,
    scope: 'openid offline_access',
    redirectUri: `${location.origin}/`,
    // oidc-provider issues a refresh token (offline_access) only after an explicit consent.
    authorizationParams: { prompt: 'consent' },
  };
}

/** An error as a line: a typed error's stable code first, never a token. */
export function errorText(error: unknown): string {
  return error instanceof TokenLifecycleError ? `${error.code}: ${error.message}` : String(error);
}

/** `3.2 s`, `now`, or `—` when there is no such moment. */
export function secondsUntil(at: number | undefined, now: number, past = 'now'): string {
  if (at === undefined) return '—';
  const ms = at - now;
  return ms <= 0 ? past : `${(ms / 1000).toFixed(1)} s`;
}

/** Posts to one of the demo server's fault switches; resolves to its answer. */
export async function control(path: string): Promise<string> {
  return (await fetch(path, { method: 'POST' })).text();
}
