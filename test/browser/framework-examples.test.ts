/**
 * The React and Vue examples (examples/react, examples/vue; built by Vite's JS API into temporary
 * directories) in Debian's Chromium against oidc-provider with 10-second access tokens (refresh 5 s
 * before expiry). One file with three concurrent tests, so the token clocks run side by side
 * (rather than three files, each waiting out its own token clocks):
 * - React production build and Vue production build, through the same story
 *   (test/support/badge-story.ts): redirect login; the badge valid → refreshing → valid across the
 *   background refresh; `degraded` while the token endpoint is down, the API call (`useAuthFetch`)
 *   still answered with the still-valid token; `reauthRequired` after a server-side revocation; no
 *   token value in the page; unmounting (the end of every component scope) leaves no listener, actor
 *   observer or interval. Counted at the server: 1 code exchange, 2 refresh requests (1 good, 1
 *   rejected after the revocation).
 * - React development build (StrictMode double-invokes effects only there, and the page shows it
 *   did): exactly 1 code exchange for the login and 1 refresh request per cycle over two cycles.
 * Screenshots and each run's figures (JSON) go to reports/browser/ (gitignored).
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
let vue: RunningViteExample;

beforeAll(async () => {
  const browser = launchChromium();
  // One Vite build after the other (two cores; ~1.5 s each), the browser starting meanwhile.
  production = await startViteExample('react', { accessTokenTtl: 10 });
  development = await startViteExample('react', { accessTokenTtl: 10, mode: 'development' });
  vue = await startViteExample('vue', { accessTokenTtl: 10 });
  chromium = await browser;
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
}, 60_000);
afterAll(async () => {
  await Promise.all([chromium?.close(), production?.stop(), development?.stop(), vue?.stop()]);
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

describe('the React and Vue examples in Chromium (Vite builds, oidc-provider, 10 s access tokens)', () => {
  it.concurrent('React, production build: badge valid → refreshing → valid, degraded in an outage (API still answered), reauthRequired after a revocation; unmount leaves nothing', async ({ expect }) => {
    const figures = await badgeStory(expect, chromium, production, { dir: SCREENSHOT_DIR, prefix: 'react-example' });
    writeFileSync(join(SCREENSHOT_DIR, 'react-example-production.json'), JSON.stringify(figures, null, 2));
  }, 60_000);

  it.concurrent('Vue, production build: badge valid → refreshing → valid, degraded in an outage (API still answered), reauthRequired after a revocation; scope end leaves nothing', async ({ expect }) => {
    const figures = await badgeStory(expect, chromium, vue, { dir: SCREENSHOT_DIR, prefix: 'vue-example' });
    writeFileSync(join(SCREENSHOT_DIR, 'vue-example-production.json'), JSON.stringify(figures, null, 2));
  }, 60_000);

  it.concurrent('React, development build under StrictMode: 1 code exchange per login and 1 refresh request per cycle, counted at the server', async ({ expect }) => {
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
