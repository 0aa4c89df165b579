/**
 * The Vue example (examples/vue, built by Vite, production) in Debian's Chromium against
 * oidc-provider with 10-second access tokens, through the same story as the React example
 * (test/support/badge-story.ts): redirect login (1 code exchange at the server), the badge valid →
 * refreshing → valid across the background refresh (1 refresh request), `degraded` while the token
 * endpoint is down with the API still answered (`useAuthFetch`), `reauthRequired` after a revocation,
 * no token value in the page, and the app's unmount (the end of every component scope) leaving no
 * listener, no actor observer of the page's and no interval. Screenshots go to reports/browser/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startViteExample, type RunningViteExample } from '../../examples/support/vite-example.js';
import { launchChromium, type Chromium } from '../support/browser.js';
import { badgeStory } from '../support/badge-story.js';

const SCREENSHOT_DIR = resolve('reports/browser');

let chromium: Chromium;
let example: RunningViteExample;

beforeAll(async () => {
  [chromium, example] = await Promise.all([launchChromium(), startViteExample('vue', { accessTokenTtl: 10 })]);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
}, 60_000);
afterAll(async () => {
  await Promise.all([chromium?.close(), example?.stop()]);
});

describe('the Vue example in Chromium (Vite production build, oidc-provider, 10 s access tokens)', () => {
  it('badge valid → refreshing → valid, degraded in an outage (API still answered), reauthRequired after a revocation; scope end leaves nothing', async ({ expect }) => {
    const figures = await badgeStory(expect, chromium, example, { dir: SCREENSHOT_DIR, prefix: 'vue-example' });
    writeFileSync(join(SCREENSHOT_DIR, 'vue-example-production.json'), JSON.stringify(figures, null, 2));
  }, 60_000);
});
