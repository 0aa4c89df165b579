/**
 * `await manager.stop()` in a user's program (issue 21 cases 1 and 2, R15): it settles within
 * stopTimeout plus a small constant whatever the endpoint and storage do, keeps the process alive
 * while it waits and no longer (the script's own code after it runs, then the process exits by
 * itself with 0, never 13 from a dropped top-level await), and reports what it could not write.
 * Each case runs in its own node process (test/support/host-process.ts).
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

const STOP_TIMEOUT_MS = 1_000;
/** What stop() may take beyond stopTimeout: a loaded 2-core machine, not a second wait. */
const SLACK_MS = 700;

const PRELUDE = `
import { createTokenManager, memoryStorage } from './token-lifecycle.mjs';
const login = { access_token: 'a', token_type: 'Bearer', expires_in: 3600, refresh_token: 'r' };
const fresh = async () => ({ access_token: 'b', token_type: 'Bearer', expires_in: 3600, refresh_token: 'r2' });
const never = () => new Promise(() => {});
const pause = (ms) => new Promise((r) => setTimeout(r, ms));
async function timedStop(m) {
  const started = performance.now();
  const outcome = await m.stop().then(() => 'resolved', (e) => 'rejected ' + e.code);
  console.log(outcome);
  console.log('stop ms', Math.round(performance.now() - started));
}
`;

function stopMs(stdout: string): number {
  const line = lines(stdout).find((l) => l.startsWith('stop ms '));
  return Number(line?.slice('stop ms '.length));
}

describe('stop() with a refresh that never settles', () => {
  it('resolves after stopTimeout; the code after it runs; exit 0', async () => {
    const result = await host.run(`${PRELUDE}
const m = createTokenManager({ endpoint: { refresh: never }, stopTimeout: '${STOP_TIMEOUT_MS}ms' });
await m.setToken('k', login);
m.refresh('k').catch(() => {});
await pause(50);
await timedStop(m);
console.log('done');
`);
    expect(result.hung).toBe(false);
    expect(result.code).toBe(0);
    expect(lines(result.stdout).filter((l) => !l.startsWith('stop ms'))).toEqual(['resolved', 'done']);
    expect(stopMs(result.stdout)).toBeGreaterThanOrEqual(STOP_TIMEOUT_MS - 5);
    expect(stopMs(result.stdout)).toBeLessThan(STOP_TIMEOUT_MS + SLACK_MS);
  });

  it('callers waiting for it (getToken, refresh) get stopped, and nothing is left awaiting: exit 0', async () => {
    const result = await host.run(`${PRELUDE}
const m = createTokenManager({ endpoint: { refresh: never }, stopTimeout: '${STOP_TIMEOUT_MS}ms' });
await m.setToken('k', login);
m.refresh('k').catch(() => {});
await pause(50);
const waiting = m.getToken('k', { signal: AbortSignal.timeout(60_000) }).then(() => 'getToken resolved', (e) => 'getToken ' + e.code);
// Called in the same turn as stop(): it reaches its wait only after stop() has begun.
const late = m.refresh('k').then(() => 'refresh resolved', (e) => 'refresh ' + e.code);
await timedStop(m);
console.log(await waiting);
console.log(await late);
console.log('done');
`);
    expect(result.hung).toBe(false);
    expect(result.code).toBe(0);
    expect(lines(result.stdout).filter((l) => !l.startsWith('stop ms'))).toEqual(['resolved', 'getToken stopped', 'refresh stopped', 'done']);
    expect(stopMs(result.stdout)).toBeLessThan(STOP_TIMEOUT_MS + SLACK_MS);
  });
});

describe('stop() with a storage that hangs', () => {
  it('a refreshed token whose write never settles: rejects storage_failed after stopTimeout, with a storage_failed event; exit 0', async () => {
    const result = await host.run(`${PRELUDE}
const inner = memoryStorage();
let hang = false;
const storage = { get: (k) => inner.get(k), delete: (k) => inner.delete(k), set: (k, r, o) => (hang ? never() : inner.set(k, r, o)) };
const m = createTokenManager({ endpoint: { refresh: fresh }, storage, stopTimeout: '${STOP_TIMEOUT_MS}ms' });
m.subscribe((e) => e.type === 'storage_failed' && console.log('event storage_failed retrying=' + e.retrying));
await m.setToken('k', login);
hang = true;
m.refresh('k').catch(() => {});
await pause(50);
await timedStop(m);
console.log('done');
`);
    expect(result.hung).toBe(false);
    expect(result.code).toBe(0);
    expect(lines(result.stdout).filter((l) => !l.startsWith('stop ms'))).toEqual([
      'event storage_failed retrying=false',
      'rejected storage_failed',
      'done',
    ]);
    expect(stopMs(result.stdout)).toBeLessThan(STOP_TIMEOUT_MS + SLACK_MS);
  });

  it('a write that failed and whose retry at stop() hangs: the same', async () => {
    const result = await host.run(`${PRELUDE}
const inner = memoryStorage();
let mode = 'ok';
const storage = {
  get: (k) => inner.get(k),
  delete: (k) => inner.delete(k),
  set: (k, r, o) => (mode === 'ok' ? inner.set(k, r, o) : mode === 'fail' ? ((mode = 'hang'), Promise.reject(new Error('disk full'))) : never()),
};
const m = createTokenManager({ endpoint: { refresh: fresh }, storage, stopTimeout: '${STOP_TIMEOUT_MS}ms' });
m.subscribe((e) => e.type === 'storage_failed' && console.log('event storage_failed retrying=' + e.retrying));
await m.setToken('k', login);
mode = 'fail';
const t = await m.refresh('k');
console.log('served from memory', t.accessToken);
await timedStop(m);
console.log('done');
`);
    expect(result.hung).toBe(false);
    expect(result.code).toBe(0);
    expect(lines(result.stdout).filter((l) => !l.startsWith('stop ms'))).toEqual([
      'event storage_failed retrying=true',
      'served from memory b',
      'event storage_failed retrying=false',
      'rejected storage_failed',
      'done',
    ]);
    expect(stopMs(result.stdout)).toBeLessThan(STOP_TIMEOUT_MS + SLACK_MS);
  });

  it('a write retry already hanging when stop() begins: waited for (not doubled) within the bound', async () => {
    const result = await host.run(`${PRELUDE}
const inner = memoryStorage();
let mode = 'ok';
let writes = 0;
const storage = {
  get: (k) => inner.get(k),
  delete: (k) => inner.delete(k),
  set: (k, r, o) => {
    if (mode === 'ok') return inner.set(k, r, o);
    writes++;
    return mode === 'fail' ? ((mode = 'hang'), Promise.reject(new Error('disk full'))) : never();
  },
};
const m = createTokenManager({ endpoint: { refresh: fresh }, storage, stopTimeout: '${STOP_TIMEOUT_MS}ms' });
await m.setToken('k', login);
mode = 'fail';
await m.refresh('k');
await pause(700); // the retry (after 500 ms) is in flight, hanging
await timedStop(m);
console.log('writes', writes);
console.log('done');
`);
    expect(result.hung).toBe(false);
    expect(result.code).toBe(0);
    expect(lines(result.stdout).filter((l) => !l.startsWith('stop ms'))).toEqual(['rejected storage_failed', 'writes 2', 'done']);
    expect(stopMs(result.stdout)).toBeLessThan(STOP_TIMEOUT_MS + SLACK_MS);
  });
});

describe('stop() with nothing to wait for', () => {
  it('resolves at once and leaves nothing that keeps the process alive', async () => {
    const result = await host.run(`${PRELUDE}
const m = createTokenManager({ endpoint: { refresh: fresh } });
await m.setToken('k', login);
await timedStop(m);
`);
    expect(result.code).toBe(0);
    expect(stopMs(result.stdout)).toBeLessThan(SLACK_MS);
    expect(result.ms).toBeLessThan(5_000);
  });
});
