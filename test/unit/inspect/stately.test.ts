/**
 * `@statelyai/inspect` inspectors are accepted by withRedaction (type-level and at runtime) and see
 * only redacted data, including what they read later from the actor (`getSnapshot`, `logic.config`).
 * No network: `createInspector` with an adapter of our own, and a websocket inspector that is never
 * started (`autoStart: false`; it would reconnect forever otherwise) and is stopped.
 */
import { randomBytes } from 'node:crypto';
import {
  createInspector,
  createSkyInspector,
  createWebSocketInspector,
  type StatelyInspectionEvent,
} from '@statelyai/inspect';
import { SimulatedClock } from 'xstate';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { withRedaction, type InspectorLike } from '../../../adapters/inspect/index.js';
import { createTokenManager } from '../../../machines/manager/manager.js';
import type { TokenManagerOptions } from '../../../machines/manager/api-types.js';
import { advance, scriptedEndpoint } from '../../support/fake-endpoint.js';

const b64url = (s: string | Buffer): string => Buffer.from(s).toString('base64url');
const jwt = (): string =>
  `${b64url('{"alg":"RS256","typ":"JWT"}')}.${b64url(JSON.stringify({ jti: randomBytes(8).toString('hex') }))}.${b64url(randomBytes(32))}`;

/** Stately's inspector converts events on a zero-delay timer (its idle callback in Node). */
const flushIdleCallbacks = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

async function runLifecycle(inspect: TokenManagerOptions['inspect']): Promise<string[]> {
  const clock = new SimulatedClock();
  clock.set(1_000_000);
  const endpoint = scriptedEndpoint({ expiresIn: 3600 });
  const manager = createTokenManager({ endpoint, clock, random: () => 0.5, inspect });
  const tokens = [jwt(), b64url(randomBytes(24)), jwt(), b64url(randomBytes(24))];
  await manager.setToken('k', { access_token: tokens[0], refresh_token: tokens[1], token_type: 'Bearer', expires_in: 3600 });
  endpoint.next({ kind: 'ok', body: { access_token: tokens[2], refresh_token: tokens[3] } });
  await advance(clock, 55 * 60_000);
  expect((await manager.getToken('k')).accessToken).toBe(tokens[2]);
  await manager.stop();
  return tokens;
}

describe('@statelyai/inspect inspectors through withRedaction', () => {
  it('are accepted at the type level, and the result fits the manager option', () => {
    expectTypeOf<ReturnType<typeof createInspector>>().toExtend<InspectorLike>();
    expectTypeOf<ReturnType<typeof createWebSocketInspector>>().toExtend<InspectorLike>();
    expectTypeOf<ReturnType<typeof createSkyInspector>>().toExtend<InspectorLike>();
    expectTypeOf(withRedaction).returns.toExtend<NonNullable<TokenManagerOptions['inspect']>>();
    expectTypeOf<{ next: (n: number) => void }>().not.toExtend<InspectorLike>();
  });

  it('createInspector(adapter): receives converted events, draws the machine, sees no token', async () => {
    const sent: StatelyInspectionEvent[] = [];
    const inspector = createInspector({ send: (event) => sent.push(event) });
    const tokens = await runLifecycle(withRedaction(inspector));
    await flushIdleCallbacks();
    inspector.stop();

    const types = new Set(sent.map((e) => e.type));
    expect(types).toEqual(new Set(['@xstate.actor', '@xstate.event', '@xstate.snapshot']));
    const actors = sent.filter((e) => e.type === '@xstate.actor');
    const root = actors.find((e) => e.name === 'token');
    // The definition comes from the stand-in's redacted copy of the machine config.
    expect(root?.definition).toContain('reauthRequired');
    expect(root?.definition).toContain('isRejectionWhileUsable');
    const child = actors.find((e) => e.name === 'refresh');
    expect(child?.parentId).toBe(root?.sessionId);
    const text = JSON.stringify(sent);
    expect(text).toContain('"value":"valid"');
    for (const token of tokens) expect(text).not.toContain(token);
  });

  it('createWebSocketInspector({ autoStart: false }): accepted, defers events, stops cleanly', async () => {
    const inspector = createWebSocketInspector({ url: 'ws://127.0.0.1:9', autoStart: false });
    try {
      const tokens = await runLifecycle(withRedaction(inspector));
      await flushIdleCallbacks();
      const deferred = (inspector.adapter as unknown as { deferredEvents: StatelyInspectionEvent[] }).deferredEvents;
      expect(deferred.length).toBeGreaterThan(10);
      const text = JSON.stringify(deferred);
      for (const token of tokens) expect(text).not.toContain(token);
    } finally {
      inspector.stop();
    }
  });

  it('rejects what is not an inspector (e.g. the adapter createBrowserInspector returns without a window)', () => {
    const adapter = { start() {}, stop() {}, send() {} };
    expect(() => withRedaction(adapter as unknown as InspectorLike)).toThrow(expect.objectContaining({ code: 'invalid_config' }));
  });

  it('an inspector that throws does not disturb the lifecycle', async () => {
    let calls = 0;
    await runLifecycle(
      withRedaction(() => {
        calls++;
        throw new Error('inspector bug');
      }),
    );
    expect(calls).toBeGreaterThan(10);
  });
});
