/**
 * The React example (examples/react, built by Vite) in Debian's Chromium against oidc-provider with
 * 10-second access tokens (refresh 5 s before expiry):
 * - production build: a person logs in by redirect (`useRedirectLogin`); the badge goes valid →
 *   refreshing → valid across the background refresh; `degraded` while the token endpoint is down,
 *   the API call (`useAuthFetch`) still answered with the still-valid token; `reauthRequired` after a
 *   server-side revocation; no token value in the page.
 * - development build (StrictMode double-invokes effects only there): exactly 1 code exchange for
 *   the login and 1 refresh request per cycle over two cycles, counted at the server.
 * Screenshots go to reports/browser/ (gitignored).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startViteExample, type RunningViteExample } from '../../examples/support/vite-example.js';
import { launchChromium, type Chromium } from '../support/browser.js';
import {
  badgeHistory,
  badgeLabel,
  badgeSelector,
  collectIssuedTokens,
  inOrder,
  logInAsPerson,
  recordBadge,
  waitForBadge,
} from '../support/framework-example.js';

const SCREENSHOT_DIR = resolve('reports/browser');

let chromium: Chromium;
let production: RunningViteExample;
let development: RunningViteExample;

beforeAll(async () => {
  const browser = launchChromium();
  // One Vite build after the other (two cores), the browser starting meanwhile.
  production = await startViteExample('react', { accessTokenTtl: 10 });
  development = await startViteExample('react', { accessTokenTtl: 10, mode: 'development' });
  chromium = await browser;
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
}, 60_000);
afterAll(async () => {
  await Promise.all([chromium?.close(), production?.stop(), development?.stop()]);
});

async function openExample(example: RunningViteExample) {
  const context = await chromium.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const issued = collectIssuedTokens(page, `${example.issuer}/token`);
  await page.goto(example.url);
  await page.waitForFunction(() => window.pageReady === true, undefined, { timeout: 10_000 });
  return { context, page, errors, issued };
}

const grants = (example: RunningViteExample, grant: string) => example.tokenRequests[grant] ?? 0;

describe('the React example in Chromium (Vite builds, oidc-provider, 10 s access tokens)', () => {
  it.concurrent('production build: badge valid → refreshing → valid, degraded in an outage (API still answered), reauthRequired after a revocation', async ({ expect }) => {
    const { context, page, errors, issued } = await openExample(production);
    expect(await badgeLabel(page)).toBe('idle');

    await logInAsPerson(page, production);
    await waitForBadge(page, 'valid', 5_000);
    await expect.poll(() => page.url()).toBe(production.url); // the code left the address bar
    expect(grants(production, 'authorization_code')).toBe(1);
    await expect.poll(() => page.locator(`${badgeSelector()} [data-testid="badge-token"]`).textContent()).toMatch(/^[0-9a-f]{8}$/);
    const firstFingerprint = await page.locator(`${badgeSelector()} [data-testid="badge-token"]`).textContent();
    expect(await page.locator('[data-testid="live-view"] g.state.current').getAttribute('data-state-node')).toBe('valid');

    // The background refresh, 5 s before the 10 s token expires.
    await recordBadge(page);
    await expect.poll(() => grants(production, 'refresh_token'), { timeout: 12_000, interval: 50 }).toBe(1);
    await waitForBadge(page, 'valid', 3_000);
    expect(inOrder(await badgeHistory(page), ['valid', 'refreshing', 'valid'])).toBe(true);
    await expect.poll(() => page.locator(`${badgeSelector()} [data-testid="badge-token"]`).textContent()).not.toBe(firstFingerprint);
    expect(grants(production, 'refresh_token')).toBe(1);
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'react-example-valid.png'), fullPage: true });

    // The token endpoint goes down: the next refresh fails transiently, degraded, the old token served.
    await page.locator('[data-testid="outage-on"]').click();
    await expect.poll(() => page.locator('[data-testid="control-result"]').textContent()).toContain('down');
    await waitForBadge(page, 'degraded', 12_000);
    expect(await badgeLabel(page)).toBe('degraded.retrying');
    expect(await page.locator(`${badgeSelector()} [data-testid="badge-error"]`).textContent()).not.toBe('—');
    await page.locator('[data-testid="call-api"]').click();
    await expect.poll(() => page.locator('[data-testid="api-result"]').textContent()).toMatch(/^HTTP 200: .*"hello":"alice"/);
    expect(await page.locator('[data-testid="live-view"] g.sub.current').getAttribute('data-state-node')).toBe('degraded.retrying');
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'react-example-degraded.png'), fullPage: true });

    // Revoked at the server, then back up: the retry is rejected (invalid_grant); the valid token is
    // served until it expires, then re-authentication is required.
    await page.locator('[data-testid="revoke"]').click();
    await expect.poll(() => page.locator('[data-testid="control-result"]').textContent()).toContain('revoked 1 grant');
    await page.locator('[data-testid="outage-off"]').click();
    await waitForBadge(page, 'reauthRequired', 15_000);
    expect(await page.locator(`${badgeSelector()} [data-testid="badge-error"]`).textContent()).toBe('invalid_grant');
    expect(await page.locator(`${badgeSelector()} [data-testid="badge-token"]`).textContent()).toBe('—');
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'react-example-reauth-required.png'), fullPage: true });

    // One code exchange; two refresh requests reached the server: the good one and the rejected retry.
    expect(grants(production, 'authorization_code')).toBe(1);
    expect(grants(production, 'refresh_token')).toBe(2);
    // No token value the server issued is anywhere in the page.
    const html = await page.content();
    expect(issued.length).toBeGreaterThanOrEqual(4);
    for (const token of issued) expect(html.includes(token)).toBe(false);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  it.concurrent('development build under StrictMode: 1 code exchange per login and 1 refresh request per cycle, counted at the server', async ({ expect }) => {
    const { context, page, errors } = await openExample(development);
    // StrictMode ran the App's mount effect twice: this build really double-invokes.
    expect(await page.evaluate(() => window.appMounts)).toBe(2);

    await logInAsPerson(page, development);
    await waitForBadge(page, 'valid', 5_000);
    await expect.poll(() => page.url()).toBe(development.url);
    expect(grants(development, 'authorization_code')).toBe(1);

    for (const cycle of [1, 2]) {
      await recordBadge(page);
      await expect.poll(() => grants(development, 'refresh_token'), { timeout: 12_000, interval: 50 }).toBe(cycle);
      await waitForBadge(page, 'valid', 3_000);
      expect(inOrder(await badgeHistory(page), ['valid', 'refreshing', 'valid'])).toBe(true);
    }
    // Nothing more while the third cycle's token is fresh.
    await page.waitForTimeout(500);
    expect(grants(development, 'refresh_token')).toBe(2);
    expect(grants(development, 'authorization_code')).toBe(1);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);
});
