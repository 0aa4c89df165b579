/**
 * webStorage across the tabs of one origin in a real Chromium, against a real oidc-provider with
 * 10-second access tokens and refresh tokens rotated on every use (DESIGN §8): one refresh for N
 * tabs, a tab closed while it holds the lock, reloads and the session area.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { launchChromium, openPage, servePage, type Chromium, type StaticServer, type TestPage } from '../support/browser.js';
import { startAuthServer, type AuthServer } from '../support/oidc-server.js';
import { pageClient, pageLogin } from '../support/page-client.js';
import { requestGate, type RequestGate } from '../support/request-gate.js';
import type { TabOptions } from './pages/tab-page.js';

const CLIENT_ID = 'browser-app';

let chromium: Chromium;
let site: StaticServer;
let server: AuthServer;
let gate: RequestGate;
let context: BrowserContext;
let run = 0;

beforeAll(async () => {
  [chromium, site] = await Promise.all([launchChromium(), servePage('test/browser/pages/tab-page.ts')]);
  gate = requestGate();
  server = await startAuthServer({
    ttl: { AccessToken: 10 },
    middleware: gate.middleware,
    clients: [pageClient(CLIENT_ID, site)],
  });
});
afterAll(async () => {
  await Promise.all([chromium?.close(), site?.close(), server?.stop()]);
});
afterEach(async () => {
  gate.release();
  await context?.close();
});

/** What a login would hand the app: a token response with a 10-second access token. */
const login = (): Promise<Record<string, unknown>> => pageLogin(server, CLIENT_ID);

function options(area: TabOptions['area']): TabOptions {
  return { tokenUrl: server.tokenUrl, clientId: CLIENT_ID, area, prefix: `tabs-${++run}` };
}

async function openTabs(count: number, opts: TabOptions): Promise<TestPage[]> {
  const tabs: TestPage[] = [];
  for (let i = 0; i < count; i++) {
    const page = await openPage(context, site.url('/'));
    await page.evaluate((o) => window.tab.start(o).then(() => undefined), opts);
    tabs.push(page);
  }
  return tabs;
}

const tokenIn = (page: TestPage) => page.evaluate(() => window.tab.getToken());
const refreshCount = () => server.counts.tokenByGrant.refresh_token ?? 0;

describe('webStorage across tabs, against oidc-provider', () => {
  const variants = [
    { name: 'Web Locks and BroadcastChannel', strip: false, capabilities: { locks: 'web-locks', changeFeed: 'broadcast-channel' } },
    { name: 'neither (lease lock, storage event)', strip: true, capabilities: { locks: 'lease', changeFeed: 'storage-event' } },
  ] as const;
  it.each(variants)('4 tabs near expiry make exactly 1 refresh request, and every tab serves the new token: $name', async (variant) => {
    context = await chromium.newContext();
    if (variant.strip) {
      await context.addInitScript(() => {
        delete (Navigator.prototype as { locks?: unknown }).locks;
        delete (globalThis as { BroadcastChannel?: unknown }).BroadcastChannel;
      });
    }
    const opts = options('local');
    const [first, ...others] = await openTabs(4, opts);
    expect(await first!.evaluate(() => window.tab.capabilities())).toMatchObject(variant.capabilities);
    expect(await first!.evaluate(() => window.tab.status().storage)).toMatchObject(variant.capabilities);
    const loggedIn = await login();
    await first!.evaluate((r) => window.tab.setToken(r), loggedIn);
    const tabs = [first!, ...others];
    for (const page of tabs) expect((await tokenIn(page)).token?.accessToken).toBe(loggedIn.access_token);
    server.counts.reset();

    // Into the refresh window (half the 10 s lifetime), then every tab asks at once.
    const refreshAt = (await first!.evaluate(() => window.tab.status().refreshAt)) as number;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, refreshAt - Date.now()) + 50));
    const outcomes = await Promise.all(tabs.map(tokenIn));

    const tokens = outcomes.map((o) => o.token?.accessToken);
    expect(outcomes.map((o) => o.error)).toEqual([undefined, undefined, undefined, undefined]);
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).not.toBe(loggedIn.access_token);
    expect(refreshCount()).toBe(1);
    expect(server.counts.token).toBe(1);
    console.log(`4 tabs near expiry (${variant.name}): ${server.counts.token} request(s) at /token (${refreshCount()} refresh_token grant)`);
    for (const page of tabs) expect(page.errors).toEqual([]);
  }, 40_000);

  it('a tab closed while it holds the lock, before the server saw its request: another tab finishes, no rotated token lost', async () => {
    context = await chromium.newContext();
    const opts = options('local');
    const tabs = await openTabs(3, opts);
    const [holder, ...survivors] = tabs as [TestPage, TestPage, TestPage];
    const loggedIn = await login();
    await holder.evaluate((r) => window.tab.setToken(r), loggedIn);
    for (const page of survivors) expect((await tokenIn(page)).token?.accessToken).toBe(loggedIn.access_token);
    server.counts.reset();
    const receivedBefore = gate.received['/token'] ?? 0;

    // The holder starts a refresh: it takes the Web Lock, marks the record, and its request is held.
    gate.hold('/token');
    void holder.evaluate(() => window.tab.refresh()).catch(() => undefined);
    await expect.poll(() => gate.held, { timeout: 5_000 }).toBe(1);
    await holder.close();
    await expect.poll(() => gate.dropped, { timeout: 5_000 }).toBe(1);
    expect(refreshCount()).toBe(0); // the server never processed the dead tab's request

    // A surviving tab takes over (at the latest when the token expires: the holder's marker said a
    // refresh was under way), and both survivors end up serving its result.
    const servesNewToken = async (): Promise<boolean> =>
      (await Promise.all(survivors.map(tokenIn))).every((o) => o.token !== undefined && o.token.accessToken !== loggedIn.access_token);
    await expect.poll(servesNewToken, { timeout: 25_000, interval: 250 }).toBe(true);
    const [a, b] = await Promise.all(survivors.map(tokenIn));
    expect(a!.token?.accessToken).toBe(b!.token?.accessToken);
    expect(a!.token?.accessToken).not.toBe(loggedIn.access_token);
    expect(refreshCount()).toBe(1);
    const received = (gate.received['/token'] ?? 0) - receivedBefore;
    console.log(`tab closed mid-refresh: ${received} request(s) reached /token, ${gate.dropped} dropped with its tab, ${refreshCount()} processed`);

    // Nothing was lost: the stored refresh token is the server's newest, and it still refreshes.
    const again = await survivors[0].evaluate(() => window.tab.refresh());
    expect(again.error).toBeUndefined();
    expect(again.token?.accessToken).not.toBe(a!.token?.accessToken);
    expect(refreshCount()).toBe(2);
    for (const page of survivors) expect(page.errors).toEqual([]);
  }, 40_000);

  it("reload keeps the session in the 'local' area, with no request", async () => {
    context = await chromium.newContext();
    const opts = options('local');
    const [page] = await openTabs(1, opts);
    const loggedIn = await login();
    await page!.evaluate((r) => window.tab.setToken(r), loggedIn);
    server.counts.reset();
    await page!.reload();
    await page!.waitForFunction(() => window.pageReady === true);
    await page!.evaluate((o) => window.tab.start(o).then(() => undefined), opts);
    expect((await tokenIn(page!)).token?.accessToken).toBe(loggedIn.access_token);
    const [newTab] = await openTabs(1, opts);
    expect((await tokenIn(newTab!)).token?.accessToken).toBe(loggedIn.access_token);
    expect(server.counts.token).toBe(0);
  });

  it("the 'session' area keeps the session across a reload of the tab, and a new tab does not have it", async () => {
    context = await chromium.newContext();
    const opts = options('session');
    const [page] = await openTabs(1, opts);
    const loggedIn = await login();
    await page!.evaluate((r) => window.tab.setToken(r), loggedIn);
    await page!.reload();
    await page!.waitForFunction(() => window.pageReady === true);
    const capabilities = await page!.evaluate((o) => window.tab.start(o), opts);
    expect(capabilities).toMatchObject({ area: 'session', sharedAcrossTabs: false });
    expect((await tokenIn(page!)).token?.accessToken).toBe(loggedIn.access_token);
    const [newTab] = await openTabs(1, opts);
    expect((await tokenIn(newTab!)).error?.code).toBe('not_found');
  });
});
