/**
 * The lifecycle machine driven directly (no manager): what its actions write into the context and
 * what the refresh actor is given, for the cases the manager-level and model-based tests do not
 * reach: failures that are not RefreshFailure objects, failures carrying their own token meta,
 * wake-up history, event times, and the version handed to the refresh actor. Found by mutation
 * testing (docs/mutation.md).
 */
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { eventTime, tokenDelays, tokenMachine, tokenMachineSetup } from '../../../machines/lifecycle/machine.js';
import type { RefreshFailure, RefreshInput, RefreshOutput, TokenMachineInput, TokenMeta } from '../../../machines/lifecycle/machine-types.js';

const T = 1_700_000_000_000;
const HOUR = 3_600_000;

function meta(overrides: Partial<TokenMeta> = {}): TokenMeta {
  return { hasAccessToken: true, hasRefreshToken: true, obtainedAt: T, expiresAt: T + HOUR, version: 3, ...overrides };
}

const input: TokenMachineInput = {
  key: 'k',
  thresholdMs: 5 * 60_000,
  jitterFraction: 0,
  minIntervalMs: 1_000,
  backgroundRefresh: false,
  canRenewWithoutRefreshToken: false,
  retry: { minDelayMs: 1_000, maxDelayMs: 60_000, factor: 2, jitter: 0 },
};

/** An actor whose refresh actor settles as each test says; inputs are recorded. */
function harness(settle: (input: RefreshInput) => Promise<RefreshOutput>, overrides: Partial<TokenMachineInput> = {}, start = T) {
  const clock = new SimulatedClock();
  clock.set(start);
  const inputs: RefreshInput[] = [];
  const machine = tokenMachine.provide({
    actors: {
      refreshTokens: fromPromise<RefreshOutput, RefreshInput>(({ input: given }) => {
        inputs.push(given);
        return settle(given);
      }),
    },
    delays: tokenDelays(() => clock.now()),
  });
  const actor = createActor(machine, { input: { ...input, ...overrides }, clock });
  actor.start();
  return { actor, clock, inputs };
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('eventTime', () => {
  it('reads now, then an output’s at, then an error’s at; anything else is a TypeError naming the event', () => {
    expect(eventTime({ type: 'CHECK', now: 5 } as never)).toBe(5);
    expect(eventTime({ type: 'done', output: { at: 6 } } as never)).toBe(6);
    expect(eventTime({ type: 'error', error: { at: 7 } } as never)).toBe(7);
    expect(() => eventTime({ type: 'error', error: 'boom' } as never)).toThrow(new TypeError('event error carries no time'));
    expect(() => eventTime({ type: 'UNLOAD' })).toThrow(new TypeError('event UNLOAD carries no time'));
    expect(() => eventTime({ type: 'X', now: '5' } as never)).toThrow('event X carries no time');
  });
});

describe('a refresh failure that is not a RefreshFailure (no kind)', () => {
  it('is transient refresh_failed, counts an attempt, keeps the token', async () => {
    const { actor } = harness(() => Promise.reject({ code: 'invalid_grant', at: T }));
    actor.send({ type: 'LOADED', now: T, token: meta() });
    actor.send({ type: 'REFRESH', now: T, force: true });
    await flush();
    const { value, context } = actor.getSnapshot();
    expect(value).toStrictEqual({ degraded: 'retrying' });
    expect(context.attempt).toBe(1);
    expect(context.lastError).toStrictEqual({ code: 'refresh_failed', retryable: true });
    expect(context.token).toStrictEqual(meta());
    expect(context.reason).toBeUndefined();
  });
});

describe('a refresh actor that rejects with no object', () => {
  // Such a rejection carries no time: the actor must stop on that, not on reading `kind` off a primitive.
  it.each([['a string', 'boom'], ['null', null], ['undefined', undefined]])('(%s) stops the actor with "carries no time"', async (_, reason) => {
    const { actor } = harness(() => Promise.reject(reason));
    actor.subscribe({ error: () => {} });
    actor.send({ type: 'LOADED', now: T, token: meta() });
    actor.send({ type: 'REFRESH', now: T, force: true });
    await flush();
    const snapshot = actor.getSnapshot();
    expect(snapshot.status).toBe('error');
    expect((snapshot.error as Error).message).toMatch(/guard 'isUsableAfterFailure'[\s\S]*\nevent xstate\.error\.actor\.refresh carries no time$/);
  });
});

describe('recordFailure', () => {
  it('a permanent failure while usable: rejection and reason in the context, no retryAt, attempt + 1', async () => {
    const failure: RefreshFailure = { startedAt: T, at: T + 10, kind: 'permanent', code: 'invalid_grant' };
    const { actor } = harness(() => Promise.reject(failure));
    actor.send({ type: 'LOADED', now: T, token: meta() });
    actor.send({ type: 'REFRESH', now: T, force: true });
    await flush();
    const { value, context } = actor.getSnapshot();
    expect(value).toStrictEqual({ degraded: 'rejected' });
    expect(context.token).toStrictEqual({ ...meta(), rejection: 'invalid_grant' });
    expect(context.lastError).toStrictEqual({ code: 'invalid_grant', retryable: false });
    expect(context.reason).toBe('invalid_grant');
    expect(context.attempt).toBe(1);
    expect(context.lastRefreshStartedAt).toBe(T);
  });

  it('a transient failure: retryAt in the token, the reason unchanged, no rejection', async () => {
    const failure: RefreshFailure = { startedAt: T, at: T + 10, kind: 'transient', code: 'refresh_failed', retryAt: T + 5_000 };
    const { actor } = harness(() => Promise.reject(failure));
    actor.send({ type: 'LOADED', now: T, token: meta() });
    actor.send({ type: 'REFRESH', now: T, force: true });
    await flush();
    const { value, context } = actor.getSnapshot();
    expect(value).toStrictEqual({ degraded: 'retrying' });
    expect(context.token).toStrictEqual({ ...meta(), retryAt: T + 5_000 });
    expect(context.token).not.toHaveProperty('rejection');
    expect(context.lastError).toStrictEqual({ code: 'refresh_failed', retryable: true });
    expect(context.reason).toBeUndefined();
  });

  it('a transient failure without retryAt adds none', async () => {
    const failure: RefreshFailure = { startedAt: T, at: T + 10, kind: 'transient', code: 'refresh_failed' };
    const { actor } = harness(() => Promise.reject(failure));
    actor.send({ type: 'LOADED', now: T, token: meta() });
    actor.send({ type: 'REFRESH', now: T, force: true });
    await flush();
    expect(actor.getSnapshot().context.token).toStrictEqual(meta());
  });

  it('the token meta a failure carries replaces the old one (a salvaged refresh token), and decides usability', async () => {
    // The old token expired meanwhile; the failure reports a token that is still usable.
    const carried = meta({ version: 4, expiresAt: T + 2 * HOUR });
    const failure: RefreshFailure = { startedAt: T, at: T + HOUR + 1, kind: 'transient', code: 'invalid_token_response', retryAt: T + HOUR + 5_000, token: carried };
    const { actor } = harness(() => Promise.reject(failure));
    actor.send({ type: 'LOADED', now: T, token: meta() });
    actor.send({ type: 'REFRESH', now: T, force: true });
    await flush();
    const { value, context } = actor.getSnapshot();
    expect(value).toStrictEqual({ degraded: 'retrying' });
    expect(context.token).toStrictEqual({ ...carried, retryAt: T + HOUR + 5_000 });
  });

  it('without a token meta, usability is the old token’s at the failure’s time', async () => {
    const failure: RefreshFailure = { startedAt: T, at: T + HOUR, kind: 'transient', code: 'refresh_failed', retryAt: T + HOUR + 5_000 };
    const { actor } = harness(() => Promise.reject(failure));
    actor.send({ type: 'LOADED', now: T, token: meta() });
    actor.send({ type: 'REFRESH', now: T, force: true });
    await flush();
    expect(actor.getSnapshot().value).toStrictEqual({ degraded: 'expired' });
  });

  it('a second failure counts a second attempt, passed to the refresh actor', async () => {
    const failure: RefreshFailure = { startedAt: T, at: T, kind: 'transient', code: 'refresh_failed', retryAt: T };
    const { actor, inputs } = harness(() => Promise.reject(failure));
    actor.send({ type: 'LOADED', now: T, token: meta() });
    actor.send({ type: 'REFRESH', now: T, force: true });
    await flush();
    actor.send({ type: 'REFRESH', now: T, force: true });
    await flush();
    expect(inputs).toStrictEqual([
      { key: 'k', version: 3, attempt: 0 },
      { key: 'k', version: 3, attempt: 1 },
    ]);
    expect(actor.getSnapshot().context.attempt).toBe(2);
  });
});

describe('adoptToken and recordRefresh', () => {
  it('LOADED with history (a woken credential) keeps its refresh history; without, the context’s stays', async () => {
    const output: RefreshOutput = { startedAt: T + 1, at: T + 2, token: meta({ version: 4 }) };
    const { actor } = harness(() => Promise.resolve(output));
    actor.send({ type: 'LOADED', now: T, token: meta(), history: { lastRefreshStartedAt: T - 50, lastRefreshAt: T - 40 } });
    expect(actor.getSnapshot().context).toMatchObject({ lastRefreshStartedAt: T - 50, lastRefreshAt: T - 40 });
    actor.send({ type: 'LOADED', now: T, token: meta() });
    expect(actor.getSnapshot().context).toMatchObject({ lastRefreshStartedAt: T - 50, lastRefreshAt: T - 40 });
    actor.send({ type: 'REFRESH', now: T, force: true });
    await flush();
    expect(actor.getSnapshot().context).toMatchObject({ lastRefreshStartedAt: T + 1, lastRefreshAt: T + 2, attempt: 0, token: meta({ version: 4 }) });
    actor.send({ type: 'LOADED', now: T + 3, token: meta({ version: 5 }), history: {} });
    expect(actor.getSnapshot().context).toMatchObject({ lastRefreshStartedAt: T + 1, lastRefreshAt: T + 2 });
  });

  it('a success clears the failure bookkeeping', async () => {
    let fail = true;
    const { actor } = harness(() =>
      fail
        ? Promise.reject({ startedAt: T, at: T, kind: 'transient', code: 'refresh_failed', retryAt: T } satisfies RefreshFailure)
        : Promise.resolve({ startedAt: T, at: T, token: meta({ version: 9 }) }),
    );
    actor.send({ type: 'LOADED', now: T, token: meta() });
    actor.send({ type: 'REFRESH', now: T, force: true });
    await flush();
    fail = false;
    actor.send({ type: 'REFRESH', now: T, force: true });
    await flush();
    const { value, context } = actor.getSnapshot();
    expect(value).toBe('valid');
    expect(context.attempt).toBe(0);
    expect(context.lastError).toBeUndefined();
    expect(context.reason).toBeUndefined();
  });

  it('UNLOAD forgets the token and every failure', async () => {
    const failure: RefreshFailure = { startedAt: T, at: T, kind: 'permanent', code: 'invalid_grant' };
    const { actor } = harness(() => Promise.reject(failure));
    actor.send({ type: 'LOADED', now: T, token: meta() });
    actor.send({ type: 'REFRESH', now: T, force: true });
    await flush();
    actor.send({ type: 'UNLOAD' });
    const { value, context } = actor.getSnapshot();
    expect(value).toBe('idle');
    expect(context.token).toBeUndefined();
    expect(context.attempt).toBe(0);
    expect(context.lastError).toBeUndefined();
    expect(context.reason).toBeUndefined();
  });
});

describe('REFRESH', () => {
  it('force without any way to refresh does not start one', () => {
    const { actor, inputs } = harness(() => Promise.reject(new Error('never')));
    actor.send({ type: 'LOADED', now: T, token: meta({ hasRefreshToken: false }) });
    actor.send({ type: 'REFRESH', now: T, force: true });
    expect(actor.getSnapshot().value).toBe('valid');
    expect(inputs).toEqual([]);
  });

  it('not forced and not due: re-evaluated, nothing started', () => {
    const { actor, inputs } = harness(() => Promise.reject(new Error('never')));
    actor.send({ type: 'LOADED', now: T, token: meta() });
    actor.send({ type: 'REFRESH', now: T, force: false });
    expect(actor.getSnapshot().value).toBe('valid');
    expect(inputs).toEqual([]);
  });

  it('in degraded.rejected, even forced, only re-evaluates', async () => {
    const failure: RefreshFailure = { startedAt: T, at: T, kind: 'permanent', code: 'invalid_grant' };
    const { actor, inputs } = harness(() => Promise.reject(failure));
    actor.send({ type: 'LOADED', now: T, token: meta() });
    actor.send({ type: 'REFRESH', now: T, force: true });
    await flush();
    actor.send({ type: 'REFRESH', now: T + 1, force: true });
    expect(actor.getSnapshot().value).toStrictEqual({ degraded: 'rejected' });
    actor.send({ type: 'REFRESH', now: T + HOUR, force: true });
    expect(actor.getSnapshot().value).toBe('reauthRequired');
    expect(inputs).toHaveLength(1);
  });
});

describe('LOADED into the right state (R14)', () => {
  it.each<[string, Partial<TokenMeta>, unknown, number]>([
    ['a stored rejection, still usable', { rejection: 'invalid_grant' }, { degraded: 'rejected' }, T],
    ['a stored rejection, expired', { rejection: 'invalid_grant' }, 'reauthRequired', T + HOUR],
    ['a pending retry, usable', { retryAt: T + 10_000 }, { degraded: 'retrying' }, T],
    ['a pending retry, expired', { retryAt: T + HOUR + 10_000 }, { degraded: 'expired' }, T + HOUR],
    ['no refresh token, expired', { hasRefreshToken: false }, 'reauthRequired', T + HOUR],
    ['inside the window', {}, 'nearExpiry', T + HOUR - 60_000],
    ['far from expiry', {}, 'valid', T],
  ])('%s', (_, token, state, now) => {
    const { actor } = harness(() => Promise.reject(new Error('never')));
    actor.send({ type: 'LOADED', now, token: meta(token) });
    expect(actor.getSnapshot().value).toStrictEqual(state);
  });

  it('no refresh token and expired: the reason is refresh_token_missing', () => {
    const { actor } = harness(() => Promise.reject(new Error('never')));
    actor.send({ type: 'LOADED', now: T + HOUR, token: meta({ hasRefreshToken: false }) });
    expect(actor.getSnapshot().context.reason).toBe('refresh_token_missing');
  });
});

describe('timers (background refresh on)', () => {
  it('valid → nearExpiry at the window, then a refresh once allowed', async () => {
    const output: RefreshOutput = { startedAt: T, at: T, token: meta({ version: 4, obtainedAt: T + HOUR - 300_000, expiresAt: T + 2 * HOUR }) };
    const { actor, clock, inputs } = harness(() => Promise.resolve(output), { backgroundRefresh: true });
    actor.send({ type: 'LOADED', now: T, token: meta() });
    clock.increment(HOUR - 300_001);
    expect(actor.getSnapshot().value).toBe('valid');
    clock.increment(1);
    expect(actor.getSnapshot().value).not.toBe('valid');
    clock.increment(0);
    await flush();
    expect(inputs).toHaveLength(1);
  });

  it('nearExpiry without a refresh token: reauthRequired at expiry, reason refresh_token_missing', () => {
    const { actor, clock } = harness(() => Promise.reject(new Error('never')), { backgroundRefresh: true });
    actor.send({ type: 'LOADED', now: T, token: meta({ hasRefreshToken: false }) });
    clock.increment(HOUR - 300_000);
    expect(actor.getSnapshot().value).toBe('nearExpiry');
    clock.increment(299_999);
    expect(actor.getSnapshot().value).toBe('nearExpiry');
    clock.increment(1);
    expect(actor.getSnapshot().value).toBe('reauthRequired');
    expect(actor.getSnapshot().context.reason).toBe('refresh_token_missing');
  });

  it('degraded.retrying retries at retryAt with background refresh, and turns expired at expiry without', async () => {
    const failure: RefreshFailure = { startedAt: T, at: T, kind: 'transient', code: 'refresh_failed', retryAt: T + 10_000 };
    const on = harness(() => Promise.reject(failure), { backgroundRefresh: true });
    on.actor.send({ type: 'LOADED', now: T, token: meta() });
    on.actor.send({ type: 'REFRESH', now: T, force: true });
    await flush();
    on.clock.increment(9_999);
    expect(on.inputs).toHaveLength(1);
    on.clock.increment(1);
    await flush();
    expect(on.inputs).toHaveLength(2);

    const off = harness(() => Promise.reject(failure));
    off.actor.send({ type: 'LOADED', now: T, token: meta() });
    off.actor.send({ type: 'REFRESH', now: T, force: true });
    await flush();
    off.clock.increment(HOUR - 1);
    expect(off.actor.getSnapshot().value).toStrictEqual({ degraded: 'retrying' });
    off.clock.increment(1);
    expect(off.actor.getSnapshot().value).toStrictEqual({ degraded: 'expired' });
    expect(off.inputs).toHaveLength(1);
  });

  it('degraded.expired retries at retryAt with background refresh', async () => {
    const failure: RefreshFailure = { startedAt: T + HOUR, at: T + HOUR, kind: 'transient', code: 'refresh_failed', retryAt: T + HOUR + 10_000 };
    const { actor, clock, inputs } = harness(() => Promise.reject(failure), { backgroundRefresh: true }, T + HOUR);
    actor.send({ type: 'LOADED', now: T + HOUR, token: meta() });
    clock.increment(0);
    await flush();
    expect(actor.getSnapshot().value).toStrictEqual({ degraded: 'expired' });
    expect(inputs).toHaveLength(1);
    clock.increment(9_999);
    expect(inputs).toHaveLength(1);
    clock.increment(1);
    await flush();
    expect(inputs).toHaveLength(2);
  });

  it('degraded.rejected turns reauthRequired at expiry', async () => {
    const failure: RefreshFailure = { startedAt: T, at: T, kind: 'permanent', code: 'invalid_grant' };
    const { actor, clock } = harness(() => Promise.reject(failure), { backgroundRefresh: true });
    actor.send({ type: 'LOADED', now: T, token: meta() });
    actor.send({ type: 'REFRESH', now: T, force: true });
    await flush();
    clock.increment(HOUR - 1);
    expect(actor.getSnapshot().value).toStrictEqual({ degraded: 'rejected' });
    clock.increment(1);
    expect(actor.getSnapshot().value).toBe('reauthRequired');
  });

  it('CHECK re-evaluates from the clock in every state that waits', async () => {
    const failure: RefreshFailure = { startedAt: T, at: T, kind: 'transient', code: 'refresh_failed', retryAt: T + 10_000 };
    const { actor } = harness(() => Promise.reject(failure));
    actor.send({ type: 'LOADED', now: T, token: meta() });
    actor.send({ type: 'CHECK', now: T + HOUR - 60_000 });
    expect(actor.getSnapshot().value).toBe('nearExpiry');
    actor.send({ type: 'CHECK', now: T });
    expect(actor.getSnapshot().value).toBe('valid');
    actor.send({ type: 'REFRESH', now: T, force: true });
    await flush();
    actor.send({ type: 'CHECK', now: T + 10_000 });
    expect(actor.getSnapshot().value).toBe('valid');
  });
});

describe('degraded states, driven by CHECK and timers', () => {
  it('CHECK in degraded.rejected at expiry: reauthRequired at once, without waiting for the timer', async () => {
    const failure: RefreshFailure = { startedAt: T, at: T, kind: 'permanent', code: 'invalid_grant' };
    const { actor } = harness(() => Promise.reject(failure));
    actor.send({ type: 'LOADED', now: T, token: meta() });
    actor.send({ type: 'REFRESH', now: T, force: true });
    await flush();
    expect(actor.getSnapshot().value).toStrictEqual({ degraded: 'rejected' });
    actor.send({ type: 'CHECK', now: T + HOUR });
    expect(actor.getSnapshot().value).toBe('reauthRequired');
  });

  it('CHECK in degraded.expired once the backoff is over: a refresh is needed again (nearExpiry)', async () => {
    const failure: RefreshFailure = { startedAt: T + HOUR, at: T + HOUR, kind: 'transient', code: 'refresh_failed', retryAt: T + HOUR + 10_000 };
    const { actor } = harness(() => Promise.reject(failure), {}, T + HOUR);
    actor.send({ type: 'LOADED', now: T + HOUR, token: meta() });
    actor.send({ type: 'REFRESH', now: T + HOUR, force: true });
    await flush();
    expect(actor.getSnapshot().value).toStrictEqual({ degraded: 'expired' });
    actor.send({ type: 'CHECK', now: T + HOUR + 10_000 });
    expect(actor.getSnapshot().value).toBe('nearExpiry');
  });

  it('degraded.expired without background refresh does not retry by itself at retryAt', async () => {
    const failure: RefreshFailure = { startedAt: T + HOUR, at: T + HOUR, kind: 'transient', code: 'refresh_failed', retryAt: T + HOUR + 10_000 };
    const { actor, clock, inputs } = harness(() => Promise.reject(failure), {}, T + HOUR);
    actor.send({ type: 'LOADED', now: T + HOUR, token: meta() });
    actor.send({ type: 'REFRESH', now: T + HOUR, force: true });
    await flush();
    clock.increment(60_000);
    await flush();
    expect(inputs).toHaveLength(1);
    expect(actor.getSnapshot().value).toStrictEqual({ degraded: 'expired' });
  });
});

describe('the machine as exported (no provide)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('its default delays read the system clock: valid until the refresh window opens', () => {
    vi.useFakeTimers({ now: T });
    const actor = createActor(tokenMachine, { input });
    actor.start();
    actor.send({ type: 'LOADED', now: T, token: meta() });
    expect(actor.getSnapshot().value).toBe('valid');
    vi.advanceTimersByTime(55 * 60_000 - 1);
    expect(actor.getSnapshot().value).toBe('valid');
    vi.advanceTimersByTime(1);
    expect(actor.getSnapshot().value).toBe('nearExpiry');
    actor.stop();
  });
});

describe('tokenMachineSetup (made apart from tokenMachine, so an app that does not use it does not bundle setup())', () => {
  it("is XState's setup() of the same implementations: its createMachine(tokenMachine.config) behaves as tokenMachine", () => {
    const rebuilt = tokenMachineSetup.createMachine(tokenMachine.config as never);
    expect(Object.keys(rebuilt.implementations.guards).sort()).toEqual(Object.keys(tokenMachine.implementations.guards).sort());
    expect(rebuilt.implementations.actions).toEqual(tokenMachine.implementations.actions);
    expect(typeof tokenMachineSetup.extend).toBe('function');
    expect(typeof tokenMachineSetup.assign).toBe('function');
    for (const machine of [tokenMachine, rebuilt]) {
      const actor = createActor(machine, { input });
      actor.start();
      actor.send({ type: 'LOADED', now: T, token: meta({ expiresAt: T + HOUR }) });
      expect(actor.getSnapshot().value).toBe('valid');
      actor.send({ type: 'LOADED', now: T, token: meta({ rejection: 'invalid_grant', expiresAt: T - 1 }) });
      expect(actor.getSnapshot().value).toBe('reauthRequired');
      actor.stop();
    }
  });
});
