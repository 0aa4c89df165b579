/**
 * token-lifecycle/testing runs in a real Chromium: the kit bundled for the browser (no Node built-in,
 * no test-runner import) generates the lifecycle paths and drives a real manager through each one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lifecyclePaths } from '../../testing/index.js';
import { launchChromium, openPage, servePage, type Chromium, type StaticServer } from '../support/browser.js';

let chromium: Chromium;
let site: StaticServer;

beforeAll(async () => {
  [chromium, site] = await Promise.all([launchChromium(), servePage('test/browser/pages/testing-kit-page.ts')]);
});
afterAll(async () => {
  await Promise.all([chromium?.close(), site?.close()]);
});

describe('the testing kit in Chromium', () => {
  it('drives a manager through every generated path to its target state', async () => {
    const context = await chromium.newContext();
    try {
      const page = await openPage(context, site.url('/'));
      const runs = await page.evaluate(() => window.testingKitPage.runAll());
      expect(runs.map((r) => r.name)).toEqual(lifecyclePaths().map((p) => p.name));
      expect(runs.filter((r) => r.error !== undefined || r.reached !== r.target)).toEqual([]);
      expect(new Set(runs.map((r) => r.target))).toContain('degraded.expired');
      expect(page.errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
