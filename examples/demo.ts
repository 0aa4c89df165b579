/**
 * `npm run demo`: the token lifecycle live against a real authorization server.
 *
 * Starts oidc-provider on loopback with short-lived access tokens, logs in without a browser
 * (authorization_code + PKCE), and lets a token manager keep the token fresh: a background refresh
 * with rotation, then an outage (the server stops) where the manager is `degraded` but keeps serving
 * the still-valid token, then recovery when the server is back, then a revocation at the server: the
 * next refresh is rejected, the still-valid token is served until it expires (`degraded.rejected`),
 * then `reauthRequired`. Exits by itself (0 on success).
 * Tokens are shown only as fingerprints (first 6 hex digits of their SHA-256), never as values.
 *
 *   node dist/examples/demo.js          20 s access tokens, 8 s threshold (about 50 s)
 *   node dist/examples/demo.js --fast   6 s access tokens, 3 s threshold (about 15 s)
 */
import { createTokenManager, type TokenEndpoint, type TokenEvent, type TokenManager } from '../index.js';
import { oauth2Endpoint } from '../adapters/oauth2/index.js';
import { DEMO_CLIENT, startLoopbackAuthServer, type LoopbackAuthServer } from './support/auth-server.js';
import { loginWithAuthCode } from './support/login.js';
import { createLog, describeStatus, fingerprint, seconds, sleep, stateName, waitForEvent } from './support/story.js';

const fast = process.argv.includes('--fast');
const timing = fast
  ? { ttlS: 6, threshold: '3s', outageLeadMs: 500, outageMs: 1_000, tickMs: 1_000, retry: { minDelay: '300ms', maxDelay: '1s' }, deadlineMs: 25_000 }
  : { ttlS: 20, threshold: '8s', outageLeadMs: 2_000, outageMs: 3_000, tickMs: 2_000, retry: { minDelay: '500ms', maxDelay: '2s' }, deadlineMs: 85_000 };
const KEY = 'default';

const log = createLog();
const tally = { refreshed: 0, failed: 0, reauth: 0 };

function narrate(manager: TokenManager, event: TokenEvent): void {
  switch (event.type) {
    case 'state': {
      const current = event.state === 'valid' ? manager.peekToken(KEY) : undefined;
      const serving = current ? `, serving ${fingerprint(current.accessToken)}` : '';
      log(`state: ${stateName(event.previous)} -> ${stateName(event)}${serving}`);
      break;
    }
    case 'refreshed':
      tally.refreshed += 1;
      log(`refreshed: new access token, expires in ${seconds(event.expiresAt === undefined ? undefined : event.expiresAt - event.at)}` +
        `${event.rotated ? ', refresh token rotated' : ''}`);
      break;
    case 'refresh_failed':
      tally.failed += 1;
      log(`refresh failed: ${event.code}${event.retryable ? `, retrying in ${seconds((event.retryAt ?? event.at) - event.at)}` : ' (permanent)'}`);
      break;
    case 'reauth_required':
      tally.reauth += 1;
      log(`re-authentication required: ${event.reason}`);
      break;
    case 'storage_failed':
      log(`storage failed: ${event.code}`);
      break;
  }
}

async function story(server: LoopbackAuthServer, manager: TokenManager, admin: TokenEndpoint): Promise<void> {
  const tokens = await loginWithAuthCode({ issuer: server.issuer, ...DEMO_CLIENT });
  log(`logged in (authorization_code + PKCE): access token ${fingerprint(String(tokens.access_token))}, ` +
    `${typeof tokens.refresh_token === 'string' ? 'with' : 'WITHOUT'} a refresh token`);
  const ticker = setInterval(() => log(describeStatus(manager.status(KEY))), timing.tickMs);
  try {
    const first = await manager.setToken(KEY, tokens);
    log(`manager holds ${fingerprint(first.accessToken)}; it refreshes ${timing.threshold} before expiry, with no caller`);

    await waitForEvent(manager, (e) => e.type === 'state' && e.state === 'valid' && e.previous.state === 'refreshing', 'the first refresh', timing.ttlS * 1000 + 5_000);
    const before = await manager.getToken(KEY);
    // Start the outage shortly before the next refresh is due, so the story does not idle.
    const nextRefreshAt = manager.status(KEY).refreshAt ?? Date.now();
    await sleep(Math.max(0, nextRefreshAt - Date.now() - timing.outageLeadMs));

    log('--- outage: the authorization server stops ---');
    await server.pause();
    await waitForEvent(manager, (e) => e.type === 'state' && e.state === 'degraded', 'degraded', timing.ttlS * 1000 + 5_000);
    const served = await manager.getToken(KEY);
    const same = served.accessToken === before.accessToken;
    log(`getToken() still serves ${fingerprint(served.accessToken)} ${same ? '(the old token, still valid)' : '(?)'}, ` +
      `expires in ${seconds((served.expiresAt ?? Date.now()) - Date.now())}`);
    if (!same) throw new Error('degraded but not serving the old token');
    await sleep(timing.outageMs);

    log('--- the authorization server is back ---');
    const recovered = waitForEvent(manager, (e) => e.type === 'state' && e.state === 'valid', 'recovery', timing.ttlS * 1000 + 5_000);
    await server.resume();
    await recovered;
    const fresh = await manager.getToken(KEY);
    if (fresh.accessToken === served.accessToken) throw new Error('recovered without a new token');
    log(`recovered: serving a new token ${fingerprint(fresh.accessToken)} (${describeStatus(manager.status(KEY))})`);

    // An administrator logs the user out: the server revokes the grant (RFC 7009).
    log('--- the server revokes the grant (an administrator logs the user out) ---');
    if (!fresh.refreshToken || !admin.revoke) throw new Error('nothing to revoke');
    await admin.revoke(fresh.refreshToken, { hint: 'refresh_token' });
    const rejected = await waitForEvent(manager, (e) => e.type === 'state' && e.state === 'degraded' && e.detail === 'rejected', 'the rejection', timing.ttlS * 1000 + 5_000);
    const stillServed = await manager.getToken(KEY);
    log(`getToken() still serves ${fingerprint(stillServed.accessToken)} until it expires, and sends nothing more ` +
      `(expires in ${seconds((stillServed.expiresAt ?? rejected.at) - Date.now())})`);
    await waitForEvent(manager, (e) => e.type === 'state' && e.state === 'reauthRequired', 're-authentication', timing.ttlS * 1000 + 5_000);
    const outcome = await manager.getToken(KEY).then(
      () => 'a token (unexpected)',
      (error: unknown) => (error as { code?: string; reason?: string }).code + ` (reason ${(error as { reason?: string }).reason})`,
    );
    log(`getToken() now rejects with ${outcome}: the user must log in again`);
  } finally {
    clearInterval(ticker);
  }
}

async function main(): Promise<number> {
  const server = await startLoopbackAuthServer({ accessTokenTtl: timing.ttlS });
  log(`authorization server (oidc-provider) at ${server.issuer}: access tokens live ${timing.ttlS}s, ` +
    `refresh tokens rotate on every use${fast ? ' [--fast]' : ''}`);
  log('story: login -> background refresh -> outage (degraded, old token still served) -> recovery -> revocation (re-authentication)');
  const endpoint = oauth2Endpoint({ issuer: server.issuer, clientId: DEMO_CLIENT.clientId, clientSecret: DEMO_CLIENT.clientSecret });
  const manager = createTokenManager({
    endpoint,
    refreshThreshold: timing.threshold,
    minRefreshInterval: '200ms',
    retry: timing.retry,
  });
  const off = manager.subscribe((event) => narrate(manager, event));
  const watchdog = setTimeout(() => {
    log(`the demo did not finish within ${seconds(timing.deadlineMs)}`);
    process.exit(1);
  }, timing.deadlineMs);
  watchdog.unref();
  try {
    await story(server, manager, endpoint);
    log(`done: ${tally.refreshed} refreshes, ${tally.failed} failed attempts (outage and revocation), ` +
      `a usable token all along until the revocation, ${tally.reauth} re-authentication request`);
    return 0;
  } catch (error) {
    log(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    off();
    clearTimeout(watchdog);
    await manager.stop().catch(() => undefined);
    await server.stop();
  }
}

process.exitCode = await main();
