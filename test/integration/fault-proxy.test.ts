/**
 * The manager against a real oidc-provider through a fault-injecting proxy (issue 8): refused
 * connections, resets, stalls, 5xx, 429 with and without Retry-After, truncated JSON, HTML error
 * pages, a 200 without access_token, invalid_grant for a valid refresh token, and slow answers.
 *
 * Each transient fault must leave the credential degraded while its token is valid, recover by
 * itself, and lose no rotated refresh token: the last step of every test is a refresh the server
 * accepts (oidc-provider revokes the whole grant when a spent refresh token comes back, so a manager
 * holding a stale one would get invalid_grant there). Only invalid_grant leads to re-authentication.
 * No token value may appear in any event, error or status (R13).
 *
 * Real time: access tokens live 60 s (no background refresh starts during a test unless a test makes
 * the token short), retries start after 150 ms, the endpoint times out after 400 ms.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { oauth2Endpoint, type OAuth2Endpoint } from '../../adapters/oauth2/index.js';
import { TokenLifecycleError } from '../../machines/lifecycle/errors.js';
import { createTokenManager } from '../../machines/manager/manager.js';
import type { TokenEvent, TokenManager, TokenManagerOptions } from '../../machines/manager/api-types.js';
import { memoryStorage } from '../../machines/manager/memory-storage.js';
import type { TokenStorage } from '../../machines/lifecycle/types.js';
import { startFaultProxy, type FaultProxy, type ProxyFault } from '../support/fault-proxy.js';
import { nextEvent, waitUntil } from '../support/lifecycle-helpers.js';
import { CLIENTS, startAuthServer, type AuthServer } from '../support/oidc-server.js';

let server: AuthServer;
let proxy: FaultProxy;
/** Straight to the server: logins and the final checks. */
let direct: OAuth2Endpoint;
/** Through the proxy: what the managers use. */
let viaProxy: OAuth2Endpoint;
const managers: TokenManager[] = [];
/** Every secret seen in a test: none may show up in events, errors or status. */
const secrets = new Set<string>([CLIENTS.confidential.clientSecret]);

beforeAll(async () => {
  server = await startAuthServer({ ttl: { AccessToken: 60 } });
  proxy = await startFaultProxy(server.issuer);
  direct = oauth2Endpoint({ tokenUrl: server.tokenUrl, ...CLIENTS.confidential });
  viaProxy = oauth2Endpoint({ tokenUrl: `${proxy.url}/token`, ...CLIENTS.confidential, timeout: '400ms' });
});

afterEach(async () => {
  proxy.clearFaults();
  await proxy.up();
  await Promise.allSettled(managers.splice(0).map((m) => m.stop()));
});

afterAll(async () => {
  await proxy?.stop();
  await server?.stop();
});

function remember(value: unknown): void {
  if (typeof value === 'string' && value.length >= 8) secrets.add(value);
}

/** A fresh grant, as after a login: a real token response (its refresh token already rotated once). */
async function login(): Promise<Record<string, unknown>> {
  const response = (await direct.refresh(await server.mintRefreshToken())) as Record<string, unknown>;
  for (const field of ['access_token', 'refresh_token', 'id_token']) remember(response[field]);
  return response;
}

interface Harness {
  readonly m: TokenManager;
  readonly events: TokenEvent[];
  readonly reauth: Array<[string, string]>;
  readonly storage: TokenStorage;
}

function harness(options: Partial<TokenManagerOptions> = {}): Harness {
  const events: TokenEvent[] = [];
  const reauth: Array<[string, string]> = [];
  const storage = options.storage ?? memoryStorage();
  const m = createTokenManager({
    endpoint: viaProxy,
    storage,
    refreshThreshold: '10s',
    minRefreshInterval: '50ms',
    retry: { minDelay: '150ms', maxDelay: '400ms', jitter: 0, maxRetryAfter: '10s' },
    onReauthRequired: (key, reason) => reauth.push([key, reason]),
    ...options,
  });
  m.subscribe((event) => events.push(event));
  managers.push(m);
  return { m, events, reauth, storage };
}

async function failure(promise: Promise<unknown>): Promise<TokenLifecycleError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(TokenLifecycleError);
    return error as TokenLifecycleError;
  }
  throw new Error('expected a rejection');
}

/** The text a user could see of an error: message, description, own fields, and its causes'. */
function visible(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    parts.push(e.message, JSON.stringify(e));
  }
  return parts.join(' ');
}

function expectNoSecret(text: string, where: string): void {
  for (const secret of secrets) {
    if (text.includes(secret)) throw new Error(`a secret value appears in ${where}`);
  }
}

/** The credential holds what the server issued last: the server accepts its refresh token now. */
async function expectNothingLost(h: Harness, key: string): Promise<void> {
  // Not while a refresh is still settling: a forced refresh would join it instead of sending one.
  await waitUntil(() => h.m.status(key).state === 'valid', 'valid before the final check');
  const before = server.counts.tokenByGrant.refresh_token ?? 0;
  const token = await h.m.refresh(key);
  remember(token.accessToken);
  remember(token.refreshToken);
  expect(server.counts.tokenByGrant.refresh_token).toBe(before + 1);
  expect(h.m.status(key)).toMatchObject({ state: 'valid' });
  const stored = await h.storage.get(key);
  expect(stored?.refreshToken).toBe(token.refreshToken);
  expectNoSecret(JSON.stringify(h.events), 'an event');
  expectNoSecret(JSON.stringify(h.m.status(key)), 'status');
}

interface TransientCase {
  readonly name: string;
  readonly fault: ProxyFault;
  readonly code: string;
  /** Whether the server saw (and so rotated on) the faulted request. */
  readonly reachedServer?: boolean;
}

const HTML_PAGE = '<!doctype html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>';

const transient: TransientCase[] = [
  { name: 'a connection reset before the server sees the request', fault: { kind: 'reset', at: 'request' }, code: 'refresh_failed' },
  { name: 'a connection reset in the middle of the response', fault: { kind: 'reset', at: 'response' }, code: 'refresh_failed' },
  { name: 'no answer within the timeout', fault: { kind: 'stall', at: 'headers' }, code: 'refresh_failed' },
  { name: 'a body that stalls after the headers', fault: { kind: 'stall', at: 'body' }, code: 'refresh_failed' },
  { name: '500', fault: { kind: 'respond', status: 500 }, code: 'refresh_failed' },
  { name: '502 with an HTML error page', fault: { kind: 'respond', status: 502, body: HTML_PAGE }, code: 'refresh_failed' },
  {
    name: '503 temporarily_unavailable',
    fault: { kind: 'respond', status: 503, body: { error: 'temporarily_unavailable' } },
    code: 'refresh_failed',
  },
  { name: '429 without Retry-After', fault: { kind: 'respond', status: 429, body: { error: 'slow_down' } }, code: 'refresh_failed' },
  { name: 'a 200 with truncated JSON', fault: { kind: 'truncate' }, code: 'invalid_token_response' },
  { name: 'a 200 with an HTML page', fault: { kind: 'respond', status: 200, body: HTML_PAGE }, code: 'invalid_token_response' },
  {
    // The server rotated: the answer's refresh token must be kept although the answer is refused (R12, R4).
    name: 'a 200 from the server with access_token removed',
    fault: { kind: 'rewrite', transform: ({ access_token: _dropped, ...rest }) => rest },
    code: 'invalid_token_response',
    reachedServer: true,
  },
];

describe('transient faults: degraded while valid, recovery, nothing lost', () => {
  it.each(transient)('$name → $code', async ({ fault, code, reachedServer }) => {
    // A first retry 600 ms out: on a loaded machine a 150 ms one could be due (and a getToken() then
    // runs it, R5) before the checks of the degraded state below.
    const h = harness({ retry: { minDelay: '600ms', maxDelay: '1s', jitter: 0, maxRetryAfter: '10s' } });
    const set = await h.m.setToken('k', await login());
    const forwarded = proxy.forwarded['/token'] ?? 0;
    proxy.inject('/token', fault);
    const recovered = nextEvent(h.m, 'refreshed', { key: 'k' });

    const error = await failure(h.m.refresh('k'));
    expect(error).toMatchObject({ code, retryable: true });
    expectNoSecret(visible(error), 'the error');
    expect(proxy.forwarded['/token'] ?? 0).toBe(forwarded + (reachedServer ? 1 : 0));
    // R5: still valid, so degraded.retrying and the old token is served.
    expect(h.m.status('k')).toMatchObject({ state: 'degraded', detail: 'retrying', lastError: { code, retryable: true } });
    expect((await h.m.getToken('k')).accessToken).toBe(set.accessToken);
    expect(h.events).toContainEqual(expect.objectContaining({ type: 'refresh_failed', key: 'k', code, retryable: true }));

    // The backoff retry goes through (the fault was for one request) and recovers by itself.
    await recovered;
    await waitUntil(() => h.m.status('k').state === 'valid', 'valid again');
    const fresh = await h.m.getToken('k');
    expect(fresh.accessToken).not.toBe(set.accessToken);
    expect(h.m.status('k').lastError).toBeUndefined();
    expect(h.reauth).toEqual([]);
    expect(h.events.some((e) => e.type === 'reauth_required')).toBe(false);
    await expectNothingLost(h, 'k');
  });

  it('connection refused for a while: retries with backoff, then recovers when the server is reachable', async () => {
    const h = harness();
    const set = await h.m.setToken('k', await login());
    await proxy.down();

    const error = await failure(h.m.refresh('k'));
    expect(error).toMatchObject({ code: 'refresh_failed', retryable: true });
    // Background retries keep failing while the port is closed; the token is served meanwhile.
    await waitUntil(() => h.events.filter((e) => e.type === 'refresh_failed').length >= 3, 'three failed attempts');
    expect(h.m.status('k')).toMatchObject({ state: 'degraded', detail: 'retrying' });
    // (The very first attempt may find its pooled connection closed: UND_ERR_SOCKET. A new one is refused.)
    expect((await failure(h.m.refresh('k'))).message).toMatch(/ECONNREFUSED/);
    expect((await h.m.getToken('k')).accessToken).toBe(set.accessToken);

    const recovered = nextEvent(h.m, 'refreshed', { key: 'k' });
    await proxy.up();
    await recovered;
    await waitUntil(() => h.m.status('k').state === 'valid', 'valid again');
    expect(h.reauth).toEqual([]);
    await expectNothingLost(h, 'k');
  });

  it('429 with Retry-After: nothing is sent before it, whatever the backoff says (R5)', async () => {
    const h = harness();
    await h.m.setToken('k', await login());
    proxy.inject('/token', { kind: 'respond', status: 429, headers: { 'retry-after': '1' }, body: { error: 'slow_down' } });
    const received = proxy.received['/token'] ?? 0;
    const recovered = nextEvent(h.m, 'refreshed', { key: 'k' });

    const error = await failure(h.m.refresh('k'));
    expect(error).toMatchObject({ code: 'refresh_failed', retryable: true, status: 429, retryAfter: 1_000 });
    const failed = h.events.find((e): e is Extract<TokenEvent, { type: 'refresh_failed' }> => e.type === 'refresh_failed');
    expect((failed?.retryAt ?? 0) - (failed?.at ?? 0)).toBeGreaterThanOrEqual(1_000);
    // The backoff alone would have retried after 150 ms.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(proxy.received['/token']).toBe(received + 1);

    const refreshed = await recovered;
    expect(refreshed.at - (failed?.at ?? 0)).toBeGreaterThanOrEqual(1_000);
    await expectNothingLost(h, 'k');
  });
});

describe('invalid_grant for a valid refresh token', () => {
  it('degraded.rejected while valid, nothing re-sent, reauthRequired at expiry, once; a new login recovers', async () => {
    const h = harness();
    // A 2 s token: the refresh is due at 1 s (half the lifetime) and it expires at 2 s.
    const tokens = await login();
    const set = await h.m.setToken('k', { ...tokens, expires_in: 2 });
    proxy.inject('/token', { kind: 'respond', status: 400, body: { error: 'invalid_grant', error_description: 'grant request is invalid' } });
    const received = proxy.received['/token'] ?? 0;

    await nextEvent(h.m, 'state', { key: 'k', match: (e) => e.state === 'degraded' });
    expect(h.m.status('k')).toMatchObject({ state: 'degraded', detail: 'rejected', reason: 'invalid_grant' });
    expect((await h.m.getToken('k')).accessToken).toBe(set.accessToken);
    const forced = await failure(h.m.refresh('k'));
    expect(forced).toMatchObject({ code: 'reauth_required', reason: 'invalid_grant', retryable: false });
    expect(h.reauth).toEqual([]);

    await nextEvent(h.m, 'state', { key: 'k', match: (e) => e.state === 'reauthRequired' });
    const error = await failure(h.m.getToken('k'));
    expect(error).toMatchObject({ code: 'reauth_required', reason: 'invalid_grant' });
    expectNoSecret(visible(error), 'the error');
    expect(h.reauth).toEqual([['k', 'invalid_grant']]);
    expect(h.events.filter((e) => e.type === 'reauth_required')).toHaveLength(1);
    expect(h.events.filter((e) => e.type === 'refresh_failed')).toMatchObject([{ code: 'invalid_grant', retryable: false }]);
    // R6: a rejected refresh token is never sent again.
    expect(proxy.received['/token']).toBe(received + 1);
    expectNoSecret(JSON.stringify(h.events), 'an event');

    // The manager lost nothing: the refresh token it keeps is one the server would still accept
    // (it was the proxy that lied), and a new login starts a healthy lifecycle.
    const stored = await h.storage.get('k');
    expect(stored?.rejection).toBe('invalid_grant');
    remember(((await direct.refresh(stored?.refreshToken)) as Record<string, unknown>).access_token);
    await h.m.setToken('k', await login());
    expect(h.m.status('k').state).toBe('valid');
    await expectNothingLost(h, 'k');
  });
});

describe('slow answers', () => {
  it('a forced refresh and callers joining a slow refresh share it: one request (R7)', async () => {
    const h = harness();
    const set = await h.m.setToken('k', await login());
    const before = server.counts.tokenByGrant.refresh_token ?? 0;
    proxy.inject('/token', { kind: 'delay', ms: 300 });

    const first = h.m.refresh('k');
    await waitUntil(() => (server.counts.tokenByGrant.refresh_token ?? 0) === before + 1, 'the server answered');
    // The server has rotated; its answer is on its way. Everyone now joins that refresh.
    const joined = await Promise.all([first, h.m.refresh('k'), h.m.getToken('k'), h.m.getToken('k')]);

    expect(new Set(joined.map((t) => t.accessToken)).size).toBe(1);
    expect(joined[0]?.accessToken).not.toBe(set.accessToken);
    expect(server.counts.tokenByGrant.refresh_token).toBe(before + 1);
    await expectNothingLost(h, 'k');
  });

  it('an answer later than the timeout: the refresh fails on time, and the next attempt takes that answer instead of re-sending the spent refresh token (R4)', async () => {
    const h = harness();
    const set = await h.m.setToken('k', await login());
    const before = server.counts.tokenByGrant.refresh_token ?? 0;
    const received = proxy.received['/token'] ?? 0;
    // The server rotates at once; its answer reaches us 600 ms later: past the 400 ms timeout, within
    // the one more timeout the request is kept for.
    proxy.inject('/token', { kind: 'delay', ms: 600 });

    const started = Date.now();
    expect(await failure(h.m.refresh('k'))).toMatchObject({ code: 'refresh_failed', retryable: true });
    expect(Date.now() - started).toBeLessThan(600);
    // On a loaded machine the server may still be rotating when the timeout strikes.
    await waitUntil(() => server.counts.tokenByGrant.refresh_token === before + 1, 'the server rotated');

    // Whether the retry timer or this call comes first, the attempt waits for the late answer.
    const renewed = await h.m.refresh('k');
    remember(renewed.accessToken);
    remember(renewed.refreshToken);
    expect(renewed.accessToken).not.toBe(set.accessToken);
    expect(proxy.received['/token']).toBe(received + 1);
    expect(server.counts.tokenByGrant.refresh_token).toBe(before + 1);
    expect((await h.storage.get('k'))?.refreshToken).toBe(renewed.refreshToken);
    expect(h.reauth).toEqual([]);
    await expectNothingLost(h, 'k');
  });

  it('stop() right after a timeout: the late answer is still written when it comes, and the next manager refreshes with its rotated token (R4, R15)', async () => {
    const storage = memoryStorage();
    const a = harness({ storage });
    const set = await a.m.setToken('k', await login());
    const before = server.counts.tokenByGrant.refresh_token ?? 0;
    proxy.inject('/token', { kind: 'delay', ms: 600 });
    expect(await failure(a.m.refresh('k'))).toMatchObject({ code: 'refresh_failed' });
    await a.m.stop();

    // The answer arrives about 200 ms after the timeout; the stopped manager writes it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const stored = await storage.get('k');
    expect(stored?.refreshToken).not.toBe(set.refreshToken);
    expect(server.counts.tokenByGrant.refresh_token).toBe(before + 1);
    remember(stored?.accessToken);
    remember(stored?.refreshToken);

    const b = harness({ storage });
    expect((await b.m.getToken('k')).accessToken).toBe(stored?.accessToken);
    await expectNothingLost(b, 'k');
  });

  it('an answer arriving after stop() gave up waiting is still written; the next process adopts it (R15, R7)', async () => {
    const slow = oauth2Endpoint({ tokenUrl: `${proxy.url}/token`, ...CLIENTS.confidential, timeout: '5s' });
    const storage = memoryStorage();
    const a = harness({ endpoint: slow, storage, stopTimeout: '200ms' });
    const set = await a.m.setToken('k', await login());
    const before = server.counts.tokenByGrant.refresh_token ?? 0;
    proxy.inject('/token', { kind: 'delay', ms: 1_200 });

    const pending = a.m.refresh('k').catch((error: unknown) => error);
    await waitUntil(() => (server.counts.tokenByGrant.refresh_token ?? 0) === before + 1, 'the server rotated');
    const stopping = Date.now();
    await a.m.stop();
    expect(Date.now() - stopping).toBeLessThan(1_000);
    expect(await pending).toMatchObject({ code: 'stopped' });

    // A new manager over the same storage: it waits for the old one's lock and adopts its answer,
    // instead of sending the refresh token the server has already rotated.
    const b = harness({ storage });
    const adopted = await b.m.refresh('k');
    expect(adopted.accessToken).not.toBe(set.accessToken);
    expect(server.counts.tokenByGrant.refresh_token).toBe(before + 1);
    expect((await storage.get('k'))?.refreshToken).toBe(adopted.refreshToken);
    await expectNothingLost(b, 'k');
  });
});

describe('the limit no client can cross', () => {
  it('an answer lost after the server rotated: the next attempt is rejected and the manager stops sending (R6)', async () => {
    // The server rotated and the new refresh token never arrived: the one the manager holds is
    // spent. oidc-provider treats its reuse as theft and revokes the grant. What the manager owes
    // is to stop there (no retry storm), serve the valid token, and ask for a login at expiry.
    const h = harness();
    const set = await h.m.setToken('k', await login());
    proxy.inject('/token', { kind: 'lose-response' });
    const received = proxy.received['/token'] ?? 0;

    expect(await failure(h.m.refresh('k'))).toMatchObject({ code: 'refresh_failed', retryable: true });
    await nextEvent(h.m, 'state', { key: 'k', match: (e) => e.detail === 'rejected' });
    expect(h.m.status('k')).toMatchObject({ state: 'degraded', detail: 'rejected', reason: 'invalid_grant' });
    expect((await h.m.getToken('k')).accessToken).toBe(set.accessToken);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(proxy.received['/token']).toBe(received + 2);
    expect(h.reauth).toEqual([]);
    expectNoSecret(JSON.stringify(h.events), 'an event');
  });
});
