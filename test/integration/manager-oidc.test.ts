/**
 * The token manager against a real authorization server (oidc-provider on loopback): rotation on
 * every refresh, reuse detection, revocation, client_credentials. Access tokens live 4 s and the
 * threshold is 2 s, so a refresh is due 2 s after a token is obtained (R1: min(threshold, lifetime/2)).
 * These tests wait real seconds; each waits on events or deadlines, never on fixed sleeps for logic.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { oauth2Endpoint, type OAuth2Endpoint } from '../../adapters/oauth2/index.js';
import { fileStorage, type FileStorage } from '../../adapters/storage/file/index.js';
import { createTokenManager } from '../../machines/manager/manager.js';
import type { TokenManager, TokenManagerOptions } from '../../machines/manager/api-types.js';
import { memoryStorage } from '../../machines/manager/memory-storage.js';
import { CLIENTS, obtainTokensViaAuthCode, startAuthServer, type AuthServer } from '../support/oidc-server.js';
import { nextEvent, observableText, recordEvents, total, waitPast, waitUntil } from '../support/lifecycle-helpers.js';

const TTL_S = 4;

let server: AuthServer;
let endpoint: OAuth2Endpoint;
const managers: TokenManager[] = [];

beforeAll(async () => {
  server = await startAuthServer({ ttl: { AccessToken: TTL_S, ClientCredentials: TTL_S } });
  endpoint = oauth2Endpoint({ issuer: server.issuer, ...CLIENTS.confidential });
});

afterEach(async () => {
  await server.resume();
  server.clearFaults();
  await Promise.allSettled(managers.splice(0).map((m) => m.stop()));
});

afterAll(async () => {
  await server?.stop();
});

function manager(options: Partial<TokenManagerOptions> = {}): TokenManager {
  const m = createTokenManager({
    endpoint,
    refreshThreshold: '2s',
    minRefreshInterval: '100ms',
    retry: { minDelay: '200ms', maxDelay: '1s' },
    ...options,
  });
  managers.push(m);
  return m;
}

/** A fresh login (authorization_code + PKCE): a new grant, so tests never share refresh tokens. */
async function login(): Promise<Record<string, unknown>> {
  return obtainTokensViaAuthCode({ issuer: server.issuer, ...CLIENTS.confidential });
}

const refreshGrants = (): number => server.counts.tokenByGrant.refresh_token ?? 0;

describe('manager against oidc-provider', () => {
  it('refreshes in the background at refreshAt with no caller and keeps the rotated refresh token (R3, R4)', async () => {
    const storage = memoryStorage();
    const m = manager({ storage });
    const tokens = await login();
    const set = await m.setToken('bg', tokens);
    expect(m.status('bg').state).toBe('valid');
    expect(m.status('bg').lastRefreshAt).toBeUndefined();
    const before = refreshGrants();

    const refreshed = nextEvent(m, 'refreshed', { key: 'bg' });
    const refreshAt = m.status('bg').refreshAt as number;
    expect(refreshAt - Date.now()).toBeGreaterThan(1_000);
    const event = await refreshed;
    expect(event.rotated).toBe(true);
    expect(event.at).toBeGreaterThanOrEqual(refreshAt);
    expect(refreshGrants()).toBe(before + 1);
    await waitUntil(() => m.status('bg').state === 'valid', 'valid after the refresh');
    expect(m.status('bg').lastRefreshAt).toBeGreaterThanOrEqual(refreshAt);

    // The rotated refresh token is what storage holds now, and the server accepts it next.
    const stored = await storage.get('bg');
    expect(stored?.refreshToken).toBeDefined();
    expect(stored?.refreshToken).not.toBe(tokens.refresh_token);
    const second = await m.refresh('bg');
    expect(refreshGrants()).toBe(before + 2);
    expect(second.accessToken).not.toBe(set.accessToken);
    expect(m.status('bg').state).toBe('valid');
    expect(m.status('bg').lastError).toBeUndefined();
  });

  it('sends exactly one refresh for 100 concurrent getToken calls inside the window (R7)', async () => {
    const m = manager({ backgroundRefresh: false });
    const set = await m.setToken('burst', await login());
    await waitPast(m.status('burst').refreshAt as number);
    expect(m.status('burst').needsRefresh).toBe(true);
    const before = refreshGrants();

    const results = await Promise.all(Array.from({ length: 100 }, () => m.getToken('burst')));

    expect(refreshGrants()).toBe(before + 1);
    const values = new Set(results.map((t) => t.accessToken));
    expect(values.size).toBe(1);
    expect(values.has(set.accessToken)).toBe(false);
    expect(m.status('burst').state).toBe('valid');
  });

  it('degrades during an outage, serves the old token, and recovers when the server is back (R5, R13)', async () => {
    const inspected: unknown[] = [];
    // With an inspector attached the actor stays live (no dormancy): the other path of the manager.
    const m = manager({ inspect: (event) => inspected.push(event) });
    const { events } = recordEvents(m);
    const statuses: unknown[] = [];
    const tokens = await login();
    const set = await m.setToken('outage', tokens);
    statuses.push(m.status('outage'));
    await server.pause();

    await nextEvent(m, 'state', { key: 'outage', match: (e) => e.state === 'degraded' });
    const status = m.status('outage');
    expect(status.detail).toBe('retrying');
    expect(status.lastError?.retryable).toBe(true);
    expect(status.retryAt).toBeGreaterThan(Date.now() - 1_000);
    expect((await m.getToken('outage')).accessToken).toBe(set.accessToken);

    const recovered = nextEvent(m, 'refreshed', { key: 'outage' });
    await server.resume();
    await recovered;
    await waitUntil(() => m.status('outage').state === 'valid', 'recovery to valid');
    const fresh = await m.getToken('outage');
    expect(fresh.accessToken).not.toBe(set.accessToken);
    expect(m.status('outage').lastError).toBeUndefined();
    statuses.push(status, m.status('outage'));

    // R13: no token value in events, status or what the inspector saw.
    const secrets = [tokens.access_token, tokens.refresh_token, tokens.id_token, fresh.accessToken, fresh.refreshToken, fresh.idToken];
    expect(secrets.every((secret) => typeof secret === 'string' && secret.length > 20)).toBe(true);
    expect(inspected.length).toBeGreaterThan(5);
    const seen = observableText({ events, statuses, inspected });
    for (const secret of secrets) expect(seen).not.toContain(secret as string);
  });

  it('honours Retry-After from a 503 over its own backoff, serving the old token meanwhile (R5)', async () => {
    const m = manager({ backgroundRefresh: false, retry: { minDelay: '50ms', maxDelay: '100ms', maxRetryAfter: '5s' } });
    const set = await m.setToken('busy', await login());
    await waitPast(m.status('busy').refreshAt as number);
    server.injectFault('/token', { status: 503, headers: { 'retry-after': '1' }, body: { error: 'temporarily_unavailable' } });
    const before = refreshGrants();
    const failed = nextEvent(m, 'refresh_failed', { key: 'busy' });

    expect((await m.getToken('busy')).accessToken).toBe(set.accessToken);
    const failure = await failed;
    // The adapter maps 5xx (and temporarily_unavailable) to the retryable refresh_failed.
    expect(failure).toMatchObject({ code: 'refresh_failed', retryable: true });
    expect((failure.retryAt as number) - failure.at).toBeGreaterThanOrEqual(950);
    expect(m.status('busy')).toMatchObject({ state: 'degraded', detail: 'retrying', retryAt: failure.retryAt });
    // Before retryAt a caller gets the old token and nothing is sent.
    expect((await m.getToken('busy')).accessToken).toBe(set.accessToken);
    expect(refreshGrants()).toBe(before + 1);

    await waitPast(failure.retryAt as number);
    const fresh = await m.getToken('busy');
    expect(fresh.accessToken).not.toBe(set.accessToken);
    expect(refreshGrants()).toBe(before + 2);
    expect(m.status('busy').state).toBe('valid');
  });

  it('a grant revoked at the server: degraded.rejected while valid, then reauthRequired once (R6)', async () => {
    const reauth: Array<[string, string]> = [];
    const m = manager({ onReauthRequired: (key, reason) => reauth.push([key, reason]) });
    const { events } = recordEvents(m);
    const tokens = await login();
    const set = await m.setToken('revoked', tokens);
    await server.revokeGrant(tokens.refresh_token as string);
    const before = refreshGrants();

    await nextEvent(m, 'state', { key: 'revoked', match: (e) => e.state === 'degraded' });
    expect(m.status('revoked')).toMatchObject({ state: 'degraded', detail: 'rejected', reason: 'invalid_grant' });
    expect(refreshGrants()).toBe(before + 1);
    // Still valid: the old token is served, and nothing more is sent.
    expect((await m.getToken('revoked')).accessToken).toBe(set.accessToken);
    expect(reauth).toEqual([]);

    await nextEvent(m, 'state', { key: 'revoked', match: (e) => e.state === 'reauthRequired' });
    expect(reauth).toEqual([['revoked', 'invalid_grant']]);
    const error = await m.getToken('revoked').catch((e: unknown) => e);
    const text = observableText({ error, events, status: m.status('revoked') });
    for (const secret of [tokens.access_token, tokens.refresh_token]) expect(text).not.toContain(secret as string);
    await expect(m.getToken('revoked')).rejects.toMatchObject({ code: 'reauth_required', reason: 'invalid_grant' });
    await expect(m.getToken('revoked')).rejects.toMatchObject({ code: 'reauth_required' });
    await expect(m.refresh('revoked')).rejects.toMatchObject({ code: 'reauth_required', reason: 'invalid_grant' });
    expect(reauth).toHaveLength(1);
    expect(events.filter((e) => e.type === 'reauth_required')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'refresh_failed').map((e) => e.type === 'refresh_failed' && e.code)).toEqual(['invalid_grant']);
    expect(refreshGrants()).toBe(before + 1);
  });

  it('remove() revokes the refresh token at the server and deletes it from storage (RFC 7009)', async () => {
    const storage = memoryStorage();
    const m = manager({ storage });
    const tokens = await login();
    await m.setToken('logout', tokens);
    const revocations = server.counts.revocation;

    await m.remove('logout');

    expect(server.counts.revocation).toBe(revocations + 1);
    expect(await storage.get('logout')).toBeUndefined();
    expect(m.status('logout').state).toBe('idle');
    await expect(m.getToken('logout')).rejects.toMatchObject({ code: 'not_found' });
    const direct = oauth2Endpoint({ tokenUrl: server.tokenUrl, ...CLIENTS.confidential });
    await expect(direct.refresh(tokens.refresh_token as string)).rejects.toMatchObject({ code: 'invalid_grant' });
  });

  it('a client_credentials credential renews itself with no refresh token (R8)', async () => {
    const service = oauth2Endpoint({ issuer: server.issuer, ...CLIENTS.service, grant: 'client_credentials' });
    const m = manager({ endpoint: service });
    const before = server.counts.tokenByGrant.client_credentials ?? 0;
    const refreshesBefore = refreshGrants();

    const first = await m.getToken('svc');
    expect(first.accessToken).not.toBe('');
    expect(first.refreshToken).toBeUndefined();
    expect(server.counts.tokenByGrant.client_credentials).toBe(before + 1);
    expect(m.status('svc')).toMatchObject({ state: 'valid', hasRefreshToken: false });

    await nextEvent(m, 'refreshed', { key: 'svc' });
    await waitUntil(() => m.status('svc').state === 'valid', 'valid after renewal');
    const second = await m.getToken('svc');
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(server.counts.tokenByGrant.client_credentials).toBe(before + 2);
    expect(refreshGrants()).toBe(refreshesBefore);
  });

  describe('restart over a file store (R14)', () => {
    let dir: string;
    let storage: FileStorage;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'tl-restart-'));
      storage = fileStorage({ path: join(dir, 'tokens.json') });
    });
    afterAll(async () => {
      await storage?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('resumes far from expiry with the stored token and no request at all (R2)', async () => {
      // A long threshold is capped at half the lifetime; with '0s' the token is fresh until expiry.
      const first = manager({ storage, refreshThreshold: '0s', backgroundRefresh: false });
      const set = await first.setToken('resume', await login());
      await first.stop();
      const requests = total(server.counts.byPath);

      const second = manager({ storage, refreshThreshold: '0s', backgroundRefresh: false });
      await second.start();
      expect(second.status('resume').state).toBe('valid');
      const served = await second.getToken('resume');
      expect(served.accessToken).toBe(set.accessToken);
      expect(served.refreshToken).toBe(set.refreshToken);
      expect(total(server.counts.byPath)).toBe(requests);
    });

    it('stop() lets an in-flight refresh finish and persist; the next process refreshes with the rotated token (R4, R15)', async () => {
      const first = manager({ storage, backgroundRefresh: false });
      const tokens = await login();
      await first.setToken('inflight', tokens);
      server.injectFault('/token', { delayMs: 400 });
      const before = refreshGrants();
      const pending = first.refresh('inflight').catch((error: unknown) => error);
      await waitUntil(() => first.status('inflight').state === 'refreshing', 'the refresh to start');
      await first.stop();
      await pending;
      const stored = await storage.get('inflight');
      expect(stored?.refreshToken).toBeDefined();
      expect(stored?.refreshToken).not.toBe(tokens.refresh_token);

      const second = manager({ storage, backgroundRefresh: false });
      const next = await second.refresh('inflight');
      expect(next.accessToken).not.toBe(stored?.accessToken);
      expect(second.status('inflight').state).toBe('valid');
      expect(refreshGrants()).toBe(before + 2);
    });

    it('never re-sends a refresh token the server rejected before the restart', async () => {
      const first = manager({ storage, backgroundRefresh: false });
      const tokens = await login();
      // The manager is told a shorter lifetime than the server's (1 s), so expiry comes sooner.
      const set = await first.setToken('rejected', { ...tokens, expires_in: 1 });
      await server.revokeGrant(tokens.refresh_token as string);
      const rejected = await first.refresh('rejected').catch((e: unknown) => e);
      expect(rejected).toMatchObject({ code: 'invalid_grant' });
      const text = observableText(rejected);
      for (const secret of [tokens.access_token, tokens.refresh_token]) expect(text).not.toContain(secret as string);
      expect(first.status('rejected').detail).toBe('rejected');
      await first.stop();
      expect((await storage.get('rejected'))?.rejection).toBe('invalid_grant');
      const requests = total(server.counts.byPath);

      const reauth: string[] = [];
      const second = manager({ storage, backgroundRefresh: false, onReauthRequired: (_key, reason) => reauth.push(reason) });
      expect((await second.getToken('rejected')).accessToken).toBe(set.accessToken);
      expect(second.status('rejected')).toMatchObject({ state: 'degraded', detail: 'rejected', reason: 'invalid_grant' });
      await expect(second.refresh('rejected')).rejects.toMatchObject({ code: 'reauth_required', reason: 'invalid_grant' });
      await waitPast(set.expiresAt as number);
      await expect(second.getToken('rejected')).rejects.toMatchObject({ code: 'reauth_required', reason: 'invalid_grant' });
      expect(reauth).toEqual(['invalid_grant']);
      expect(total(server.counts.byPath)).toBe(requests);
    });
  });
});
