/**
 * Real-Chromium test harness (Debian's /usr/bin/chromium driven by playwright-core; never a download,
 * never jsdom). vitest runs in Node; the code under test runs in the page, bundled by esbuild for the
 * browser, served from loopback.
 *
 *   const chromium = await launchChromium();                  // beforeAll: one browser per test file
 *   const site = await servePage('test/browser/pages/manager-page.ts');  // bundles, serves at '/'
 *   const context = await chromium.newContext();              // one profile: its tabs share storage
 *   const page = await openPage(context, site.url('/'));      // waits for the bundle to have run
 *   const result = await page.evaluate(() => window.managerPage.run());
 *   await site.close(); await chromium.close();               // afterAll
 *
 * - `launchChromium()`: headless, `--no-sandbox` and the project's flags; every launch gets a fresh
 *   temporary user-data dir (Playwright's, removed on close) so no state leaks between runs.
 * - `newContext()` is a fresh, isolated profile; pages (tabs) of one context share localStorage,
 *   IndexedDB, Web Locks and BroadcastChannel, as tabs of one browser window do.
 * - `bundleForBrowser(entry)`: esbuild, `platform: 'browser'`, ESM, one file (no Node built-in can
 *   sneak in: esbuild fails on `node:*` imports for this platform).
 * - `serveStatic(files)` / `servePage(entry, { html?, files? })`: a loopback HTTP server (127.0.0.1,
 *   random port) for those bundles; a different server is a different origin, hence different storage.
 * - `openPage(context, url)`: opens a tab, collects uncaught page errors into `page.errors` (assert
 *   they are empty), and waits until the page's bundle set `window.pageReady = true`.
 *   Page entries assign their API to `window.<name>` and set `window.pageReady = true` at the end.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { build } from 'esbuild';
import { chromium as playwrightChromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

declare global {
  interface Window {
    /** Set by a page entry once its API is on `window`. */
    pageReady?: boolean;
  }
}

export interface Chromium {
  readonly browser: Browser;
  /** A fresh isolated profile (cookies, storage). Its pages share storage like tabs of one window. */
  newContext(): Promise<BrowserContext>;
  /** Closes the browser (Playwright removes its temporary user-data dir). */
  close(): Promise<void>;
}

/**
 * Launches headless Debian Chromium. Playwright's `launch()` gives every launch a fresh temporary
 * user-data dir (`/tmp/playwright_chromiumdev_profile-*`, removed on close), and every context a
 * fresh profile on top. Share one per test file.
 */
export async function launchChromium(): Promise<Chromium> {
  const browser = await playwrightChromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  return {
    browser,
    newContext: () => browser.newContext(),
    close: () => browser.close(),
  };
}

export interface BundleOptions {
  /** Replaces global identifiers at build time, e.g. `{ 'process.env.NODE_ENV': '"production"' }`. */
  define?: Record<string, string>;
  /** Replaces imports, e.g. `{ vitest: 'test/support/in-page-vitest.ts' }` to run a shared suite in the page. */
  alias?: Record<string, string>;
  minify?: boolean;
}

/** Bundles a TypeScript entry (path relative to the project root, or absolute) for the browser. */
export async function bundleForBrowser(entry: string, options: BundleOptions = {}): Promise<string> {
  const result = await build({
    entryPoints: [resolve(entry)],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: options.minify ?? false,
    sourcemap: 'inline',
    logLevel: 'silent',
    define: options.define ?? {},
    alias: Object.fromEntries(Object.entries(options.alias ?? {}).map(([name, path]) => [name, resolve(path)])),
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error(`esbuild produced nothing for ${entry}`);
  return file.text;
}

export interface StaticFile {
  body: string | Uint8Array;
  /** Content-Type; guessed from the path's extension when absent. */
  type?: string;
  headers?: Record<string, string>;
}

export interface StaticServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  url(path?: string): string;
  /** Adds or replaces a file while serving. */
  set(path: string, file: string | StaticFile): void;
  /** Requests served, by path (query string stripped). */
  readonly requests: Map<string, number>;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  json: 'application/json',
  css: 'text/css',
  svg: 'image/svg+xml',
};

/** Serves fixed files on 127.0.0.1 (random port); anything else is a 404. */
export async function serveStatic(files: Record<string, string | StaticFile>): Promise<StaticServer> {
  const table = new Map<string, StaticFile>();
  const set = (path: string, file: string | StaticFile): void => {
    table.set(path, typeof file === 'string' ? { body: file } : file);
  };
  for (const [path, file] of Object.entries(files)) set(path, file);
  const requests = new Map<string, number>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.set(path, (requests.get(path) ?? 0) + 1);
    const file = table.get(path);
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const ext = path === '/' ? 'html' : (path.split('.').pop() ?? '');
    res.writeHead(200, {
      'content-type': file.type ?? TYPES[ext] ?? 'application/octet-stream',
      'cache-control': 'no-store',
      ...file.headers,
    });
    res.end(file.body);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: (path = '/') => new URL(path, origin).href,
    set,
    requests,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** An HTML page that loads the given module scripts. */
export function htmlPage(scripts: string[], body = ''): string {
  const tags = scripts.map((src) => `<script type="module" src="${src}"></script>`).join('\n');
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>token-lifecycle test</title>\n${tags}</head><body>${body}</body></html>\n`;
}

/** Bundles `entry` and serves it as `/page.js` under an HTML page at `/` (plus any extra `files`). */
export async function servePage(
  entry: string,
  options: { html?: string; files?: Record<string, string | StaticFile>; bundle?: BundleOptions } = {},
): Promise<StaticServer> {
  const script = await bundleForBrowser(entry, options.bundle);
  return serveStatic({ '/': options.html ?? htmlPage(['/page.js']), '/page.js': script, ...options.files });
}

export type TestPage = Page & {
  /** Uncaught errors and unhandled rejections in the page, as messages. */
  readonly errors: string[];
};

/** Opens a tab at `url`, records page errors, and waits for `window.pageReady`. */
export async function openPage(context: BrowserContext, url: string, options: { ready?: boolean } = {}): Promise<TestPage> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(url);
  if (options.ready ?? true) await page.waitForFunction(() => window.pageReady === true, undefined, { timeout: 10_000 });
  return Object.assign(page, { errors });
}
