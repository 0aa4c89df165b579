/**
 * The one channel for a user's failing callback (issue 21 case 3): `onError(error, context)`, told
 * once per failure, with the default of one process warning per failing callback. A failure never
 * disturbs the lifecycle: other listeners still hear every event, states and tokens are unchanged.
 * (The host process itself, exit codes and unhandled rejections: test/integration/host-callbacks.test.ts.)
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CallbackErrorContext, TokenEvent } from '../../../machines/manager/api-types.js';
import { createCallbacks } from '../../../machines/manager/callbacks.js';
import { InvalidGrantError } from '../../../machines/lifecycle/errors.js';
import { advance, settle } from '../../support/fake-endpoint.js';
import { simulatedManager } from '../../support/simulated-manager.js';

const login = { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' };

afterEach(() => {
  vi.restoreAllMocks();
});

function recorder() {
  const told: Array<{ error: unknown; context: CallbackErrorContext }> = [];
  return { told, onError: (error: unknown, context: CallbackErrorContext) => void told.push({ error, context }) };
}

describe('onError', () => {
  it('hears each failing listener once per failure, sync or async; the other listeners hear every event', async () => {
    const { told, onError } = recorder();
    const { clock, manager } = simulatedManager({ onError });
    const boom = new Error('sync');
    const later = new Error('async');
    const heard: TokenEvent['type'][] = [];
    manager.subscribe(() => {
      throw boom;
    });
    manager.subscribe(async () => {
      await null;
      throw later;
    });
    manager.subscribe((event) => heard.push(event.type));
    await manager.setToken('k', login);
    await advance(clock, 56 * 60_000); // a background refresh: state events and refreshed
    await settle();
    expect(heard).toContain('refreshed');
    expect(told.filter((t) => t.error === boom)).toHaveLength(heard.length);
    expect(told.filter((t) => t.error === later)).toHaveLength(heard.length);
    expect(told.map((t) => t.context)).toContainEqual({ callback: 'listener', key: 'k', event: 'refreshed' });
    expect(manager.status('k').state).toBe('valid');
    await manager.stop();
  });

  it('hears onReauthRequired failing, sync or async; the key is in reauthRequired all the same', async () => {
    for (const onReauthRequired of [
      () => {
        throw new Error('sync');
      },
      async () => {
        throw new Error('async');
      },
    ]) {
      const { told, onError } = recorder();
      const { clock, endpoint, manager } = simulatedManager({ onError, onReauthRequired });
      endpoint.next({ kind: 'throw', error: new InvalidGrantError() });
      await manager.setToken('k', { ...login, expires_in: 0 });
      await advance(clock, 1);
      expect(told.map((t) => t.context)).toEqual([{ callback: 'onReauthRequired', key: 'k' }]);
      expect(manager.status('k').state).toBe('reauthRequired');
      await manager.stop();
    }
  });

  it('hears a failing inspector; the actor and the login are unaffected', async () => {
    const { told, onError } = recorder();
    const { manager } = simulatedManager({
      onError,
      inspect: () => {
        throw new Error('inspector');
      },
    });
    await expect(manager.setToken('k', login)).resolves.toMatchObject({ accessToken: 'at-0' });
    expect((await manager.refresh('k')).accessToken).toBe('at-1');
    expect(told.length).toBeGreaterThan(0);
    expect(new Set(told.map((t) => JSON.stringify(t.context)))).toEqual(new Set(['{"callback":"inspect"}']));
    await manager.stop();
  });

  it('must be a function', () => {
    expect(() => simulatedManager({ onError: 'log' as never })).toThrow(expect.objectContaining({ code: 'invalid_config' }));
    expect(() => simulatedManager({ onReauthRequired: 1 as never })).toThrow(expect.objectContaining({ code: 'invalid_config' }));
  });
});

describe('without onError', () => {
  it('one process warning per failing callback, naming what failed, not the message nor the key', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const { clock, manager } = simulatedManager();
    manager.subscribe(() => {
      throw new TypeError('secret-ish detail');
    });
    manager.subscribe(() => {
      throw new RangeError('other');
    });
    await manager.setToken('user@example.com', login);
    await advance(clock, 56 * 60_000);
    expect(warn).toHaveBeenCalledTimes(2);
    const messages = warn.mock.calls.map((call) => String(call[0]));
    expect(messages[0]).toMatch(/^token-lifecycle: a subscribe\(\) listener failed \(TypeError\) on a '\w+' event; the token lifecycle goes on\./);
    expect(messages[1]).toContain('(RangeError)');
    for (const message of messages) expect(message).not.toMatch(/secret-ish|other|user@example|at-\d|rt-\d/);
    expect(warn.mock.calls[0]?.[1]).toEqual({ type: 'TokenLifecycleWarning', code: 'TOKEN_LIFECYCLE_CALLBACK_FAILED' });
    await manager.stop();
  });

  it('where process.emitWarning is missing (a browser), console.warn', () => {
    const original = Object.getOwnPropertyDescriptor(globalThis, 'process');
    const consoleWarn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    Object.defineProperty(globalThis, 'process', { value: undefined, configurable: true, writable: true });
    try {
      const callbacks = createCallbacks(undefined);
      const listener = (): void => {
        throw new Error('x');
      };
      callbacks.invoke(listener, { callback: 'listener', key: 'k', event: 'state' }, listener);
      callbacks.invoke(listener, { callback: 'listener', key: 'k', event: 'state' }, listener);
    } finally {
      if (original) Object.defineProperty(globalThis, 'process', original);
    }
    expect(consoleWarn).toHaveBeenCalledTimes(1);
    expect(String(consoleWarn.mock.calls[0]?.[0])).toMatch(/^TokenLifecycleWarning: token-lifecycle: a subscribe\(\) listener failed \(Error\)/);
  });
});
