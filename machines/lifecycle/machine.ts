/**
 * The token lifecycle as an XState v5 machine (DESIGN §3). Every guard, action, actor and delay is
 * named in `setup()`, so `tokenMachine.provide()` can swap them and Stately's tools render it.
 * Pure: no I/O (the refresh actor is provided by the manager) and no clock but the injected one.
 */
import { assign, createMachine, fromPromise, setup } from 'xstate';
import { systemClock } from './clock.js';
import * as rules from './machine-rules.js';
import type {
  RefreshFailure,
  RefreshInput,
  RefreshOutput,
  TokenMachineContext,
  TokenMachineEvent,
  TokenMachineInput,
  TokenMeta,
} from './machine-types.js';

type AnyEvent = { readonly type: string };

/** The time an event was stamped with: `now` on manager events, `at` on the refresh actor's results. */
export function eventTime(event: AnyEvent): number {
  const e = event as { now?: number; output?: { at?: number }; error?: { at?: number } };
  const time = e.now ?? e.output?.at ?? e.error?.at;
  if (typeof time !== 'number') throw new TypeError(`event ${event.type} carries no time`);
  return time;
}

function failureOf(event: AnyEvent): RefreshFailure | undefined {
  const error = (event as { error?: unknown }).error;
  return typeof error === 'object' && error !== null && 'kind' in error ? (error as RefreshFailure) : undefined;
}

function isPermanent(event: AnyEvent): boolean {
  return failureOf(event)?.kind === 'permanent';
}

/** Delays read the injected clock: the manager provides `tokenDelays(clock.now)`. */
export function tokenDelays(now: () => number) {
  return {
    untilRefreshWindow: ({ context }: { context: TokenMachineContext }) => rules.msUntilRefreshWindow(context, now()),
    untilRefreshAllowed: ({ context }: { context: TokenMachineContext }) => rules.msUntilRefreshAllowed(context, now()),
    untilExpiry: ({ context }: { context: TokenMachineContext }) => rules.msUntilExpiry(context, now()),
    untilRetry: ({ context }: { context: TokenMachineContext }) => rules.msUntilRetry(context, now()),
  };
}

/** What the machine was set up with: `tokenMachineSetup` is made from it, only when an app uses it. */
let setupParts: unknown;

/**
 * `setup()` as the types see it, but making only the machine: XState's own `setup()` returns every
 * action creator with it (`sendTo`, `raise`, `log`, `emit`, `enqueueActions`, ...), ≈ 0.7 KB
 * min+gzip that a browser app would ship unused. The machine is what `setup().createMachine` makes:
 * `createMachine(config, { actors, actions, guards, delays })`.
 */
const machineSetup = ((parts: { actors: unknown; actions: unknown; guards: unknown; delays: unknown }) => {
  setupParts = parts;
  const { actors, actions, guards, delays } = parts;
  return { createMachine: (config: object) => createMachine(config as never, { actors, actions, guards, delays } as never) };
}) as unknown as typeof setup;

const leanSetup = machineSetup({
  types: {
    context: {} as TokenMachineContext,
    events: {} as TokenMachineEvent,
    input: {} as TokenMachineInput,
  },
  actors: {
    // Provided by the manager: it does the I/O and keeps token values in its vault.
    refreshTokens: fromPromise<RefreshOutput, RefreshInput>(async () => {
      throw new Error('refreshTokens is provided by the token manager');
    }),
  },
  delays: tokenDelays(() => systemClock.now()),
  guards: {
    isRejectedAndUnusable: ({ context, event }) =>
      context.token?.rejection !== undefined && !rules.isUsable(context, eventTime(event)),
    isRejected: ({ context }) => context.token?.rejection !== undefined,
    isUnusableWithoutRenewal: ({ context, event }) => !rules.canRefresh(context) && !rules.isUsable(context, eventTime(event)),
    isRetryPendingAndUnusable: ({ context, event }) =>
      rules.isRetryPending(context, eventTime(event)) && !rules.isUsable(context, eventTime(event)),
    isRetryPending: ({ context, event }) => rules.isRetryPending(context, eventTime(event)),
    isRefreshNeeded: ({ context, event }) => rules.isRefreshNeeded(context, eventTime(event)),
    isForcedRefreshPossible: ({ context, event }) => event.type === 'REFRESH' && event.force && rules.canRefresh(context),
    isRefreshDue: ({ context, event }) => rules.isRefreshDue(context, eventTime(event)),
    isRetryDue: ({ context, event }) => rules.isRetryDue(context, eventTime(event)),
    mayRefreshInBackground: ({ context }) => context.backgroundRefresh && rules.canRefresh(context),
    isBackgroundRefreshOn: ({ context }) => context.backgroundRefresh,
    cannotRefresh: ({ context }) => !rules.canRefresh(context),
    isRejectionWhileUsable: ({ context, event }) => isPermanent(event) && rules.isUsable(context, eventTime(event)),
    isPermanentFailure: ({ event }) => isPermanent(event),
    isUsableAfterFailure: ({ context, event }) => {
      const token = failureOf(event)?.token ?? context.token;
      return rules.isUsable({ ...context, token }, eventTime(event));
    },
  },
  actions: {
    adoptToken: assign(({ context, event }) => {
      const { token, history } = event as Extract<TokenMachineEvent, { type: 'LOADED' }>;
      return {
        token,
        attempt: 0,
        lastError: undefined,
        reason: token.rejection,
        lastRefreshStartedAt: history?.lastRefreshStartedAt ?? context.lastRefreshStartedAt,
        lastRefreshAt: history?.lastRefreshAt ?? context.lastRefreshAt,
      };
    }),
    forgetToken: assign({ token: undefined, attempt: 0, lastError: undefined, reason: undefined }),
    recordRefresh: assign(({ event }) => {
      const output = (event as unknown as { output: RefreshOutput }).output;
      return {
        token: output.token,
        attempt: 0,
        lastError: undefined,
        reason: undefined,
        lastRefreshStartedAt: output.startedAt,
        lastRefreshAt: output.at,
      };
    }),
    recordFailure: assign(({ context, event }) => {
      const failure = failureOf(event);
      if (!failure) return { attempt: context.attempt + 1, lastError: { code: 'refresh_failed', retryable: true } };
      const permanent = failure.kind === 'permanent';
      const base: TokenMeta | undefined = failure.token ?? context.token;
      const token: TokenMeta | undefined = base && {
        ...base,
        ...(permanent ? { rejection: failure.code } : {}),
        ...(failure.retryAt !== undefined ? { retryAt: failure.retryAt } : {}),
      };
      return {
        token,
        attempt: context.attempt + 1,
        lastError: { code: failure.code, retryable: !permanent },
        reason: permanent ? failure.code : context.reason,
        lastRefreshStartedAt: failure.startedAt,
      };
    }),
    noteRefreshTokenMissing: assign({ reason: 'refresh_token_missing' }),
  },
});

/** XState's `setup()` of the token machine, for `.createMachine()`, `.extend()` and its action creators. */
export const tokenMachineSetup: typeof leanSetup = /* @__PURE__ */ setup(setupParts as never) as never;

/** REFRESH in a state that holds a token: forced, due, or just a re-evaluation from the clock. */
const onRefresh = [
  { guard: 'isForcedRefreshPossible', target: '#token.refreshing' },
  { guard: 'isRefreshDue', target: '#token.refreshing' },
  { target: '#token.evaluating' },
] as const;

export const tokenMachine = leanSetup.createMachine({
  id: 'token',
  context: ({ input }) => ({ ...input, attempt: 0 }),
  initial: 'idle',
  on: {
    LOADED: { target: '.evaluating', actions: 'adoptToken' },
    UNLOAD: { target: '.idle', actions: 'forgetToken' },
  },
  states: {
    idle: {},
    // Transient: decides where a token belongs at the event's time (R1, R5, R6, R8, R14).
    evaluating: {
      always: [
        { guard: 'isRejectedAndUnusable', target: 'reauthRequired' },
        { guard: 'isRejected', target: 'degraded.rejected' },
        { guard: 'isUnusableWithoutRenewal', target: 'reauthRequired', actions: 'noteRefreshTokenMissing' },
        { guard: 'isRetryPendingAndUnusable', target: 'degraded.expired' },
        { guard: 'isRetryPending', target: 'degraded.retrying' },
        { guard: 'isRefreshNeeded', target: 'nearExpiry' },
        { target: 'valid' },
      ],
    },
    valid: {
      after: { untilRefreshWindow: 'nearExpiry' },
      on: { CHECK: 'evaluating', REFRESH: [...onRefresh] },
    },
    nearExpiry: {
      after: {
        untilRefreshAllowed: { guard: 'mayRefreshInBackground', target: 'refreshing' },
        untilExpiry: { guard: 'cannotRefresh', target: 'reauthRequired', actions: 'noteRefreshTokenMissing' },
      },
      on: { CHECK: 'evaluating', REFRESH: [...onRefresh] },
    },
    // R7: one refresh in flight; callers join it.
    refreshing: {
      invoke: {
        id: 'refresh',
        src: 'refreshTokens',
        input: ({ context }) => ({
          key: context.key,
          version: context.token?.version ?? 0,
          attempt: context.attempt,
        }),
        onDone: { target: 'evaluating', actions: 'recordRefresh' },
        onError: [
          { guard: 'isRejectionWhileUsable', target: 'degraded.rejected', actions: 'recordFailure' },
          { guard: 'isPermanentFailure', target: 'reauthRequired', actions: 'recordFailure' },
          { guard: 'isUsableAfterFailure', target: 'degraded.retrying', actions: 'recordFailure' },
          { target: 'degraded.expired', actions: 'recordFailure' },
        ],
      },
    },
    // R5, R6: refresh failed.
    degraded: {
      initial: 'retrying',
      states: {
        retrying: {
          after: {
            untilRetry: { guard: 'isBackgroundRefreshOn', target: '#token.refreshing' },
            untilExpiry: 'expired',
          },
          on: { CHECK: '#token.evaluating', REFRESH: [{ guard: 'isRetryDue', target: '#token.refreshing' }, ...onRefresh] },
        },
        rejected: {
          after: { untilExpiry: '#token.reauthRequired' },
          on: { CHECK: '#token.evaluating', REFRESH: '#token.evaluating' },
        },
        expired: {
          after: { untilRetry: { guard: 'isBackgroundRefreshOn', target: '#token.refreshing' } },
          on: { CHECK: '#token.evaluating', REFRESH: [...onRefresh] },
        },
      },
    },
    reauthRequired: {},
  },
});

export type TokenMachine = typeof tokenMachine;
