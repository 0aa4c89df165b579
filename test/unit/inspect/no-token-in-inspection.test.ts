/**
 * R13 for inspectors: a full lifecycle through a real manager, every inspection event checked for
 * every token value issued, in every encoding, (a) raw (the structural guarantee: the machine never
 * holds a token value) and (b) through withRedaction.
 */
import { randomBytes } from 'node:crypto';
import { SimulatedClock, type InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import { withRedaction } from '../../../adapters/inspect/index.js';
import { InvalidGrantError, RefreshFailedError } from '../../../machines/lifecycle/errors.js';
import { createTokenManager } from '../../../machines/manager/manager.js';
import { memoryStorage } from '../../../machines/manager/memory-storage.js';
import type { TokenState, TokenStateDetail } from '../../../machines/manager/api-types.js';
import type { TokenEndpoint } from '../../../machines/lifecycle/types.js';
import { advance, scriptedEndpoint } from '../../support/fake-endpoint.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const b64url = (s: string | Buffer): string => Buffer.from(s).toString('base64url');

/** Every token value handed to or issued for the manager in this test. */
const issued: string[] = [];
function jwt(kind: 'at' | 'id'): string {
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: kind === 'at' ? 'at+jwt' : 'JWT', kid: 'k1' }));
  const payload = b64url(JSON.stringify({ iss: 'https://idp.test', sub: 'alice', jti: randomBytes(12).toString('hex'), exp: 2e9 }));
  const token = `${header}.${payload}.${b64url(randomBytes(64))}`;
  issued.push(token);
  return token;
}
function opaque(): string {
  const token = b64url(randomBytes(32));
  issued.push(token);
  return token;
}
const tokenBody = () => ({ access_token: jwt('at'), refresh_token: opaque(), id_token: jwt('id') });

/** Each value in every encoding it could leak in: plain, JSON-escaped, base64, base64url; JWT parts too. */
function needles(tokens: readonly string[]): string[] {
  const out = new Set<string>();
  const add = (v: string): void => {
    out.add(v);
    out.add(JSON.stringify(v).slice(1, -1));
    out.add(Buffer.from(v).toString('base64').replace(/=+$/, ''));
    out.add(b64url(v));
  };
  for (const token of tokens) {
    add(token);
    const parts = token.split('.');
    if (parts.length === 3) for (const part of parts) add(part);
  }
  return [...out];
}

/**
 * Every string reachable from `root` through properties (own data properties, symbol keys, Map and
 * Set entries; keys too), without calling getters: what any code holding the event could read.
 */
function reachableStrings(root: unknown, seen = new Set<unknown>()): string[] {
  const strings: string[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'string') {
      strings.push(value);
      continue;
    }
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null || seen.has(value)) continue;
    seen.add(value);
    if (value instanceof Map) for (const [k, v] of value) stack.push(k, v);
    if (value instanceof Set) for (const v of value) stack.push(v);
    for (const key of Reflect.ownKeys(value)) {
      if (typeof key === 'string') strings.push(key);
      const descriptor = Object.getOwnPropertyDescriptor(value, key);
      if (descriptor && 'value' in descriptor) stack.push(descriptor.value);
    }
  }
  return strings;
}

function leaks(texts: readonly string[], targets: readonly string[]): string[] {
  return targets.filter((needle) => texts.some((text) => text.includes(needle)));
}

describe('inspection events carry no token value (R13)', () => {
  it('through a whole lifecycle: raw events (structural) and withRedaction events', async () => {
    const clock = new SimulatedClock();
    clock.set(1_000_000);
    const scripted = scriptedEndpoint({ expiresIn: 3600 });
    let outage = false;
    const endpoint: TokenEndpoint = {
      refresh: async (refreshToken, options) => {
        if (outage) throw new TypeError('fetch failed');
        return scripted.refresh(refreshToken, options);
      },
    };
    const raw: Array<{ type: string; json: string; strings: string[] }> = [];
    const redacted: InspectionEvent[] = [];
    const redactedJson: string[] = [];
    const viaRedaction = withRedaction({
      next: (event: InspectionEvent) => {
        redacted.push(event);
        redactedJson.push(JSON.stringify(event));
      },
    });
    const manager = createTokenManager({
      endpoint,
      storage: memoryStorage({ now: () => clock.now() }),
      clock,
      random: () => 0.5,
      // (a) the raw event, as a plain inspector sees it, examined at once; (b) the same through withRedaction.
      inspect: (event) => {
        raw.push({ type: event.type, json: JSON.stringify(event), strings: reachableStrings(event) });
        viaRedaction(event);
      },
    });
    const visited = new Set<string>();
    manager.subscribe((e) => {
      if (e.type === 'state') visited.add(e.detail ? `${e.state}.${e.detail}` : e.state);
    });
    const expectState = (state: TokenState, detail?: TokenStateDetail): void => {
      expect(manager.status('k')).toMatchObject({ state, ...(detail ? { detail } : {}) });
    };

    const login = { ...tokenBody(), token_type: 'Bearer', expires_in: 3600, scope: 'openid' };
    await manager.setToken('k', login);
    expectState('valid');
    expect((await manager.getToken('k')).accessToken).toBe(login.access_token);

    // Background refresh at refreshAt (R3).
    const first = tokenBody();
    scripted.next({ kind: 'ok', body: first });
    await advance(clock, HOUR - 5 * MIN);
    expectState('valid');
    expect((await manager.getToken('k')).accessToken).toBe(first.access_token);

    // A transient failure with Retry-After: degraded.retrying, then recovery (R5).
    scripted.next({ kind: 'throw', error: new RefreshFailedError('down', { status: 503, retryAfter: 10_000 }) });
    await advance(clock, HOUR - 5 * MIN);
    expectState('degraded', 'retrying');
    expect((await manager.getToken('k')).accessToken).toBe(first.access_token);
    const second = tokenBody();
    scripted.next({ kind: 'ok', body: second });
    await advance(clock, 10_000);
    expectState('valid');
    expect((await manager.getToken('k')).accessToken).toBe(second.access_token);

    // A forced refresh.
    const third = tokenBody();
    scripted.next({ kind: 'ok', body: third });
    expect((await manager.refresh('k')).accessToken).toBe(third.access_token);

    // An outage that outlasts the token: degraded.retrying, then degraded.expired, then recovery (R6).
    outage = true;
    await advance(clock, HOUR - 5 * MIN);
    expectState('degraded', 'retrying');
    await advance(clock, 5 * MIN);
    expectState('degraded', 'expired');
    await expect(manager.getToken('k')).rejects.toMatchObject({ code: 'refresh_failed' });
    outage = false;
    const fourth = tokenBody();
    scripted.next({ kind: 'ok', body: fourth });
    await advance(clock, 5 * MIN);
    expectState('valid');
    expect((await manager.getToken('k')).accessToken).toBe(fourth.access_token);

    // invalid_grant while valid: degraded.rejected until expiry, then reauthRequired (R6).
    scripted.next({ kind: 'throw', error: new InvalidGrantError({ status: 400 }) });
    await advance(clock, HOUR - 5 * MIN);
    expectState('degraded', 'rejected');
    await advance(clock, 5 * MIN);
    expectState('reauthRequired');
    await expect(manager.getToken('k')).rejects.toMatchObject({ code: 'reauth_required', reason: 'invalid_grant' });

    // A new login, a logout without revocation, and stop.
    await manager.setToken('k', { ...tokenBody(), token_type: 'Bearer', expires_in: 3600 });
    expectState('valid');
    await manager.remove('k', { revoke: false });
    expectState('idle');
    await manager.stop();

    // The lifecycle did go everywhere (else this test proves little).
    expect([...visited].sort()).toEqual(
      ['degraded.expired', 'degraded.rejected', 'degraded.retrying', 'idle', 'nearExpiry', 'reauthRequired', 'refreshing', 'valid'].sort(),
    );
    expect(scripted.received.length).toBeGreaterThanOrEqual(5);
    expect(issued.length).toBe(3 * 6);
    expect(new Set(raw.map((e) => e.type))).toEqual(
      new Set(['@xstate.actor', '@xstate.event', '@xstate.snapshot', '@xstate.microstep', '@xstate.action']),
    );

    const targets = needles(issued);
    // (a) Structural: no token in any raw event, as JSON or anywhere reachable from it. The walk does
    // reach into the live actors (their context, the invoked refresh actor, the machine's definition).
    expect(raw.length).toBeGreaterThan(100);
    const reached = new Set(raw.flatMap((e) => e.strings));
    for (const name of ['hasRefreshToken', 'refreshTokens', 'untilRefreshWindow', 'isRejectionWhileUsable']) expect(reached).toContain(name);
    for (const event of raw) {
      expect(leaks([event.json], targets), `${event.type} as JSON`).toEqual([]);
      expect(leaks(event.strings, targets), `${event.type} reachable`).toEqual([]);
    }
    // (b) Through withRedaction: every event arrives, none carries a token, and the metadata is still there.
    expect(redacted).toHaveLength(raw.length);
    expect(leaks(redactedJson, targets)).toEqual([]);
    for (const event of redacted) {
      expect(leaks(reachableStrings(event), targets)).toEqual([]);
      expect(leaks([JSON.stringify(event.actorRef.getSnapshot()) ?? ''], targets)).toEqual([]);
    }
    const snapshots = redacted.filter((e): e is Extract<InspectionEvent, { type: '@xstate.snapshot' }> => e.type === '@xstate.snapshot');
    const rejected = snapshots.find((e) => JSON.stringify((e.snapshot as { value?: unknown }).value) === '{"degraded":"rejected"}');
    expect(rejected).toBeDefined();
    const context = (rejected?.snapshot as { context?: { token?: { expiresAt?: unknown; hasRefreshToken?: unknown } } }).context;
    expect(typeof context?.token?.expiresAt).toBe('number');
    expect(context?.token?.hasRefreshToken).toBe(true);
  });

  it('the check can fail: tokens put into an event are found raw, and withRedaction removes them', () => {
    const token = jwt('at');
    const refresh = opaque();
    const targets = needles([token, refresh]);
    const event = {
      type: '@xstate.event',
      rootId: 'x:0',
      actorRef: { sessionId: 'x:0', send() {}, getSnapshot: () => ({ context: { accessToken: token } }) },
      event: { type: 'LEAK', refresh_token: refresh, note: `Bearer ${token}`, list: [token], headers: { Authorization: `Bearer ${refresh}` } },
      sourceRef: undefined,
    } as unknown as InspectionEvent;
    expect(leaks([JSON.stringify(event)], targets)).toEqual(expect.arrayContaining([token, refresh]));
    expect(leaks([JSON.stringify(event.actorRef.getSnapshot())], targets)).toContain(token);
    const seen: InspectionEvent[] = [];
    withRedaction((e) => seen.push(e))(event);
    expect(seen).toHaveLength(1);
    expect(leaks([JSON.stringify(seen[0])], targets)).toEqual([]);
    expect(leaks(reachableStrings(seen[0]), targets)).toEqual([]);
    expect(JSON.stringify(seen[0]!.actorRef.getSnapshot())).toBe('{"context":{"accessToken":"[redacted]"}}');
  });
});
