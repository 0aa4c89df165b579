/**
 * A caller's AbortSignal in a user's program (issue 21 cases 4 and 6): `getToken({ signal })` ends
 * its wait while the credential first loads from a storage that hangs (the process then exits by
 * itself, 0), and many concurrent calls sharing one signal add one abort listener, not one each (no
 * MaxListenersExceededWarning on stderr). Each case runs in its own node process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleCore, lines, type HostHarness } from '../support/host-process.js';

let host: HostHarness;

beforeAll(async () => {
  host = await bundleCore();
});

afterAll(async () => {
  await host.cleanup();
});

const PRELUDE = `
import { createTokenManager } from './token-lifecycle.mjs';
const never = () => new Promise(() => {});
const pause = (ms) => new Promise((r) => setTimeout(r, ms));
`;

describe('getToken({ signal }) while the credential first loads', () => {
  it('a storage.get() that never settles: AbortSignal.timeout(100) ends the wait; exit 0', async () => {
    const result = await host.run(`${PRELUDE}
const storage = { get: never, set: async () => {}, delete: async () => {} };
const m = createTokenManager({ endpoint: { refresh: never }, storage });
const started = performance.now();
const outcome = await m.getToken('k', { signal: AbortSignal.timeout(100) }).then(() => 'resolved', (e) => 'rejected ' + e.name);
console.log(outcome);
console.log('ms', Math.round(performance.now() - started));
`);
    expect(result.hung).toBe(false);
    expect(result.code).toBe(0);
    const [outcome, ms] = lines(result.stdout);
    expect(outcome).toBe('rejected TimeoutError');
    expect(Number(ms?.slice(3))).toBeGreaterThanOrEqual(95);
    expect(Number(ms?.slice(3))).toBeLessThan(1_000);
  });
});

describe('many getToken calls sharing one signal', () => {
  it('50 callers waiting for one refresh with one signal: no MaxListenersExceededWarning, all served', async () => {
    const result = await host.run(`${PRELUDE}
let release;
const endpoint = { refresh: () => new Promise((r) => (release = () => r({ access_token: 'b', token_type: 'Bearer', expires_in: 3600, refresh_token: 'r2' }))) };
const m = createTokenManager({ endpoint });
await m.setToken('k', { access_token: 'a', token_type: 'Bearer', expires_in: 3600, refresh_token: 'r' });
m.refresh('k').catch(() => {});
await pause(20);
const controller = new AbortController();
const callers = Array.from({ length: 50 }, () => m.getToken('k', { signal: controller.signal }));
await pause(20);
release();
const served = await Promise.all(callers);
console.log(served.every((t) => t.accessToken === 'b'));
await m.stop();
`);
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toEqual(['true']);
    expect(result.stderr).not.toContain('MaxListenersExceededWarning');
    expect(result.stderr).toBe('');
  });

  it('50 callers sharing one signal that aborts: each rejects with its reason; the refresh goes on', async () => {
    const result = await host.run(`${PRELUDE}
let release;
const endpoint = { refresh: () => new Promise((r) => (release = () => r({ access_token: 'b', token_type: 'Bearer', expires_in: 3600, refresh_token: 'r2' }))) };
const m = createTokenManager({ endpoint });
await m.setToken('k', { access_token: 'a', token_type: 'Bearer', expires_in: 3600, refresh_token: 'r' });
const forced = m.refresh('k');
await pause(20);
const controller = new AbortController();
const callers = Array.from({ length: 50 }, () => m.getToken('k', { signal: controller.signal }).then(() => 'served', (e) => e.name));
await pause(20);
controller.abort();
console.log([...new Set(await Promise.all(callers))].join());
release();
console.log((await forced).accessToken);
await m.stop();
`);
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toEqual(['AbortError', 'b']);
    expect(result.stderr).toBe('');
  });
});
