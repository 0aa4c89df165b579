/**
 * Shared by the React and Vue example tests (test/browser/framework-examples.test.ts) and the
 * browser example's (test/browser/live-view.test.ts, the login):
 * a person's login through oidc-provider's own pages, the badge's state as the page shows it, a
 * record of every state the badge showed, and the token values the server sent (to prove none
 * reaches the page).
 */
import type { BrowserContext, Page } from 'playwright-core';
import type { BrowserExample } from '../../examples/browser/server.js';
import type {} from '../../examples/frameworks/probe.js';

declare global {
  interface Window {
    /** Every badge label the page showed, in order (set up by `recordBadge`). */
    badgeHistory?: string[];
    /** Intervals set and not yet cleared (set up by `countIntervals`). */
    liveIntervals?: () => number;
  }
}

/** Counts the page's live `setInterval` timers in every page of `context` (`window.liveIntervals()`). */
export async function countIntervals(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const live = new Set<unknown>();
    const set = window.setInterval.bind(window);
    const clear = window.clearInterval.bind(window);
    window.setInterval = ((handler: TimerHandler, timeout?: number, ...rest: unknown[]) => {
      const id = set(handler, timeout, ...rest);
      live.add(id);
      return id;
    }) as typeof window.setInterval;
    window.clearInterval = ((id?: number) => {
      live.delete(id);
      clear(id);
    }) as typeof window.clearInterval;
    window.liveIntervals = () => live.size;
  });
}

/** What the example's probe (examples/frameworks/probe.ts) and the interval count show. */
export async function leftovers(page: Page, credential = 'user'): Promise<{ listeners: number; actorObservers: number; intervals: number }> {
  return page.evaluate((key) => {
    const probe = window.exampleProbe;
    if (!probe) throw new Error('the example exposes no window.exampleProbe');
    return { listeners: probe.listeners(), actorObservers: probe.actorObservers(key), intervals: window.liveIntervals?.() ?? -1 };
  }, credential);
}

export const badgeSelector = (credential = 'user') => `[data-testid="badge-${credential}"]`;

/** Clicks the page's login button and through devInteractions: login (any name, any password), consent. */
export async function logInAsPerson(page: Page, example: Pick<BrowserExample, 'issuer' | 'url'>): Promise<void> {
  await page.locator('[data-testid="login"]').click();
  await page.waitForURL((url) => url.origin === new URL(example.issuer).origin, { timeout: 10_000 });
  await page.locator('input[name="login"]').fill('alice');
  await page.locator('input[name="password"]').fill('any');
  await page.locator('button[type="submit"]').click();
  await page.locator('button[type="submit"]').click(); // consent
  await page.waitForURL((url) => url.href.startsWith(example.url), { timeout: 10_000 });
}

/** The badge's label (`valid`, `degraded.retrying`, ...). */
export async function badgeLabel(page: Page, credential = 'user'): Promise<string> {
  return (await page.locator(`${badgeSelector(credential)} [data-testid="badge-state"]`).textContent()) ?? '';
}

/** Waits until the badge's top-level state is `state`. */
export async function waitForBadge(page: Page, state: string, timeout: number, credential = 'user'): Promise<void> {
  await page.waitForFunction(
    ([selector, s]) => document.querySelector(selector ?? '')?.getAttribute('data-state') === s,
    [badgeSelector(credential), state],
    { timeout },
  );
}

/** Records every label the badge shows from now on into `window.badgeHistory` (a MutationObserver). */
export async function recordBadge(page: Page, credential = 'user'): Promise<void> {
  await page.evaluate((selector) => {
    const label = () => document.querySelector(`${selector} [data-testid="badge-state"]`)?.textContent ?? '';
    const history = [label()];
    window.badgeHistory = history;
    new MutationObserver(() => {
      const now = label();
      if (history[history.length - 1] !== now) history.push(now);
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  }, badgeSelector(credential));
}

export async function badgeHistory(page: Page): Promise<string[]> {
  return page.evaluate(() => window.badgeHistory ?? []);
}

/** True when `sequence` occurs in `history` in order (other labels may come between). */
export function inOrder(history: string[], sequence: string[]): boolean {
  let i = 0;
  for (const label of history) if (label === sequence[i]) i++;
  return i === sequence.length;
}
