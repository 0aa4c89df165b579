/**
 * token-lifecycle/react in a real Chromium against oidc-provider (DESIGN §9): StrictMode's double
 * mount makes no extra refresh (counted at the server), a component re-renders per change of its
 * view and a sibling without hooks never does, and unmounting leaves no listener behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, servePage, type Chromium, type StaticServer } from '../support/browser.js';
import { startAuthServer, type AuthServer } from '../support/oidc-server.js';
import { pageClient, pageLogin } from '../support/page-client.js';

const CLIENT_ID = 'react-app';

let chromium: Chromium;
let site: StaticServer;
let server: AuthServer;

beforeAll(async () => {
  // A development build: StrictMode mounts every component twice only there.
  [chromium, site] = await Promise.all([
    launchChromium(),
    servePage('test/browser/pages/react-page.ts', { bundle: { define: { 'process.env.NODE_ENV': '"development"' } } }),
  ]);
  server = await startAuthServer({
    ttl: { AccessToken: 10 },
    clients: [pageClient(CLIENT_ID, site)],
  });
});
afterAll(async () => {
  await Promise.all([chromium?.close(), site?.close(), server?.stop()]);
});

async function tokenResponse(expiresIn: number): Promise<Record<string, unknown>> {
  // A short lifetime as the app received it: the refresh falls due one second after mounting.
  return { ...(await pageLogin(server, CLIENT_ID)), expires_in: expiresIn };
}

const refreshes = () => server.counts.tokenByGrant.refresh_token ?? 0;

describe.each([{ strict: true }, { strict: false }])('React bindings (StrictMode: $strict)', ({ strict }) => {
  it('one refresh per cycle, renders per view change only, no listener left after unmount', async () => {
    const context = await chromium.newContext();
    const page = await openPage(context, site.url('/'));
    const response = await tokenResponse(2);
    const before = refreshes();
    await page.evaluate((o) => window.reactPage.mount(o), { tokenUrl: server.tokenUrl, clientId: CLIENT_ID, response, strict });
    await page.waitForSelector('#token:has-text("has token")');
    const firstExpiry = await page.textContent('#expires');

    // The background refresh at half the 2-second lifetime: the badge shows a new expiry.
    await page.waitForFunction((old) => document.querySelector('#expires')?.textContent !== old, firstExpiry, { timeout: 8_000 });
    await page.waitForSelector('#state:has-text("valid")');
    expect(refreshes() - before).toBe(1);

    const afterRefresh = await page.evaluate(() => window.reactPage.renders());
    expect(afterRefresh.sibling).toBe(1); // its mount only: one commit, also under StrictMode
    // A clock tick or a getToken call changes no view: a second later nothing has rendered again.
    await page.waitForTimeout(600);
    expect(await page.evaluate(() => window.reactPage.renders())).toEqual(afterRefresh);
    expect(afterRefresh.badge).toBeLessThanOrEqual(strict ? 10 : 6);
    expect(await page.evaluate(() => window.reactPage.fetchIdentities())).toBe(1);

    expect(await page.evaluate(() => window.reactPage.listeners())).toBeGreaterThan(0);
    await page.evaluate(() => window.reactPage.unmount());
    expect(await page.evaluate(() => window.reactPage.listeners())).toBe(0);
    await page.evaluate(() => window.reactPage.stop());
    expect(page.errors).toEqual([]);
    await context.close();
  });
});
