/**
 * The story both framework examples are driven through in Chromium (React and Vue, production
 * builds), asserted on the DOM and counted at the server: a person logs in by redirect; the badge
 * goes valid → refreshing → valid across the background refresh (5 s before the 10 s token expires);
 * `degraded` while the token endpoint is down, the API still answering with the still-valid token;
 * `reauthRequired` after a server-side revocation; no token value in the page; and unmounting the app
 * leaves no listener, no actor observer of the page's and no interval behind.
 */
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import type { ExpectStatic } from 'vitest';
import type { BrowserExample } from '../../examples/browser/server.js';
import type { Chromium } from './browser.js';
import {
  badgeHistory,
  badgeLabel,
  badgeSelector,
  countIntervals,
  inOrder,
  leftovers,
  logInAsPerson,
  recordBadge,
  waitForBadge,
} from './framework-example.js';

export interface StoryFigures {
  /** Token requests by grant type at the server, at the end. */
  readonly tokenRequests: Record<string, number>;
  /** Every badge label shown around the first background refresh. */
  readonly refreshLabels: string[];
  readonly mounted: { listeners: number; actorObservers: number; intervals: number };
  readonly unmounted: { listeners: number; actorObservers: number; intervals: number };
}

export async function badgeStory(
  expect: ExpectStatic,
  chromium: Chromium,
  example: BrowserExample,
  screenshots: { dir: string; prefix: string },
): Promise<StoryFigures> {
  const context: BrowserContext = await chromium.newContext();
  await countIntervals(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const grants = (grant: string) => example.tokenRequests[grant] ?? 0;
  const badge = (id: string) => page.locator(`${badgeSelector()} [data-testid="${id}"]`).textContent();
  const shot = (name: string) => page.screenshot({ path: join(screenshots.dir, `${screenshots.prefix}-${name}.png`), fullPage: true });

  await page.goto(example.url);
  await page.waitForFunction(() => window.pageReady === true, undefined, { timeout: 10_000 });
  expect(await badgeLabel(page)).toBe('idle');

  await logInAsPerson(page, example);
  await waitForBadge(page, 'valid', 10_000);
  await expect.poll(() => page.url()).toBe(example.url); // the code left the address bar
  expect(grants('authorization_code')).toBe(1);
  await expect.poll(() => badge('badge-token')).toMatch(/^[0-9a-f]{8}$/);
  const firstFingerprint = await badge('badge-token');
  expect(await page.locator('[data-testid="live-view"] g.state.current').getAttribute('data-state-node')).toBe('valid');

  // The background refresh: one request at the server, the badge through refreshing and back.
  await recordBadge(page);
  await expect.poll(() => grants('refresh_token'), { timeout: 12_000, interval: 50 }).toBe(1);
  await waitForBadge(page, 'valid', 3_000);
  const refreshLabels = await badgeHistory(page);
  expect(inOrder(refreshLabels, ['valid', 'refreshing', 'valid'])).toBe(true);
  await expect.poll(() => badge('badge-token')).not.toBe(firstFingerprint);
  expect(grants('refresh_token')).toBe(1);
  await shot('valid');

  // The token endpoint goes down: the next refresh fails transiently, degraded, the old token served.
  await page.locator('[data-testid="outage-on"]').click();
  await expect.poll(() => page.locator('[data-testid="control-result"]').textContent()).toContain('down');
  await waitForBadge(page, 'degraded', 12_000);
  expect(await badgeLabel(page)).toBe('degraded.retrying');
  expect(await badge('badge-error')).toBe('refresh_failed');
  await page.locator('[data-testid="call-api"]').click();
  await expect.poll(() => page.locator('[data-testid="api-result"]').textContent()).toMatch(/^HTTP 200: .*"hello":"alice"/);
  expect(await page.locator('[data-testid="live-view"] g.sub.current').getAttribute('data-state-node')).toBe('degraded.retrying');
  await shot('degraded');

  // Revoked at the server, then back up: the retry is rejected (invalid_grant); the valid token is
  // served until it expires, then re-authentication is required.
  await page.locator('[data-testid="revoke"]').click();
  await expect.poll(() => page.locator('[data-testid="control-result"]').textContent()).toContain('revoked 1 grant');
  await page.locator('[data-testid="outage-off"]').click();
  await waitForBadge(page, 'reauthRequired', 15_000);
  expect(await badge('badge-error')).toBe('invalid_grant');
  expect(await badge('badge-token')).toBe('—');
  await shot('reauth-required');

  // One code exchange; two refresh requests reached the server: the good one and the rejected retry
  // (the outage's 503s are answered before the count).
  expect(grants('authorization_code')).toBe(1);
  expect(grants('refresh_token')).toBe(2);
  // No token value the server issued is anywhere in the page.
  const html = await page.content();
  const issued = example.issuedTokens;
  expect(issued.length).toBeGreaterThanOrEqual(2);
  for (const token of issued) expect(html.includes(token)).toBe(false);

  // Unmounting the app ends every listener, the live view's actor observer and every interval.
  const mounted = await leftovers(page);
  expect(mounted.listeners).toBeGreaterThan(0);
  expect(mounted.intervals).toBeGreaterThan(0);
  await page.evaluate(() => window.exampleProbe?.unmount());
  const unmounted = await leftovers(page);
  expect(unmounted.listeners).toBe(0);
  expect(unmounted.intervals).toBe(0);
  expect(mounted.actorObservers - unmounted.actorObservers).toBe(1);

  expect(errors).toEqual([]);
  await context.close();
  return { tokenRequests: { ...example.tokenRequests }, refreshLabels, mounted, unmounted };
}
