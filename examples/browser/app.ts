/**
 * The browser example's page (bundled by esbuild, served by ./server.ts next to oidc-provider):
 * log in by redirect (authorization code + PKCE), keep the token fresh with a manager over
 * webStorage, call a protected API with authFetch, and watch the lifecycle live and offline.
 */
import { createTokenManager, derivedCredentials, TokenLifecycleError } from '../../index.js';
import { completeRedirectLogin, hasRedirectLoginResponse, oauth2Endpoint, redirectLogin, tokenExchangeGrant } from '../../adapters/oauth2/index.js';
import { authFetch } from '../../adapters/http/index.js';
import { webStorage } from '../../adapters/storage/web/index.js';
import { fingerprint } from './fingerprint.js';
import { mountCredentialView, mountCredentialViewIn, type CredentialView } from './live-view.js';

/** What the server tells the page (`/config.json`). */
interface ExampleConfig {
  readonly issuer: string;
  readonly clientId: string;
  readonly apiUrl: string;
  /** The demo's fault switches (outage, server-side revocation) are served. */
  readonly controls: boolean;
}

declare global {
  interface Window {
    pageReady?: boolean;
  }
}

const KEY = 'user';
/** Derived from KEY by token exchange for the API (R22): shown nested under it in the live view. */
const API_KEY = 'api';
const $ = (id: string): HTMLElement => document.querySelector(`[data-testid="${id}"]`) as HTMLElement;

function showError(error: unknown): void {
  const text = error instanceof TokenLifecycleError ? `${error.code}: ${error.message}` : String(error);
  $('error').textContent = text;
}

async function main(): Promise<void> {
  const config = (await (await fetch('/config.json')).json()) as ExampleConfig;
  const login = {
    issuer: config.issuer,
    clientId: config.clientId,
    scope: 'openid offline_access',
    redirectUri: `${location.origin}/`,
    // oidc-provider issues a refresh token (offline_access) only after an explicit consent.
    authorizationParams: { prompt: 'consent' },
  };
  const manager = createTokenManager({
    endpoint: oauth2Endpoint({ issuer: config.issuer, clientId: config.clientId, tokenExchange: tokenExchangeGrant() }),
    storage: webStorage({ prefix: 'token-lifecycle-example' }),
    refreshThreshold: '5s',
    retry: { minDelay: '500ms', maxDelay: '2s' },
    derivedCredentials: derivedCredentials(),
  });
  const views = new Map<string, CredentialView>([[KEY, mountCredentialView($('credential'), manager, KEY)]]);

  async function showServing(key = KEY): Promise<void> {
    const current = manager.peekToken(key);
    if (current) views.get(key)?.serving(await fingerprint(current.accessToken));
  }
  manager.subscribe((event) => {
    const view = views.get(event.key);
    if (!view) return;
    view.event(event);
    if (event.type === 'refreshed') void showServing(event.key);
    view.render();
  });
  setInterval(() => views.forEach((view) => view.render()), 200);

  /** The API's credential, exchanged from the user's token (memory only: derived again on each load). */
  async function deriveApiCredential(): Promise<void> {
    if (manager.status(KEY).state === 'idle') return;
    await manager.derive(API_KEY, { from: KEY, audience: config.apiUrl });
    const parent = views.get(KEY);
    if (parent && !views.has(API_KEY)) views.set(API_KEY, mountCredentialViewIn(parent.children, manager, API_KEY));
    await showServing(API_KEY);
  }

  // A session kept from before (webStorage, local area) resumes; a login below replaces it.
  await manager.start();
  if (hasRedirectLoginResponse()) {
    try {
      const tokens = await completeRedirectLogin(login);
      await manager.setToken(KEY, tokens);
    } catch (error) {
      showError(error);
    } finally {
      // The code and state leave the address bar (and the history), whatever happened.
      history.replaceState(null, '', location.pathname);
    }
  }
  await deriveApiCredential().catch(showError);
  await showServing();
  views.forEach((view) => view.render());

  const fetchWithToken = authFetch(manager, { key: KEY });
  const on = (id: string, action: () => Promise<unknown>): void => {
    $(id).addEventListener('click', () => {
      $('error').textContent = '';
      action().catch(showError);
    });
  };
  on('login', () => redirectLogin(login));
  on('call-api', async () => {
    const response = await fetchWithToken(config.apiUrl);
    $('api-result').textContent = `HTTP ${response.status}: ${await response.text()}`;
  });
  on('refresh', async () => {
    await manager.refresh(KEY);
    await showServing();
  });
  on('logout', () => manager.remove(KEY));
  if (config.controls) {
    $('controls').hidden = false;
    const control = (path: string) => async () => {
      const response = await fetch(path, { method: 'POST' });
      $('control-result').textContent = await response.text();
    };
    on('outage-on', control('/control/outage?on=1'));
    on('outage-off', control('/control/outage?on=0'));
    on('revoke', control('/control/revoke'));
  }
  window.pageReady = true;
}

main().catch(showError);
