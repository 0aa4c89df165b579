/**
 * The React example (examples/react, built by Vite) in Debian's Chromium against oidc-provider with
 * 10-second access tokens (refresh 5 s before expiry):
 * - production build: a person logs in by redirect (`useRedirectLogin`); the badge goes valid →
 *   refreshing → valid across the background refresh; `degraded` while the token endpoint is down,
 *   the API call (`useAuthFetch`) still answered with the still-valid token; `reauthRequired` after a
 *   server-side revocation; no token value in the page; unmounting leaves no listener, actor observer
 *   or interval (test/support/badge-story.ts).
 * - development build (StrictMode double-invokes effects only there): exactly 1 code exchange for
 *   the login and 1 refresh request per cycle over two cycles, counted at the server.
 * Screenshots go to reports/browser/ (gitignored).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startViteExample, type RunningViteExample } from '../../examples/support/vite-example.js';
import { launchChromium, type Chromium } from '../support/browser.js';
import { badgeStory } from '../support/badge-story.js';
import { badgeHistory, inOrder, logInAsPerson, recordBadge, waitForBadge } from '../support/framework-example.js';

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
  await page.goto(example.url);
  await page.waitForFunction(() => window.pageReady === true, undefined, { timeout: 10_000 });
  return { context, page, errors };
}

const grants = (example: RunningViteExample, grant: string) => example.tokenRequests[grant] ?? 0;

describe('the React example in Chromium (Vite builds, oidc-provider, 10 s access tokens)', () => {
  it.concurrent('production build: badge valid → refreshing → valid, degraded in an outage (API still answered), reauthRequired after a revocation; unmount leaves nothing', async ({ expect }) => {
    const figures = await badgeStory(expect, chromium, production, { dir: SCREENSHOT_DIR, prefix: 'react-example' });
    writeFileSync(join(SCREENSHOT_DIR, 'react-example-production.json'), JSON.stringify(figures, null, 2));
  }, 60_000);

  it.concurrent('development build under StrictMode: 1 code exchange per login and 1 refresh request per cycle, counted at the server', async ({ expect }) => {
    const { context, page, errors } = await openExample(development);
    // StrictMode ran the App's mount effect twice: this build really double-invokes.
    expect(await page.evaluate(() => window.appMounts)).toBe(2);

    await logInAsPerson(page, development);
    await waitForBadge(page, 'valid', 10_000);
    await expect.poll(() => page.url()).toBe(development.url);
    expect(grants(development, 'authorization_code')).toBe(1);

    const labels: string[][] = [];
    for (const cycle of [1, 2]) {
      await recordBadge(page);
      await expect.poll(() => grants(development, 'refresh_token'), { timeout: 12_000, interval: 50 }).toBe(cycle);
      await waitForBadge(page, 'valid', 3_000);
      labels.push(await badgeHistory(page));
      expect(inOrder(labels[labels.length - 1] ?? [], ['valid', 'refreshing', 'valid'])).toBe(true);
    }
    // Nothing more while the third cycle's token is fresh.
    await page.waitForTimeout(500);
    expect(grants(development, 'refresh_token')).toBe(2);
    expect(grants(development, 'authorization_code')).toBe(1);
    expect(errors).toEqual([]);
    await context.close();
    const figures = { appMounts: 2, tokenRequests: { ...development.tokenRequests }, refreshLabels: labels };
    writeFileSync(join(SCREENSHOT_DIR, 'react-example-strict-development.json'), JSON.stringify(figures, null, 2));
  }, 60_000);
});
