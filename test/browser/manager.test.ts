/**
 * The manager runs in a real Chromium (R16): bundled for the browser from the package entry point
 * (no Node built-in), on the browser's timers (numbers, no `unref`), a background refresh included.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, servePage, type Chromium, type StaticServer } from '../support/browser.js';

let chromium: Chromium;
let site: StaticServer;

beforeAll(async () => {
  [chromium, site] = await Promise.all([launchChromium(), servePage('test/browser/pages/manager-page.ts')]);
});
afterAll(async () => {
  await Promise.all([chromium?.close(), site?.close()]);
});

describe('the manager in Chromium', () => {
  it('serves a token, refreshes it in the background at half its lifetime, serves the new one, stops', async () => {
    const context = await chromium.newContext();
    try {
      const page = await openPage(context, site.url('/'));
      const run = await page.evaluate(() => window.managerPage.backgroundRefresh());
      expect(run.before).toBe('at-0');
      expect(run.after).toBe('at-1');
      expect(run.received).toEqual(['rt-0']);
      expect(run.events).toContain('state:refreshing');
      expect(run.events.at(-1)).toBe('state:valid');
      expect(page.errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
