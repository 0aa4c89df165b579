/**
 * deviceLogin's polling rules (RFC 8628 §3.4–3.5) on a simulated clock with a scripted server:
 * the interval, `slow_down` (+5 s, kept), `authorization_pending`, transient failures (backoff),
 * local expiry, abort, and the checks on the device authorization response.
 */
import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { deviceLogin, type DevicePrompt } from '../../../adapters/oauth2/device-login.js';
import { clientSecretJwt } from '../../../adapters/oauth2/client-assertion.js';
import { AccessDeniedError, ExpiredTokenError, InvalidConfigError, LoginFailedError } from '../../../machines/lifecycle/errors.js';

const ISSUER = 'https://as.example';
type Reply = { status: number; body: unknown } | 'network';

/** A scripted server: the device authorization answer, then one reply per poll (times recorded). */
function scriptedServer(clock: SimulatedClock, authorization: Record<string, unknown>, polls: Reply[]) {
  const pollTimes: number[] = [];
  const pollBodies: URLSearchParams[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.pathname === '/device/auth') return Response.json(authorization);
    pollTimes.push(clock.now());
    pollBodies.push(new URLSearchParams(await request.text()));
    const reply = polls.shift() ?? { status: 400, body: { error: 'authorization_pending' } };
    if (reply === 'network') throw new TypeError('fetch failed');
    return Response.json(reply.body, { status: reply.status });
  };
  return { fetch: fetch as typeof globalThis.fetch, pollTimes, pollBodies };
}

const AUTHORIZATION = {
  device_code: 'DEVICE-CODE-SECRET',
  user_code: 'ABCD-EFGH',
  verification_uri: 'https://as.example/device',
  verification_uri_complete: 'https://as.example/device?user_code=ABCD-EFGH',
  expires_in: 60,
  interval: 2,
};
const TOKENS = { access_token: 'AT', token_type: 'Bearer', refresh_token: 'RT', expires_in: 300 };

/** Runs the login, moving the simulated clock in 1 s steps until it settles. */
async function drive<T>(clock: SimulatedClock, login: Promise<T>, maxSeconds = 120): Promise<T | unknown> {
  let settled = false;
  const result = login.then(
    (value) => value,
    (error: unknown) => error,
  ).finally(() => (settled = true));
  for (let i = 0; i < maxSeconds * 10 && !settled; i++) {
    for (let j = 0; j < 5; j++) await new Promise((resolve) => setImmediate(resolve));
    if (!settled) clock.increment(100);
  }
  return result;
}

function start(clock: SimulatedClock, authorization: Record<string, unknown>, polls: Reply[], extra: Partial<Parameters<typeof deviceLogin>[0]> = {}) {
  const server = scriptedServer(clock, authorization, polls);
  const prompts: DevicePrompt[] = [];
  const login = deviceLogin({
    issuer: ISSUER,
    deviceAuthorizationUrl: `${ISSUER}/device/auth`,
    tokenUrl: `${ISSUER}/token`,
    clientId: 'cli',
    scope: 'openid offline_access',
    clock,
    fetch: server.fetch,
    onPrompt: (p) => prompts.push(p),
    ...extra,
  });
  return { server, prompts, login };
}

describe('deviceLogin client authentication', () => {
  it('takes the clientAssertion option as oauth2Endpoint does (client_secret_jwt: an assertion, never the secret)', async () => {
    const clock = new SimulatedClock();
    const { server, login } = start(clock, AUTHORIZATION, [{ status: 200, body: TOKENS }], { clientSecret: 'login-secret', clientAssertion: clientSecretJwt() });
    expect(await drive(clock, login)).toEqual(TOKENS);
    expect(server.pollBodies[0]?.get('client_assertion')?.split('.')).toHaveLength(3);
    expect(server.pollBodies[0]?.has('client_secret')).toBe(false);
  });
});

describe('deviceLogin polling (RFC 8628 §3.4, §3.5)', () => {
  it('polls at the server interval while pending, then resolves to the token response', async () => {
    const clock = new SimulatedClock();
    const { server, prompts, login } = start(clock, AUTHORIZATION, [
      { status: 400, body: { error: 'authorization_pending' } },
      { status: 400, body: { error: 'authorization_pending' } },
      { status: 200, body: TOKENS },
    ]);
    expect(await drive(clock, login)).toEqual(TOKENS);
    expect(server.pollTimes).toEqual([2000, 4000, 6000]);
    expect(server.pollBodies[0]?.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:device_code');
    expect(server.pollBodies[0]?.get('device_code')).toBe('DEVICE-CODE-SECRET');
    expect(server.pollBodies[0]?.get('client_id')).toBe('cli');
    expect(prompts).toEqual([
      {
        verificationUri: AUTHORIZATION.verification_uri,
        verificationUriComplete: AUTHORIZATION.verification_uri_complete,
        userCode: 'ABCD-EFGH',
        expiresAt: 60_000,
        interval: 2000,
      },
    ]);
  });

  it('slow_down adds 5 s to the interval, for every later poll too', async () => {
    const clock = new SimulatedClock();
    const { server, login } = start(clock, AUTHORIZATION, [
      { status: 400, body: { error: 'slow_down' } },
      { status: 400, body: { error: 'authorization_pending' } },
      { status: 400, body: { error: 'slow_down' } },
      { status: 200, body: TOKENS },
    ]);
    expect(await drive(clock, login)).toEqual(TOKENS);
    // 2 s; then 7 s; 7 s again; then 12 s.
    expect(server.pollTimes).toEqual([2000, 9000, 16000, 28000]);
  });

  it('without an interval in the response, polls every 5 s (RFC 8628 §3.2 default)', async () => {
    const clock = new SimulatedClock();
    const { interval: _omitted, ...noInterval } = AUTHORIZATION;
    const { server, login } = start(clock, noInterval, [{ status: 400, body: { error: 'authorization_pending' } }, { status: 200, body: TOKENS }]);
    await drive(clock, login);
    expect(server.pollTimes).toEqual([5000, 10000]);
  });

  it('a network failure doubles the interval and polling goes on', async () => {
    const clock = new SimulatedClock();
    const { server, login } = start(clock, AUTHORIZATION, ['network', { status: 503, body: {} }, { status: 200, body: TOKENS }]);
    expect(await drive(clock, login)).toEqual(TOKENS);
    expect(server.pollTimes).toEqual([2000, 6000, 14000]);
  });

  it('access_denied ends the login with AccessDeniedError', async () => {
    const clock = new SimulatedClock();
    const { login } = start(clock, AUTHORIZATION, [{ status: 400, body: { error: 'access_denied' } }]);
    const error = await drive(clock, login);
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect(JSON.stringify(error)).not.toContain('DEVICE-CODE-SECRET');
  });

  it('expired_token from the server ends the login with ExpiredTokenError', async () => {
    const clock = new SimulatedClock();
    const { login } = start(clock, AUTHORIZATION, [{ status: 400, body: { error: 'expired_token' } }]);
    expect(await drive(clock, login)).toBeInstanceOf(ExpiredTokenError);
  });

  it('stops polling at expires_in even if the server keeps saying pending', async () => {
    const clock = new SimulatedClock();
    const { server, login } = start(clock, { ...AUTHORIZATION, expires_in: 7 }, []);
    expect(await drive(clock, login)).toBeInstanceOf(ExpiredTokenError);
    expect(server.pollTimes).toEqual([2000, 4000, 6000]);
  });

  it('another error code from the token endpoint is its typed error, not retried', async () => {
    const clock = new SimulatedClock();
    const { server, login } = start(clock, AUTHORIZATION, [{ status: 400, body: { error: 'invalid_client' } }]);
    expect(await drive(clock, login)).toMatchObject({ code: 'invalid_client' });
    expect(server.pollTimes).toHaveLength(1);
  });

  it('an abort during the wait rejects at once with the reason, and nothing more is sent', async () => {
    const clock = new SimulatedClock();
    const controller = new AbortController();
    const { server, login } = start(clock, AUTHORIZATION, [], { signal: controller.signal });
    const outcome = login.catch((e: unknown) => e);
    for (let j = 0; j < 10; j++) await new Promise((resolve) => setImmediate(resolve));
    controller.abort(new Error('stop'));
    expect(await outcome).toMatchObject({ message: 'stop' });
    clock.increment(10_000);
    expect(server.pollTimes).toEqual([]);
  });
});

describe('the device authorization response (RFC 8628 §3.2)', () => {
  it.each([
    ['device_code', { device_code: '' }],
    ['user_code', { user_code: 42 }],
    ['verification_uri', { verification_uri: 'javascript:alert(1)' }],
    ['expires_in', { expires_in: 'soon' }],
    ['interval', { interval: -1 }],
  ])('a bad %s is login_failed, naming the field', async (field, patch) => {
    const clock = new SimulatedClock();
    const { prompts, login } = start(clock, { ...AUTHORIZATION, ...patch }, []);
    const error = await drive(clock, login);
    expect(error).toBeInstanceOf(LoginFailedError);
    expect((error as Error).message).toContain(field);
    expect(prompts).toHaveLength(0);
  });

  it('a verification_uri_complete that is not a web URL is not shown', async () => {
    const clock = new SimulatedClock();
    const { prompts, login } = start(clock, { ...AUTHORIZATION, verification_uri_complete: 'file:///etc/passwd' }, [{ status: 200, body: TOKENS }]);
    await drive(clock, login);
    expect(prompts[0]?.verificationUriComplete).toBeUndefined();
  });

  it('onPrompt is required: without it nobody could see the code', async () => {
    await expect(deviceLogin({ issuer: ISSUER, clientId: 'cli' } as never)).rejects.toBeInstanceOf(InvalidConfigError);
  });
});
