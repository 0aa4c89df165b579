/**
 * The lifecycle machine runs in a real Chromium on the browser's timers (R16: browser timers have no
 * `unref`; the core's clock must not call it there).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, servePage, type Chromium, type StaticServer } from '../support/browser.js';

let chromium: Chromium;
let site: StaticServer;

beforeAll(async () => {
  [chromium, site] = await Promise.all([launchChromium(), servePage('test/browser/pages/machine-page.ts')]);
});
afterAll(async () => {
  await Promise.all([chromium?.close(), site?.close()]);
});

describe('the lifecycle machine in Chromium', () => {
  it('refreshes in the background on the browser timers, through the chunked clock', async () => {
    const context = await chromium.newContext();
    try {
      const page = await openPage(context, site.url('/'));
      const run = await page.evaluate(() => window.machinePage.backgroundRefresh(150));
      expect(run.refreshes).toBe(1);
      expect(run.states).toEqual(['"idle"', '"valid"', '"nearExpiry"', '"refreshing"', '"valid"']);
      expect(page.errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
