/**
 * webStorage passes the shared TokenStorage contract suite (test/support/storage-contract.ts) inside
 * a real Chromium, for each area, and with the Web Locks API removed (the lease fallback).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { launchChromium, openPage, servePage, type Chromium, type StaticServer } from '../support/browser.js';

let chromium: Chromium;
let site: StaticServer;

beforeAll(async () => {
  [chromium, site] = await Promise.all([
    launchChromium(),
    servePage('test/browser/pages/storage-contract-page.ts', { bundle: { alias: { vitest: 'test/support/in-page-vitest.ts' } } }),
  ]);
});
afterAll(async () => {
  await Promise.all([chromium?.close(), site?.close()]);
});

async function runIn(context: BrowserContext, area: 'local' | 'session' | 'indexeddb') {
  const page = await openPage(context, site.url('/'));
  const outcome = await page.evaluate((a) => window.contractPage.runContract(a), area);
  expect(page.errors).toEqual([]);
  return outcome;
}

function expectAllPassed(results: Array<{ name: string; status: string; error?: string }>, skipped: RegExp | undefined = undefined): void {
  console.log(`contract in the page: ${results.filter((r) => r.status === 'passed').length} passed of ${results.length}`);
  const failed = results.filter((r) => r.status === 'failed').map((r) => `${r.name}: ${r.error}`);
  expect(failed).toEqual([]);
  // Every claimed feature ran: nothing skipped but what the caller expects, and the whole suite was there.
  const skips = results.filter((r) => r.status === 'skipped').map((r) => r.name);
  if (skipped) expect(skips.length > 0 && skips.every((name) => skipped.test(name))).toBe(true);
  else expect(skips).toEqual([]);
  expect(results.length).toBeGreaterThanOrEqual(29);
}

describe('webStorage in Chromium: the TokenStorage contract', () => {
  for (const area of ['local', 'indexeddb', 'session'] as const) {
    it(`area '${area}' passes it`, async () => {
      const context = await chromium.newContext();
      try {
        const { capabilities, results } = await runIn(context, area);
        expectAllPassed(results);
        expect(capabilities).toEqual({
          area,
          sharedAcrossTabs: area !== 'session',
          locks: area === 'session' ? 'lease' : 'web-locks',
          changeFeed: area === 'session' ? 'tab' : 'broadcast-channel',
        });
      } finally {
        await context.close();
      }
    }, 60_000);
  }

  describe('without the Web Locks API and BroadcastChannel', () => {
    let context: BrowserContext;
    beforeAll(async () => {
      context = await chromium.newContext();
      await context.addInitScript(() => {
        delete (Navigator.prototype as { locks?: unknown }).locks;
        delete (globalThis as { BroadcastChannel?: unknown }).BroadcastChannel;
      });
    });
    afterAll(() => context?.close());

    it('the lease lock passes the contract, and capabilities say so', async () => {
      const page = await openPage(context, site.url('/'));
      const { capabilities, results } = await page.evaluate(() => window.contractPage.runContract('local', { subscribe: false }));
      expect(capabilities).toEqual({ area: 'local', sharedAcrossTabs: true, locks: 'lease', changeFeed: 'storage-event' });
      // Its feed reaches other tabs only (tested below); the suite's second instance is in this tab.
      expectAllPassed(results, /subscribe\(listener\)/);
      expect(page.errors).toEqual([]);
    }, 60_000);

    it("the storage event announces one tab's writes and deletes to another tab", async () => {
      const [writer, reader] = [await openPage(context, site.url('/')), await openPage(context, site.url('/'))];
      const prefix = `feed-${Date.now()}`;
      await reader.evaluate((p) => void (window.contractPage.store = window.contractPage.openStore(p, 'local')), prefix);
      await writer.evaluate(async (p) => {
        const storage = window.contractPage.openStore(p, 'local').storage;
        await storage.set('user:alice', { accessToken: 'at-1', tokenType: 'Bearer', obtainedAt: 1, version: 1 });
        await storage.delete('user:alice');
      }, prefix);
      await expect.poll(() => reader.evaluate(() => window.contractPage.store?.heard)).toEqual(['user:alice', 'user:alice']);
      expect(await reader.evaluate(() => window.contractPage.store?.storage.get('user:alice'))).toBeUndefined();
    });
  });
});
