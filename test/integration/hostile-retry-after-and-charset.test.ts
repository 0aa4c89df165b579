/**
 * Issue 22, cases 6 and 7 against a real loopback server: a `Retry-After` that would switch refresh
 * off for years is cut to the ceiling (`retry.maxRetryAfter`, by default `retry.maxDelay`), one past
 * the Date range is absent, and status() never throws; a token that is not VSCHAR (a wrong charset)
 * is invalid_token_response at receipt, and the old token is kept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendJson, startHostileServer, type HostileServer } from '../support/hostile-server.js';
import { hostileWorld } from '../support/hostile-world.js';

let server: HostileServer;
beforeAll(async () => {
  server = await startHostileServer();
});
afterAll(async () => {
  await server.close();
});

describe('Retry-After has a ceiling (case 6)', () => {
  it.each(['999999999', '99999999999999999999', 'Fri, 31 Dec 9999 23:59:59 GMT'])('Retry-After: %s', async (value) => {
    server.answer = (_request, response) => sendJson(response, 503, { error: 'temporarily_unavailable' }, { 'retry-after': value });
    const world = await hostileWorld(server, { expiresIn: 3600, managerRetry: { minDelay: 10, maxDelay: '30s' } });
    const failed = new Promise<{ at: number; retryAt?: number }>((resolve) =>
      world.manager.subscribe((event) => event.type === 'refresh_failed' && resolve(event)),
    );
    await world.attempt('refresh()', () => world.manager.refresh());
    const event = await failed;
    const status = world.manager.status();
    expect(status.state).toBe('degraded');
    expect(event.retryAt).toBeDefined();
    // Never later than the ceiling (30 s), so refresh is never switched off for good.
    expect((event.retryAt as number) - event.at).toBeLessThanOrEqual(30_000);
    expect(() => new Date(status.retryAt as number).toISOString()).not.toThrow();
    await world.stop();
  });

  it('retry.maxRetryAfter raises the ceiling', async () => {
    server.answer = (_request, response) => sendJson(response, 503, { error: 'temporarily_unavailable' }, { 'retry-after': '3600' });
    const world = await hostileWorld(server, { expiresIn: 3600, managerRetry: { minDelay: 10, maxDelay: '30s', maxRetryAfter: '2h' } });
    await world.attempt('refresh()', () => world.manager.refresh());
    const status = world.manager.status();
    expect((status.retryAt as number) - Date.now()).toBeGreaterThan(3_500_000);
    await world.stop();
  });
});

describe('tokens must be VSCHAR (case 7)', () => {
  it('a body declared iso-8859-1 with a non-ASCII byte in access_token: invalid_token_response, old token kept', async () => {
    server.answer = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json; charset=iso-8859-1' });
      response.end(Buffer.concat([Buffer.from('{"access_token":"new-'), Buffer.from([0xe9]), Buffer.from('","token_type":"Bearer","expires_in":3600}')]));
    };
    const world = await hostileWorld(server, { expiresIn: 3600 });
    const before = (await world.manager.getToken()).accessToken;
    const error = await world.attempt('refresh()', () => world.manager.refresh());
    expect(error).toMatchObject({ code: 'invalid_token_response', retryable: true });
    expect((error as Error).message).toMatch(/access_token has characters outside VSCHAR/);
    expect((await world.manager.getToken()).accessToken).toBe(before);
    expect(world.manager.status().lastError).toEqual({ code: 'invalid_token_response', retryable: true });
    await world.stop();
  });
});
