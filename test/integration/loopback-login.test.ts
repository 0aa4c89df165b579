/**
 * loopbackLogin (RFC 8252 §7.3 + PKCE S256) against a real oidc-provider: the test plays the browser,
 * following the authorization URL through devInteractions to the login's own 127.0.0.1 listener.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopbackLogin } from '../../adapters/oauth2-node/index.js';
import { AccessDeniedError, LoginTimeoutError } from '../../machines/lifecycle/errors.js';
import { LOGIN_CLIENT, LOGIN_SCOPE, startLoginServer, type LoginServer } from '../support/login-server.js';
import { actAsUser, type UserOptions, type UserOutcome } from '../support/login-user.js';

let server: LoginServer;
beforeAll(async () => {
  server = await startLoginServer();
});
afterAll(() => server?.stop());

async function loginWithBrowser(user: UserOptions = {}, before?: (url: URL) => Promise<void>) {
  let acted: Promise<UserOutcome> | undefined;
  let authorizationUrl: URL | undefined;
  const tokens = await loopbackLogin({
    issuer: server.issuer,
    clientId: LOGIN_CLIENT.clientId,
    scope: LOGIN_SCOPE,
    authorizationParams: { prompt: 'consent' },
    async onAuthorizationUrl(url) {
      authorizationUrl = new URL(url);
      await before?.(authorizationUrl);
      acted = actAsUser(url, server.issuer, user);
    },
  }).catch((error: unknown) => error);
  return { tokens, authorizationUrl, outcome: await acted };
}

describe('loopbackLogin against oidc-provider', () => {
  it('code + PKCE S256 through a random 127.0.0.1 port; one success page; tokens for setToken', async () => {
    const { tokens, authorizationUrl, outcome } = await loginWithBrowser();
    const params = authorizationUrl?.searchParams;
    expect(params?.get('code_challenge_method')).toBe('S256');
    expect(params?.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params?.get('state')).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const redirect = new URL(params?.get('redirect_uri') ?? '');
    expect(redirect.hostname).toBe('127.0.0.1');
    expect(Number(redirect.port)).toBeGreaterThan(0);
    expect(outcome?.status).toBe(200);
    expect(outcome?.text).toContain('You are logged in');
    expect(tokens).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String), refresh_token: expect.any(String) });

    // The listener is closed: the port refuses connections.
    await expect(fetch(redirect)).rejects.toThrow();
  });

  it('a request with the wrong state is refused and the login goes on waiting for the real redirect', async () => {
    let forged: Response | undefined;
    const { tokens } = await loginWithBrowser({}, async (url) => {
      const redirect = new URL(url.searchParams.get('redirect_uri') ?? '');
      redirect.search = new URLSearchParams({ code: 'attacker-code', state: 'not-the-state' }).toString();
      forged = await fetch(redirect);
    });
    expect(forged?.status).toBe(400);
    expect(tokens).toMatchObject({ access_token: expect.any(String) });
  });

  it('the user cancels: access_denied, and the browser is told the login failed', async () => {
    const { tokens, outcome } = await loginWithBrowser({ deny: true });
    expect(tokens).toBeInstanceOf(AccessDeniedError);
    expect(outcome?.status).toBe(400);
    expect(outcome?.text).toContain('Login failed');
  });

  it('nobody comes back: login_timeout, and the port is closed', async () => {
    let redirect: URL | undefined;
    const error = await loopbackLogin({
      issuer: server.issuer,
      clientId: LOGIN_CLIENT.clientId,
      waitTimeout: '300ms',
      onAuthorizationUrl: (url) => {
        redirect = new URL(new URL(url).searchParams.get('redirect_uri') ?? '');
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoginTimeoutError);
    await expect(fetch(redirect as URL)).rejects.toThrow();
  });
});
