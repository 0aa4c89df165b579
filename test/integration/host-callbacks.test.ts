/**
 * A user's callback never takes its host down (issue 21 case 3): a subscribe() listener,
 * onReauthRequired or the inspector, sync or async, that throws or rejects leaves the process alive
 * (no unhandled rejection, exit 0), the lifecycle undisturbed, and is told once: by default as one
 * process warning per failing callback that quotes neither the error's message nor any token.
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

/** A manager whose refresh is rejected (invalid_grant), so the key goes to reauthRequired at once. */
const PRELUDE = `
import { createTokenManager } from './token-lifecycle.mjs';
const rejected = () => Promise.reject(Object.assign(new Error('denied'), { code: 'invalid_grant' }));
const login = { access_token: 'AT-SECRET-1', token_type: 'Bearer', expires_in: 0, refresh_token: 'RT-SECRET-1' };
const secretError = () => new Error('failure quoting AT-SECRET-1');
`;

const warnings = (stderr: string) => lines(stderr).filter((line) => line.includes('TokenLifecycleWarning'));

describe('callbacks that fail, by default', () => {
  it('an async listener and an async onReauthRequired that reject: exit 0, the lifecycle goes on, one warning each', async () => {
    const result = await host.run(`${PRELUDE}
const m = createTokenManager({ endpoint: { refresh: rejected }, onReauthRequired: async () => { throw secretError(); } });
const seen = [];
m.subscribe(async () => { await null; throw secretError(); });
m.subscribe((event) => seen.push(event.type));
await m.setToken('k', login);
await new Promise((r) => setTimeout(r, 300));
console.log(m.status('k').state, seen.includes('reauth_required'));
await m.stop();
console.log('done');
`);
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toEqual(['reauthRequired true', 'done']);
    expect(result.stderr).not.toMatch(/Unhandled|AT-SECRET|RT-SECRET|failure quoting/);
    const told = warnings(result.stderr);
    expect(told).toHaveLength(2);
    expect(told.some((w) => w.includes('a subscribe() listener failed (Error)'))).toBe(true);
    expect(told.some((w) => w.includes('the onReauthRequired callback failed (Error)'))).toBe(true);
  });

  it('a sync throw in the same callbacks: the same, and a callback failing on every event is warned about once', async () => {
    const result = await host.run(`${PRELUDE}
const m = createTokenManager({ endpoint: { refresh: rejected }, onReauthRequired: () => { throw secretError(); } });
let calls = 0;
m.subscribe(() => { calls++; throw secretError(); });
await m.setToken('k', login);
await new Promise((r) => setTimeout(r, 300));
console.log(m.status('k').state, calls > 1);
await m.stop();
console.log('done');
`);
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toEqual(['reauthRequired true', 'done']);
    expect(warnings(result.stderr)).toHaveLength(2);
    expect(result.stderr).not.toMatch(/AT-SECRET|RT-SECRET|failure quoting/);
  });

  it('an inspector that throws or rejects: setToken, refresh and stop work; one warning', async () => {
    for (const inspect of ['() => { throw secretError(); }', 'async () => { throw secretError(); }', '{ next() { throw secretError(); } }']) {
      const result = await host.run(`${PRELUDE}
let n = 0;
const endpoint = { refresh: async () => ({ access_token: 'AT-SECRET-' + ++n + 1, token_type: 'Bearer', expires_in: 3600, refresh_token: 'RT-SECRET-2' }) };
const m = createTokenManager({ endpoint, inspect: ${inspect} });
await m.setToken('k', { ...login, expires_in: 3600 });
const t = await m.refresh('k');
console.log(m.status('k').state, t.refreshToken === 'RT-SECRET-2');
await m.stop();
console.log('done');
`);
      expect(result.code, inspect).toBe(0);
      expect(lines(result.stdout), inspect).toEqual(['valid true', 'done']);
      const told = warnings(result.stderr);
      expect(told, inspect).toHaveLength(1);
      expect(told[0]).toContain('the inspector (inspect option) failed (Error)');
      expect(result.stderr).not.toMatch(/AT-SECRET|RT-SECRET|failure quoting/);
    }
  });
});

describe('callbacks that fail, with onError', () => {
  it('each failure reaches onError once with what failed; no warning; an onError that fails itself is warned about once', async () => {
    const result = await host.run(`${PRELUDE}
const told = [];
const m = createTokenManager({
  endpoint: { refresh: rejected },
  onReauthRequired: async () => { throw secretError(); },
  onError: async (error, context) => { told.push(JSON.stringify(context)); if (told.length === 1) throw new Error('reporter broke'); },
});
m.subscribe(async (event) => { if (event.type === 'reauth_required') throw secretError(); });
await m.setToken('k', login);
await new Promise((r) => setTimeout(r, 300));
console.log(told.sort().join(' '));
await m.stop();
console.log('done');
`);
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toEqual([
      '{"callback":"listener","key":"k","event":"reauth_required"} {"callback":"onReauthRequired","key":"k"}',
      'done',
    ]);
    const warned = warnings(result.stderr);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toContain('the onError callback failed (Error)');
  });
});
