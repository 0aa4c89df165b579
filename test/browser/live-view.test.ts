/**
 * The browser example (examples/browser) in a real Chromium against oidc-provider with 10-second
 * access tokens: a person logs in by redirect (authorization code + PKCE through the server's own
 * login and consent pages), the page calls the protected API with authFetch, and the live view
 * shows the machine's state: `degraded` while the token endpoint is down, `reauthRequired` after a
 * server-side revocation once the last token has expired. A second visit of the callback URL
 * exchanges nothing (the login completes exactly once). A credential derived from the user's by
 * token exchange (R22) is shown nested in the user's view, "derived from user". Asserted on the DOM; screenshots are
 * saved under reports/browser/ (gitignored) as the run's artifacts.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { startBrowserExample, type BrowserExample } from '../../examples/browser/server.js';
import { launchChromium, type Chromium } from '../support/browser.js';
import { logInAsPerson } from '../support/framework-example.js';
import { TOKEN_EXCHANGE_GRANT } from '../../examples/support/token-exchange-grant.js';

export const SCREENSHOT_DIR = resolve('reports/browser');

let chromium: Chromium;
let example: BrowserExample;
let context: BrowserContext;

beforeAll(async () => {
  [chromium, example] = await Promise.all([launchChromium(), startBrowserExample({ accessTokenTtl: 10 })]);
  context = await chromium.newContext();
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
}, 60_000);
afterAll(async () => {
  await context?.close();
  await Promise.all([chromium?.close(), example?.stop()]);
});

const credential = (page: Page) => page.locator('[data-credential="user"]');
/**
 * Inside user's own view only: a derived credential's view is nested in its parent's
 * (`[data-testid="children"]`) and has the same test ids, so lookups start at the view's own parts.
 */
const own = (page: Page, selector: string) => credential(page).locator(`:scope > ${selector}`);
/** The API's credential, derived from user's by token exchange (R22): its view nested in user's. */
const derived = (page: Page) => credential(page).locator(':scope > [data-testid="children"] > [data-credential="api"]');

/** The live view's state, as the page shows it (`degraded.retrying`, `valid`, ...). */
async function shownState(page: Page): Promise<string> {
  return (await own(page, '.summary [data-testid="state"]').textContent()) ?? '';
}

async function waitForState(page: Page, state: string, timeout: number): Promise<void> {
  await page.waitForFunction(
    (s) => document.querySelector('[data-credential="user"]')?.getAttribute('data-state') === s,
    state,
    { timeout },
  );
}

describe('the browser example in Chromium (oidc-provider, 10 s access tokens)', () => {
  it('logs in by redirect, calls the API, and shows degraded in an outage and reauthRequired after a revocation', async () => {
    const page = await context.newPage();
    const callbacks: string[] = [];
    page.on('request', (request) => {
      if (request.isNavigationRequest() && request.url().startsWith(`${example.url}?`)) callbacks.push(request.url());
    });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(example.url);
    await page.waitForFunction(() => window.pageReady === true, undefined, { timeout: 10_000 });
    expect(await shownState(page)).toBe('idle');

    await logInAsPerson(page, example);
    await page.waitForFunction(() => window.pageReady === true, undefined, { timeout: 10_000 });
    await waitForState(page, 'valid', 5_000);
    // The code left the address bar; one code exchange was made.
    expect(page.url()).toBe(example.url);
    expect(example.tokenRequests.authorization_code).toBe(1);
    // Shown as a fingerprint only: 8 hex digits.
    expect(await own(page, '.summary [data-testid="serving"]').textContent()).toMatch(/^[0-9a-f]{8}$/);
    // The machine diagram: the current state is lit, and it is the only one.
    await expect.poll(() => own(page, '.diagram g.state.current').getAttribute('data-state-node')).toBe('valid');
    expect(await own(page, '.diagram g.state.current').count()).toBe(1);
    expect(await own(page, '.diagram g.state').count()).toBeGreaterThanOrEqual(6);
    // The derived credential: a child of user's view, "derived from user", valid, its token a fingerprint.
    await expect.poll(() => derived(page).getAttribute('data-state')).toBe('valid');
    expect(await derived(page).getAttribute('data-parent')).toBe('user');
    expect(await derived(page).locator(':scope > [data-testid="derived-from"]').textContent()).toBe('derived from user');
    expect(await own(page, '[data-testid="derived-from"]').isHidden()).toBe(true);
    await expect.poll(() => derived(page).locator(':scope > .summary [data-testid="serving"]').textContent()).toMatch(/^[0-9a-f]{8}$/);
    expect(example.tokenRequests[TOKEN_EXCHANGE_GRANT]).toBe(1);

    // The same redirect again (back button, a reload of the callback URL): refused, nothing sent;
    // the session itself survives the reload (webStorage, local area).
    expect(callbacks).toHaveLength(1);
    expect(callbacks[0]).toContain('code=');
    await page.goto(callbacks[0] ?? '');
    await page.waitForFunction(() => window.pageReady === true, undefined, { timeout: 10_000 });
    await expect.poll(() => page.locator('[data-testid="error"]').textContent()).toContain('login_already_completed');
    expect(example.tokenRequests.authorization_code).toBe(1);
    await waitForState(page, 'valid', 5_000);

    await page.locator('[data-testid="call-api"]').click();
    await expect.poll(() => page.locator('[data-testid="api-result"]').textContent()).toMatch(/^HTTP 200: .*"hello":"alice"/);

    // The token endpoint goes down; a refresh now fails transiently: degraded, the old token still served.
    example.setOutage(true);
    await page.locator('[data-testid="refresh"]').click();
    await waitForState(page, 'degraded', 5_000);
    expect(await shownState(page)).toBe('degraded.retrying');
    expect(await own(page, '.diagram g.sub.current').getAttribute('data-state-node')).toBe('degraded.retrying');
    expect(await own(page, '[data-testid="events"] li[data-type="refresh_failed"]').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'live-view-degraded.png'), fullPage: true });

    // The server revokes the grant and comes back: the retry is rejected (invalid_grant); the still
    // valid token is served until it expires, then re-authentication is required.
    const revoked = await example.revokeGrants();
    expect(revoked).toBe(1);
    example.setOutage(false);
    await waitForState(page, 'reauthRequired', 15_000);
    expect(await shownState(page)).toBe('reauthRequired');
    expect(await own(page, '.diagram g.state.current').getAttribute('data-state-node')).toBe('reauthRequired');
    expect(await own(page, '[data-testid="events"] li[data-type="reauth_required"]').textContent()).toContain('invalid_grant');
    // The derived credential needs the parent's new login too (reauthRequired together).
    await expect.poll(() => derived(page).getAttribute('data-state')).toBe('reauthRequired');
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'live-view-reauth-required.png'), fullPage: true });

    // No token value anywhere on the page: the access tokens the server issued are not in the DOM.
    const html = await page.content();
    expect(html).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}/);
    expect(errors).toEqual([]);
  }, 45_000);
});
