/**
 * Issue 22, case 8, across real processes and the real file store: a process that calls stop() while
 * its refresh is still in flight (a slow server) must not block the next process for the lock's TTL
 * (30 s by default; 27-29 s were seen). Two ways the stopped process can go on:
 *
 * - it exits at once (as the CLI does, `process.exit` after stop()): its request dies with it, so the
 *   next process takes the lock within the stopped lease (3 s), not the TTL, and refreshes itself;
 * - it lives until the late answer (R15): it keeps the lock meanwhile, so the next process waits for
 *   it and adopts that answer (one request at the server; the rotated refresh token is stored).
 *
 * Node 20 runs no TypeScript: beforeAll bundles the current source (manager, file store, oauth2
 * endpoint) with esbuild into a private directory, and each child is a small ES module script there.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { fileStorage, type FileStorage } from '../../adapters/storage/file/index.js';
import { oauth2Endpoint } from '../../adapters/oauth2/index.js';
import { createTokenManager } from '../../machines/manager/manager.js';
import type { TokenManager } from '../../machines/manager/api-types.js';
import type { ServerResponse } from 'node:http';
import { sendJson, startHostileServer, type HostileServer } from '../support/hostile-server.js';
import { waitUntil } from '../support/lifecycle-helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HOUR = 3_600_000;
/** The manager's default lock TTL: what the next process waited out before the fix. */
const LOCK_TTL_MS = 30_000;

/** Process A: refreshes, waits for the word on stdin (the server has the request), stops, then exits or lingers. */
const CHILD = `
import { createInterface } from 'node:readline';
import { createTokenManager, fileStorage, oauth2Endpoint } from './token-lifecycle.mjs';
const [path, tokenUrl, mode] = process.argv.slice(2);
const storage = fileStorage({ path, watch: false });
const endpoint = oauth2Endpoint({ tokenUrl, clientId: 'stop-client', timeout: '20s' });
const m = createTokenManager({ endpoint, storage, stopTimeout: '100ms' });
const refreshing = m.refresh('default').then(() => 'refreshed', (error) => error.code);
const input = createInterface({ input: process.stdin });
await new Promise((resolve) => input.once('line', resolve));
input.close();
process.stdin.destroy();
await m.stop().then(() => console.log('stopped'), (error) => console.log('stop rejected', error.code));
if (mode === 'exit') process.exit(0);
console.log('refresh', await refreshing);
`;

let work: string;
let server: HostileServer;
let path: string;
/** Requests the server had seen before this test. */
let seenBefore = 0;
/** The server's requests in this test. */
const requests = () => server.requests.slice(seenBefore);
/** Answers held open by the server (never sent): ended after each test. */
const heldOpen: ServerResponse[] = [];
const managers: TokenManager[] = [];
const stores: FileStorage[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tl-stop-mid-refresh-'));
  await build({
    stdin: {
      contents: [
        "export { createTokenManager } from './index.ts';",
        "export { fileStorage } from './adapters/storage/file/index.ts';",
        "export { oauth2Endpoint } from './adapters/oauth2/index.ts';",
      ].join('\n'),
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: join(work, 'token-lifecycle.mjs'),
    logLevel: 'silent',
    // proper-lockfile is CommonJS and requires Node built-ins: give the ESM bundle a real `require`.
    banner: { js: "import { createRequire as __tlCreateRequire } from 'node:module'; const require = __tlCreateRequire(import.meta.url);" },
  });
  await writeFile(join(work, 'child.mjs'), CHILD);
  server = await startHostileServer();
});

beforeEach(async () => {
  path = join(await mkdtemp(join(work, 'store-')), 'tokens.json');
  seenBefore = server.requests.length;
});

afterEach(async () => {
  await Promise.allSettled(managers.splice(0).map((m) => m.stop()));
  await Promise.allSettled(stores.splice(0).map((s) => s.close()));
  for (const response of heldOpen.splice(0)) response.destroy();
});

afterAll(async () => {
  await server?.close();
  await rm(work, { recursive: true, force: true });
});

function store(): FileStorage {
  const s = fileStorage({ path, watch: false });
  stores.push(s);
  return s;
}

function manager(): TokenManager {
  const m = createTokenManager({ endpoint: oauth2Endpoint({ tokenUrl: server.tokenUrl, clientId: 'stop-client' }), storage: store() });
  managers.push(m);
  return m;
}

async function login(expiresAt: number): Promise<void> {
  const now = Date.now();
  await store().set('default', { accessToken: 'at-0', tokenType: 'Bearer', obtainedAt: now - 2 * HOUR, expiresAt, refreshToken: 'rt-0', version: 1 });
}

/** Process A, once the server has its refresh request: told to stop. Resolves to its stdout lines and exit code. */
async function stopMidRefresh(mode: 'exit' | 'linger') {
  const child = spawn(process.execPath, [join(work, 'child.mjs'), path, server.tokenUrl, mode], { cwd: work, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  createInterface({ input: child.stdout }).on('line', (line) => lines.push(line));
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await waitUntil(() => requests().length > 0, 'process A sent its refresh');
  child.stdin.end('stop\n');
  await waitUntil(() => lines.includes('stopped') || lines.some((l) => l.startsWith('stop rejected')), 'process A stopped');
  return { lines, exit, stderr: () => stderr };
}

const tokens = (n: number) => ({ access_token: `at-${n}`, token_type: 'Bearer', expires_in: 3600, refresh_token: `rt-${n}` });

it('a process that exits right after stop() with its refresh in flight: the next one refreshes within seconds, not the lock TTL', { timeout: 60_000 }, async () => {
  await login(Date.now() - HOUR); // expired: the next process must refresh, not serve
  server.answer = (_request, response) => {
    // A's request is never answered (it dies with A); anything after is answered at once.
    if (requests().length === 1) heldOpen.push(response);
    else sendJson(response, 200, tokens(requests().length));
  };
  const a = await stopMidRefresh('exit');
  expect(await a.exit).toBe(0);
  expect(a.lines).toEqual(['stopped']);

  const b = manager();
  const started = performance.now();
  const token = await b.getToken();
  const waited = performance.now() - started;

  expect(token.accessToken).toBe('at-2');
  expect(requests()).toHaveLength(2);
  expect((await store().get('default'))?.refreshToken).toBe('rt-2');
  // At most the stopped lease (3 s) plus polling: far under the 30 s TTL it waited out before.
  expect(waited).toBeLessThan(LOCK_TTL_MS / 3);
});

it('a process that lives on after stop() until its late answer keeps the lock: the next one adopts that answer, one request', { timeout: 30_000 }, async () => {
  await login(Date.now() + HOUR); // valid: the next process's forced refresh must not re-send rt-0
  server.answer = (_request, response) => {
    // Later than the stopped lease (3 s): A must keep extending it while its request is in flight.
    if (requests().length === 1) setTimeout(() => sendJson(response, 200, tokens(1)), 4_500);
    else sendJson(response, 400, { error: 'invalid_grant' }); // a second request would be reuse
  };
  const a = await stopMidRefresh('linger');

  const b = manager();
  const started = performance.now();
  const token = await b.refresh();
  const waited = performance.now() - started;

  expect(token).toMatchObject({ accessToken: 'at-1', refreshToken: 'rt-1' });
  expect(requests()).toHaveLength(1);
  expect((await store().get('default'))?.refreshToken).toBe('rt-1');
  expect(await a.exit).toBe(0);
  expect(a.lines).toEqual(['stopped', 'refresh stopped']);
  expect(a.stderr()).toBe('');
  expect(waited).toBeLessThan(LOCK_TTL_MS / 3);
});
