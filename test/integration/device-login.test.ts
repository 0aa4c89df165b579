/**
 * deviceLogin (RFC 8628) against a real oidc-provider with the device flow on: the test plays the
 * user in parallel (opens the verification page, enters or confirms the code, logs in, consents).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceLogin, type DevicePrompt } from '../../adapters/oauth2/index.js';
import { createTokenManager } from '../../machines/manager/manager.js';
import { oauth2Endpoint } from '../../adapters/oauth2/endpoint.js';
import { AccessDeniedError, ExpiredTokenError } from '../../machines/lifecycle/errors.js';
import { LOGIN_CLIENT, LOGIN_SCOPE, startLoginServer, type LoginServer } from '../support/login-server.js';
import { actAsUser, type UserOptions, type UserOutcome } from '../support/login-user.js';

let server: LoginServer;
beforeAll(async () => {
  server = await startLoginServer();
});
afterAll(() => server?.stop());

/** deviceLogin with the user acting as soon as the prompt appears; resolves to both outcomes. */
async function loginWithUser(user: UserOptions & { complete?: boolean } = {}) {
  let prompt: DevicePrompt | undefined;
  let acted: Promise<UserOutcome> | undefined;
  const login = deviceLogin({
    issuer: server.issuer,
    clientId: LOGIN_CLIENT.clientId,
    scope: LOGIN_SCOPE,
    onPrompt(p) {
      prompt = p;
      const start = user.complete === false ? p.verificationUri : (p.verificationUriComplete ?? p.verificationUri);
      acted = actAsUser(start, server.issuer, { ...user, userCode: p.userCode });
    },
  });
  const tokens = await login.catch((error: unknown) => error);
  return { tokens, prompt, outcome: await acted };
}

describe('deviceLogin against oidc-provider', () => {
  it('the user confirms through verification_uri_complete: tokens with a refresh token, ready for setToken', async () => {
    const { tokens, prompt, outcome } = await loginWithUser();
    expect(prompt?.verificationUri).toBe(`${server.issuer}/device`);
    expect(prompt?.verificationUriComplete).toContain('user_code=');
    expect(prompt?.userCode).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
    expect(prompt?.interval).toBe(1000);
    expect(outcome?.text).toContain('Sign-in Success');
    expect(tokens).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String), refresh_token: expect.any(String) });

    const manager = createTokenManager({ endpoint: oauth2Endpoint({ issuer: server.issuer, clientId: LOGIN_CLIENT.clientId }) });
    await manager.setToken('default', tokens as Record<string, unknown>);
    expect((await manager.refresh('default')).accessToken).not.toBe((tokens as { access_token: string }).access_token);
    await manager.stop();
  });

  it('the user types the code at the bare verification_uri', async () => {
    const { tokens, outcome } = await loginWithUser({ complete: false });
    expect(outcome?.visited.some((v) => v.startsWith('POST') && v.endsWith('/device'))).toBe(true);
    expect(tokens).toMatchObject({ access_token: expect.any(String) });
  });

  it('the user aborts: access_denied, a typed error', async () => {
    const { tokens } = await loginWithUser({ deny: true });
    expect(tokens).toBeInstanceOf(AccessDeniedError);
    expect(tokens).toMatchObject({ code: 'access_denied', status: 400 });
  });

  it('nobody confirms before the code expires: expired_token', async () => {
    const short = await startLoginServer({ deviceCodeTtl: 2 });
    try {
      let prompted = 0;
      const error = await deviceLogin({
        issuer: short.issuer,
        clientId: LOGIN_CLIENT.clientId,
        scope: LOGIN_SCOPE,
        onPrompt: () => (prompted += 1),
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ExpiredTokenError);
      expect(prompted).toBe(1);
      // It polled while pending, then stopped: the polls are bounded by the code's lifetime.
      expect(short.counts.tokenByGrant['urn:ietf:params:oauth:grant-type:device_code']).toBeGreaterThanOrEqual(1);
      expect(short.counts.tokenByGrant['urn:ietf:params:oauth:grant-type:device_code']).toBeLessThanOrEqual(2);
    } finally {
      await short.stop();
    }
  });

  it('an abort ends the polling with the signal reason', async () => {
    const controller = new AbortController();
    const error = await deviceLogin({
      issuer: server.issuer,
      clientId: LOGIN_CLIENT.clientId,
      signal: controller.signal,
      onPrompt: () => controller.abort(new Error('user pressed ctrl-c')),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ message: 'user pressed ctrl-c' });
  });
});
