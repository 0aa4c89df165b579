/**
 * R22 against a real authorization server: oidc-provider with an RFC 8693 token exchange grant
 * registered (examples/support/token-exchange-grant.ts). A derived credential is exchanged from its
 * parent's access token and re-exchanged exactly once per parent refresh, counted at the server; it
 * goes to reauthRequired with its parent and comes back with the parent's next login. Parent access
 * tokens live 4 s (refresh due after 2 s); exchanged tokens live 60 s, so every exchange after the
 * first is the parent's doing. Real seconds; waits are on events or deadlines.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { oauth2Endpoint, TOKEN_TYPES, tokenExchangeGrant, type OAuth2ExchangeEndpoint } from '../../adapters/oauth2/index.js';
import { createTokenManager } from '../../machines/manager/manager.js';
import { derivedCredentials } from '../../machines/manager/derive.js';
import type { TokenManager } from '../../machines/manager/api-types.js';
import { obtainTokensViaAuthCode, REDIRECT_URI, startAuthServer, type AuthServer } from '../support/oidc-server.js';
import { nextEvent, observableText, recordEvents, waitUntil } from '../support/lifecycle-helpers.js';
import { fingerprintOf, registerTokenExchange, TOKEN_EXCHANGE_GRANT, type ExchangeGrant } from '../../examples/support/token-exchange-grant.js';

const CLIENT = { clientId: 'exchange-client', clientSecret: 'exchange+secret/value' };
const PARENT_REFRESHES = 3;

let server: AuthServer;
let grant: ExchangeGrant;
let endpoint: OAuth2ExchangeEndpoint;
const managers: TokenManager[] = [];

beforeAll(async () => {
  server = await startAuthServer({
    ttl: { AccessToken: 4, ClientCredentials: 60 },
    clients: [
      {
        client_id: CLIENT.clientId,
        client_secret: CLIENT.clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'refresh_token', TOKEN_EXCHANGE_GRANT],
        response_types: ['code'],
        redirect_uris: [REDIRECT_URI],
      },
    ],
  });
  grant = registerTokenExchange(server.provider);
  endpoint = oauth2Endpoint({ issuer: server.issuer, ...CLIENT, tokenExchange: tokenExchangeGrant() });
});

afterEach(async () => {
  await Promise.allSettled(managers.splice(0).map((m) => m.stop()));
});

afterAll(async () => {
  await server?.stop();
});

function manager(): TokenManager {
  const m = createTokenManager({ endpoint, refreshThreshold: '2s', minRefreshInterval: '100ms', retry: { minDelay: '200ms', maxDelay: '1s' }, derivedCredentials: derivedCredentials() });
  managers.push(m);
  return m;
}

const login = (): Promise<Record<string, unknown>> => obtainTokensViaAuthCode({ issuer: server.issuer, ...CLIENT });
const exchangesAtServer = (): number => server.counts.tokenByGrant[TOKEN_EXCHANGE_GRANT] ?? 0;
const refreshesAtServer = (): number => server.counts.tokenByGrant.refresh_token ?? 0;

describe('tokenExchange at the endpoint', () => {
  it('exchanges an active access token for a new one (RFC 8693), issued_token_type checked', async () => {
    const tokens = await login();
    const response = await endpoint.tokenExchange({
      subjectToken: tokens.access_token as string,
      subjectTokenType: TOKEN_TYPES.accessToken,
      requestedTokenType: TOKEN_TYPES.accessToken,
      audience: 'orders-api',
      scope: 'api',
    });
    expect(response).toMatchObject({ issued_token_type: TOKEN_TYPES.accessToken, token_type: 'Bearer', expires_in: 60, scope: 'api' });
    expect(await server.provider.ClientCredentials.find(response.access_token)).toBeTruthy();
    expect(grant.exchanges.at(-1)).toMatchObject({ subject: fingerprintOf(tokens.access_token as string), audience: ['orders-api'], outcome: 'issued' });
  });

  it('a subject token the server does not know is invalid_grant, and the error does not hold it', async () => {
    const forged = 'forged-subject-token-value-0123456789';
    const error = await endpoint.tokenExchange({ subjectToken: forged, subjectTokenType: TOKEN_TYPES.accessToken }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_grant', status: 400, retryable: false });
    expect(observableText(error)).not.toContain(forged);
  });
});

describe('a derived credential against oidc-provider', () => {
  it(`is re-exchanged exactly once per parent refresh (${PARENT_REFRESHES} refreshes), counted at the server`, async () => {
    const m = manager();
    const recorded = recordEvents(m);
    await m.setToken('user', await login());
    const exchangesBefore = exchangesAtServer();
    const refreshesBefore = refreshesAtServer();
    const child = await m.derive('orders', { from: 'user', audience: 'orders-api', scope: 'api' });
    expect(m.status('orders')).toMatchObject({ state: 'valid', parent: 'user', hasRefreshToken: false });
    expect(exchangesAtServer() - exchangesBefore).toBe(1);

    const parentTokens = [(await m.getToken('user')).accessToken];
    const childTokens = [child.accessToken];
    for (let i = 0; i < PARENT_REFRESHES; i++) {
      const childRefreshed = nextEvent(m, 'refreshed', { key: 'orders' });
      await nextEvent(m, 'refreshed', { key: 'user' });
      await childRefreshed;
      parentTokens.push((await m.getToken('user')).accessToken);
      childTokens.push((await m.getToken('orders')).accessToken);
    }
    // Settle past the last parent refresh's follow-up: no stray exchange.
    await waitUntil(() => m.status('orders').state === 'valid', 'child valid');
    const refreshes = refreshesAtServer() - refreshesBefore;
    const exchanges = exchangesAtServer() - exchangesBefore;
    recorded.stop();
    console.log(`token exchange: ${refreshes} parent refreshes, ${exchanges} exchanges at the server (1 first + ${exchanges - 1} after refreshes)`);
    expect(refreshes).toBeGreaterThanOrEqual(PARENT_REFRESHES);
    // One first exchange, then one per parent refresh: each with that refresh's new access token.
    expect(exchanges).toBe(refreshes + 1);
    const subjects = grant.exchanges.slice(-exchanges).map((e) => e.subject);
    expect(subjects.slice(0, parentTokens.length)).toEqual(parentTokens.map(fingerprintOf));
    expect(new Set(subjects).size).toBe(subjects.length);
    expect(new Set(childTokens).size).toBe(childTokens.length);
    // Nothing the manager told holds a token of either credential.
    const told = observableText([recorded.events, m.status('orders'), m.status('user'), m.actor('orders').getSnapshot()]);
    for (const token of [...parentTokens, ...childTokens]) expect(told).not.toContain(token);
  });

  it('goes to reauthRequired with its parent (grant revoked at the server) and back with the parent’s next login', async () => {
    const m = manager();
    const first = await login();
    await m.setToken('user', first);
    await m.derive('orders', { from: 'user', audience: 'orders-api' });
    await server.revokeGrant(first.refresh_token as string);
    const childReauth = nextEvent(m, 'reauth_required', { key: 'orders' });
    await nextEvent(m, 'reauth_required', { key: 'user' });
    const event = await childReauth;
    expect(event.reason).toBe('parent_reauth_required');
    expect(m.status('orders')).toMatchObject({ state: 'reauthRequired', reason: 'parent_reauth_required' });
    await expect(m.getToken('orders')).rejects.toMatchObject({ code: 'reauth_required' });

    const before = exchangesAtServer();
    const back = nextEvent(m, 'refreshed', { key: 'orders' });
    await m.setToken('user', await login());
    await back;
    await waitUntil(() => m.status('orders').state === 'valid', 'child valid again');
    expect(exchangesAtServer() - before).toBe(1);
    const token = (await m.getToken('orders')).accessToken;
    expect(await server.provider.ClientCredentials.find(token)).toBeTruthy();
  });
});
