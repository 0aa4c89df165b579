/**
 * redirectLogin / completeRedirectLogin against a real oidc-provider (R17), in Node with a store
 * standing in for sessionStorage and a person walking the server's pages (test/support/login-user.ts).
 * The same login in a real Chromium, with sessionStorage and full-page redirects, is in
 * test/browser/live-view.test.ts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTokenManager, LoginAlreadyCompletedError } from '../../index.js';
import {
  codeChallengeS256,
  completeRedirectLogin,
  hasRedirectLoginResponse,
  oauth2Endpoint,
  redirectLogin,
  type RedirectLoginStore,
} from '../../adapters/oauth2/index.js';
import { LOGIN_CLIENT, LOGIN_SCOPE, startLoginServer, type LoginServer } from '../support/login-server.js';
import { actAsUser } from '../support/login-user.js';
import { lifecycleRejection } from '../support/rejection.js';

class MemoryStore implements RedirectLoginStore {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

let server: LoginServer;
let app: Server;
let redirectUri: string;

beforeAll(async () => {
  server = await startLoginServer();
  // The app's callback page: the person's walk ends with a GET here.
  app = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<p>app</p>'));
  await new Promise<void>((done) => app.listen(0, '127.0.0.1', done));
  redirectUri = `http://127.0.0.1:${(app.address() as AddressInfo).port}/callback`;
});

afterAll(async () => {
  await server?.stop();
  await new Promise<void>((done) => app.close(() => done()));
});

let store: MemoryStore;
let navigated: string[];
const options = () => ({
  issuer: server.issuer,
  clientId: LOGIN_CLIENT.clientId,
  scope: LOGIN_SCOPE,
  redirectUri,
  authorizationParams: { prompt: 'consent' },
  store,
  navigate: (url: string) => navigated.push(url),
});

beforeEach(() => {
  store = new MemoryStore();
  navigated = [];
});

/** Starts a login and walks the server's pages; resolves to the URL the server redirected back to. */
async function loginUntilCallback(user: { deny?: boolean } = {}): Promise<string> {
  const authorizationUrl = await redirectLogin(options());
  expect(navigated).toEqual([authorizationUrl]);
  const outcome = await actAsUser(authorizationUrl, server.issuer, user);
  expect(outcome.url.startsWith(`${redirectUri}?`)).toBe(true);
  return outcome.url;
}


describe('redirect login (authorization code + PKCE S256 by full-page redirect)', () => {
  it('resolves to the token response, which the manager takes as it is', async () => {
    const callback = await loginUntilCallback();
    expect(hasRedirectLoginResponse(callback)).toBe(true);
    const tokens = await completeRedirectLogin({ ...options(), url: callback });
    expect(typeof tokens.access_token).toBe('string');
    expect(typeof tokens.refresh_token).toBe('string');
    expect(tokens.token_type).toBe('Bearer');

    const manager = createTokenManager({ endpoint: oauth2Endpoint({ issuer: server.issuer, clientId: LOGIN_CLIENT.clientId }) });
    try {
      const set = await manager.setToken('user', tokens);
      expect(set.accessToken).toBe(tokens.access_token);
      expect(manager.status('user').state).toBe('valid');
    } finally {
      await manager.stop();
    }
  });

  it('sends only the S256 challenge; the verifier waits in the store and goes to the token endpoint once', async () => {
    const authorizationUrl = await redirectLogin(options());
    const params = new URL(authorizationUrl).searchParams;
    const pending = JSON.parse(store.getItem('token-lifecycle:redirect-login') ?? '{}') as { verifier: string; state: string };
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('code_challenge')).toBe(await codeChallengeS256(pending.verifier));
    expect(params.get('state')).toBe(pending.state);
    expect(authorizationUrl).not.toContain(pending.verifier);
    expect(params.get('response_type')).toBe('code');
    expect(params.get('redirect_uri')).toBe(redirectUri);
  });

  it('completes exactly once: a second completion of the same redirect is login_already_completed and sends nothing', async () => {
    const callback = await loginUntilCallback();
    const first = completeRedirectLogin({ ...options(), url: callback });
    // Started in the same tick as the first (a double mount): it must not get the pending login too.
    const second = completeRedirectLogin({ ...options(), url: callback });
    const tokensBefore = server.counts.tokenByGrant.authorization_code ?? 0;
    expect(await lifecycleRejection(second)).toBeInstanceOf(LoginAlreadyCompletedError);
    await first;
    // A later completion (a reload of the callback URL) is refused the same way.
    const third = await lifecycleRejection(completeRedirectLogin({ ...options(), url: callback }));
    expect(third.code).toBe('login_already_completed');
    expect(server.counts.tokenByGrant.authorization_code ?? 0).toBe(tokensBefore + 1);
  });

  it('refuses a redirect whose state is not the one sent, and keeps the pending login', async () => {
    const callback = new URL(await loginUntilCallback());
    const exchangesBefore = server.counts.tokenByGrant.authorization_code ?? 0;
    const forged = new URL(callback);
    forged.searchParams.set('state', 'x'.repeat(22));
    const error = await lifecycleRejection(completeRedirectLogin({ ...options(), url: forged.href }));
    expect(error.code).toBe('login_failed');
    expect(error.message).toContain('state');
    expect(server.counts.tokenByGrant.authorization_code ?? 0).toBe(exchangesBefore);
    // The genuine redirect still completes.
    const tokens = await completeRedirectLogin({ ...options(), url: callback.href });
    expect(typeof tokens.access_token).toBe('string');
  });

  it('refuses a redirect when no login is pending in this tab (another tab, cleared storage)', async () => {
    const callback = await loginUntilCallback();
    store = new MemoryStore();
    const error = await lifecycleRejection(completeRedirectLogin({ ...options(), url: callback }));
    expect(error.code).toBe('login_failed');
    expect(error.message).toContain('pending');
  });

  it('turns a refusal by the user into access_denied, with nothing exchanged', async () => {
    const callback = await loginUntilCallback({ deny: true });
    const exchangesBefore = server.counts.tokenByGrant.authorization_code ?? 0;
    const error = await lifecycleRejection(completeRedirectLogin({ ...options(), url: callback }));
    expect(error.code).toBe('access_denied');
    expect(server.counts.tokenByGrant.authorization_code ?? 0).toBe(exchangesBefore);
  });

  it('refuses a redirect naming another issuer (RFC 9207 mix-up defence)', async () => {
    const callback = new URL(await loginUntilCallback());
    expect(callback.searchParams.get('iss')).toBe(server.issuer);
    callback.searchParams.set('iss', 'https://evil.example');
    const error = await lifecycleRejection(completeRedirectLogin({ ...options(), url: callback.href }));
    expect(error.code).toBe('login_failed');
    expect(error.message).toContain('issuer');
  });

  it('never puts the code or the verifier in an error', async () => {
    const callback = new URL(await loginUntilCallback());
    const code = callback.searchParams.get('code') ?? '';
    const verifier = (JSON.parse(store.getItem('token-lifecycle:redirect-login') ?? '{}') as { verifier: string }).verifier;
    // A wrong verifier for this code: the server refuses (invalid_grant), echoing nothing of ours.
    store.setItem('token-lifecycle:redirect-login', JSON.stringify({ ...JSON.parse(store.getItem('token-lifecycle:redirect-login') ?? '{}'), verifier: 'v'.repeat(43) }));
    const error = await lifecycleRejection(completeRedirectLogin({ ...options(), url: callback.href }));
    expect(error.code).toBe('invalid_grant');
    const seen = JSON.stringify([error.message, error.description, String(error.cause)]);
    expect(code.length).toBeGreaterThan(10);
    expect(seen).not.toContain(code);
    expect(seen).not.toContain(verifier);
  });

  it('rejects configuration that is wrong on its face before navigating', async () => {
    const insecure = await lifecycleRejection(redirectLogin({ ...options(), redirectUri: 'http://app.example/callback' }));
    expect(insecure.code).toBe('insecure_endpoint');
    const reserved = await lifecycleRejection(redirectLogin({ ...options(), authorizationParams: { state: 'mine' } }));
    expect(reserved.code).toBe('invalid_config');
    const { navigate: _navigate, ...withoutNavigate } = options();
    const outsideBrowser = await lifecycleRejection(redirectLogin(withoutNavigate));
    expect(outsideBrowser.code).toBe('invalid_config');
    const { store: _store, ...withoutStore } = options();
    const noSessionStorage = await lifecycleRejection(redirectLogin(withoutStore));
    expect(noSessionStorage.code).toBe('invalid_config');
    expect(navigated).toEqual([]);
  });
});
