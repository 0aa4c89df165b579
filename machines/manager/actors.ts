/**
 * Each credential's lifecycle actor, and dormancy: a credential that is valid and far from refresh
 * needs no live actor (~4.7 KB and a timer each); one wake wheel wakes it at its refresh moment, and it
 * behaves exactly as a live one. With an inspector attached, actors stay live so it sees every credential.
 */
import { createActor, fromPromise, type Actor } from 'xstate';
import { hasView, metaOf, stateOfValue, type Credential } from './credential.js';
import { NotFoundError } from '../lifecycle/errors.js';
import { tokenDelays, tokenMachine, type TokenMachine } from '../lifecycle/machine.js';
import * as rules from '../lifecycle/machine-rules.js';
import type { RefreshInput, RefreshOutput, TokenMachineContext, TokenMachineInput, TokenMeta } from '../lifecycle/machine-types.js';
import type { EventHub } from './events.js';
import type { ManagerCore } from './runtime.js';
import type { Waiting } from './waiting.js';
import { WakeWheel } from './wake-wheel.js';

export interface RefreshRunner {
  run(credential: Credential, input: RefreshInput): Promise<RefreshOutput>;
  /**
   * For stop(): refreshes in flight keep their storage locks on a short lease (issue 22, case 8), and
   * timed-out requests kept for their late answer (R4) are given up: nobody would adopt it now.
   */
  stop(): void;
}

export interface Actors {
  /** The credential's actor, waking it if dormant. */
  liveActor(c: Credential): Actor<TokenMachine>;
  /** The actor for a credential not loaded yet (`actor(key)` before any load). */
  ensureActor(c: Credential): Actor<TokenMachine>;
  /** A record was set, loaded or adopted: let the credential's lifecycle take it from here. */
  admit(c: Credential): void;
  /** A record was adopted outside a refresh: re-announce it unless the credential is busy or gone. */
  announceRecord(c: Credential): void;
  /** Puts a dormant credential to rest for good (removed). */
  forgetDormant(c: Credential): void;
  /** A REFRESH (R1: forced, or when due): run quietly for a dormant credential, else through its actor. */
  requestRefresh(c: Credential, force: boolean, at: number): void;
  /** The machine's context, or what it would be for a dormant credential. */
  contextOf(c: Credential): TokenMachineContext | undefined;
  stopWaking(): void;
  /** Entries in the wake wheel (internals.ts). */
  scheduledWakes(): number;
}

export function createActors(core: ManagerCore, runner: RefreshRunner, events: EventHub, waiting: Waiting): Actors {
  const { settings, credentials, now } = core;

  const machine = tokenMachine.provide({
    actors: {
      refreshTokens: fromPromise<RefreshOutput, RefreshInput>(({ input }) => {
        const credential = credentials.get(input.key);
        if (!credential) return Promise.reject(new NotFoundError(input.key));
        // A quiet refresh handed over to this actor: the machine takes its outcome, nothing is re-sent.
        const quiet = credential.quiet;
        if (quiet?.handingOver) {
          credential.quiet = undefined;
          return quiet.run;
        }
        const run = runner.run(credential, input);
        credential.inflight = run;
        const clear = (): void => {
          if (credential.inflight === run) credential.inflight = undefined;
        };
        run.then(clear, clear);
        return run;
      }),
    },
    delays: tokenDelays(now),
  });

  // A failing inspector is reported and never reaches the actor (it would break setToken's admission).
  const inspect = settings.inspect && core.callbacks.guardInspector(settings.inspect);

  const canRenewWithoutRefreshToken = settings.endpoint.canRenewWithoutRefreshToken === true;
  // R22: a derived credential renews by exchanging its parent's token: it needs no refresh token.
  const renewsWithoutRefreshToken = (c: Credential): boolean => canRenewWithoutRefreshToken || c.derived !== undefined;
  const machineInput = (c: Credential): TokenMachineInput => ({
    key: c.key,
    thresholdMs: settings.thresholdMs,
    jitterFraction: settings.jitterFraction,
    minIntervalMs: settings.minIntervalMs,
    backgroundRefresh: settings.backgroundRefresh,
    canRenewWithoutRefreshToken: renewsWithoutRefreshToken(c),
    retry: settings.retry,
  });

  function ensureActor(c: Credential): Actor<TokenMachine> {
    if (c.actor) return c.actor;
    const actor = createActor(machine, {
      input: machineInput(c),
      clock: settings.clock,
      ...(inspect ? { inspect } : {}),
    });
    c.actor = actor;
    actor.start();
    // Subscribed after start: the initial `idle` snapshot of a woken credential is not a state change.
    actor.subscribe({
      next: (snapshot) => onSnapshot(c, snapshot.value, snapshot.context),
      error: () => waiting.releaseWaiters(c),
    });
    return actor;
  }

  const wheel = new WakeWheel<Credential>(settings.clock, (c) => wake(c));
  const hibernation = settings.inspect === undefined;

  function refreshMomentOf(c: Credential): number | undefined {
    return c.record && rules.refreshMoment({ key: c.key, thresholdMs: settings.thresholdMs, jitterFraction: settings.jitterFraction, token: undefined }, c.record);
  }

  function mayHibernate(c: Credential, at: number): boolean {
    const record = c.record;
    // A removed credential has no record; an expired one is past its refresh moment.
    if (!hibernation || c.pinned || core.stopped || !record || !hasView(c)) return false;
    if (record.rejection !== undefined || (record.retryAt !== undefined && at < record.retryAt)) return false;
    const moment = refreshMomentOf(c);
    return moment === undefined || at < moment;
  }

  function hibernate(c: Credential): void {
    c.actor?.stop();
    c.actor = undefined;
    c.dormant = true;
    const previous = { state: c.state, detail: c.detail };
    c.state = 'valid';
    c.detail = undefined;
    const moment = refreshMomentOf(c) ?? Number.POSITIVE_INFINITY;
    c.freshUntil = Math.min(moment, c.record?.expiresAt ?? Number.POSITIVE_INFINITY);
    wheel.schedule(c, moment);
    if (previous.state === 'refreshing') c.refreshSeq++;
    // Listeners may read status() or peekToken() in the event: the credential is settled first.
    if (previous.state !== 'valid') events.emitStateChange(c, { state: 'valid', detail: undefined }, previous, now());
    if (previous.state === 'refreshing') waiting.releaseWaiters(c);
  }

  /**
   * Quiet refresh: a dormant credential (valid, no rejection, no retry pending) refreshes with no
   * actor: waking one costs more than the rest of a refresh (XState actor, microsteps, invoke). The
   * manager does what the machine would (valid → refreshing → valid, the same events, waiters and
   * history); any other outcome, or anyone asking for the actor meanwhile, hands the run over to a
   * woken actor, which takes its result as its own `refreshTokens` outcome (nothing is sent twice).
   */
  function requestRefresh(c: Credential, force: boolean, at: number): void {
    if (c.dormant && !c.actor && !c.quiet && !core.stopped) {
      const context = contextOf(c) as TokenMachineContext;
      if (force ? rules.canRefresh(context) : rules.isRefreshDue(context, at)) return startQuiet(c, context, at, force);
    }
    liveActor(c).send({ type: 'REFRESH', now: at, force });
  }

  /** The wake wheel's call at a dormant credential's refresh moment. */
  function wake(c: Credential): void {
    if (settings.backgroundRefresh && c.dormant && !c.actor && !c.quiet && !core.stopped) {
      const at = now();
      const context = contextOf(c) as TokenMachineContext;
      if (rules.isRefreshDue(context, at)) return startQuiet(c, context, at, false);
    }
    liveActor(c);
  }

  function startQuiet(c: Credential, context: TokenMachineContext, at: number, force: boolean): void {
    wheel.cancel(c);
    c.freshUntil = Number.NEGATIVE_INFINITY;
    if (rules.isRefreshNeeded(context, at)) {
      // The machine would pass through nearExpiry (its refresh window) on the way: told the same.
      const before = { state: c.state, detail: c.detail };
      c.state = 'nearExpiry';
      c.detail = undefined;
      events.emitStateChange(c, { state: 'nearExpiry', detail: undefined }, before, at);
      // A listener may have asked for the actor, removed the credential or stopped the manager.
      if (c.actor || !c.dormant || c.quiet || core.stopped) {
        if (c.dormant || c.actor) liveActor(c).send({ type: 'REFRESH', now: at, force });
        return;
      }
    }
    const previous = { state: c.state, detail: c.detail };
    c.state = 'refreshing';
    c.detail = undefined;
    c.freshUntil = Number.NEGATIVE_INFINITY;
    const run = runner.run(c, { key: c.key, version: context.token?.version ?? 0, attempt: 0 });
    const quiet = { run, base: context.token as TokenMeta, handingOver: false };
    c.quiet = quiet;
    c.inflight = run;
    events.emitStateChange(c, { state: 'refreshing', detail: undefined }, previous, at);
    run.then(
      (output) => {
        if (c.inflight === run) c.inflight = undefined;
        if (c.quiet !== quiet) return; // handed over, superseded (setToken, remove) or stopped
        c.quiet = undefined;
        if (core.stopped) return;
        c.history = { lastRefreshStartedAt: output.startedAt, lastRefreshAt: output.at };
        const settledAt = now();
        if (mayHibernate(c, settledAt)) hibernate(c);
        else handOver(c, undefined, settledAt);
      },
      () => {
        if (c.inflight === run) c.inflight = undefined;
        if (c.quiet !== quiet) return;
        if (core.stopped) {
          c.quiet = undefined;
          return;
        }
        handOver(c, quiet, now());
      },
    );
  }

  /**
   * Wakes the actor of a quietly refreshing credential. With `quiet` (a run in flight or failed), the
   * actor is brought to where the run began (LOADED, not told: the credential is still `refreshing`)
   * and sent the forced REFRESH; its `refreshTokens` takes the run over. Without, the settled record
   * is loaded as after any refresh.
   */
  function handOver(c: Credential, quiet: Credential['quiet'], at: number): void {
    c.dormant = false;
    wheel.cancel(c);
    const actor = ensureActor(c);
    if (!quiet) {
      actor.send({ type: 'LOADED', now: at, token: metaOf(c.record, at), history: c.history });
      return;
    }
    quiet.handingOver = true;
    handingOver = c;
    try {
      actor.send({ type: 'LOADED', now: at, token: quiet.base, history: c.history });
    } finally {
      handingOver = undefined;
    }
    actor.send({ type: 'REFRESH', now: at, force: true });
  }
  let handingOver: Credential | undefined;

  function liveActor(c: Credential): Actor<TokenMachine> {
    if (c.actor) return c.actor;
    if (c.quiet) {
      handOver(c, c.quiet, now());
      return c.actor as unknown as Actor<TokenMachine>;
    }
    const waking = c.dormant;
    c.dormant = false;
    wheel.cancel(c);
    const actor = ensureActor(c);
    if (waking && !core.stopped) {
      const at = now();
      actor.send({ type: 'LOADED', now: at, token: metaOf(c.record, at), history: c.history });
    }
    return actor;
  }

  function admit(c: Credential): void {
    const at = now();
    c.quiet = undefined; // a new record supersedes a quiet refresh in flight (its result is not stored over it)
    if (!c.actor && mayHibernate(c, at)) hibernate(c);
    else {
      c.dormant = false;
      wheel.cancel(c);
      ensureActor(c).send({ type: 'LOADED', now: at, token: metaOf(c.record, at), history: c.history });
    }
    core.onAdmitted?.(c);
  }

  function onSnapshot(c: Credential, value: unknown, context: TokenMachineContext): void {
    // The hand-over's LOADED: the credential is still refreshing as far as anyone can tell.
    if (handingOver === c) return;
    const next = stateOfValue(value);
    const { state } = next;
    const previous = { state: c.state, detail: c.detail };
    c.state = state;
    c.detail = next.detail;
    c.freshUntil =
      state === 'valid' && hasView(c) && !core.stopped
        ? Math.min(rules.refreshMoment(context) ?? Number.POSITIVE_INFINITY, c.record?.expiresAt ?? Number.POSITIVE_INFINITY)
        : Number.NEGATIVE_INFINITY;
    if (previous.state === 'refreshing' && state !== 'refreshing') c.refreshSeq++;
    if (previous.state !== state || previous.detail !== next.detail) {
      const at = now();
      events.emitStateChange(c, next, previous, at);
      if (state === 'reauthRequired' && !c.reauthAnnounced) announceReauth(c, context.reason ?? 'refresh_token_missing', at);
    }
    c.history = { lastRefreshStartedAt: context.lastRefreshStartedAt, lastRefreshAt: context.lastRefreshAt };
    if (state !== 'refreshing') waiting.releaseWaiters(c);
    if (state === 'valid') {
      const actor = c.actor;
      // Not from inside the actor's own notification: stop it once this macrostep is done (if it may sleep).
      queueMicrotask(() => {
        if (c.actor === actor && c.state === 'valid' && mayHibernate(c, now())) hibernate(c);
      });
    }
  }

  function announceReauth(c: Credential, reason: string, at: number): void {
    c.reauthAnnounced = true;
    events.emit({ type: 'reauth_required', key: c.key, at, reason });
    const callback = settings.onReauthRequired;
    // The callback's failure (sync or async) is reported; it must not break the lifecycle.
    if (callback) core.callbacks.invoke(callback, { callback: 'onReauthRequired', key: c.key }, () => callback(c.key, reason));
  }

  function announceRecord(c: Credential): void {
    // A loaded credential always has a live actor or is dormant. A removed one stays idle: a write
    // retry in flight when remove() ran ends 'superseded', which must not bring it back.
    if (c.removed || c.state === 'refreshing' || core.stopped) return;
    c.reauthAnnounced = false;
    admit(c);
  }

  function forgetDormant(c: Credential): void {
    if (!c.dormant) return;
    c.dormant = false;
    wheel.cancel(c);
    const previous = { state: c.state, detail: c.detail };
    c.state = 'idle';
    c.freshUntil = Number.NEGATIVE_INFINITY;
    if (c.quiet) {
      // Removed during a quiet refresh: as a live actor's UNLOAD would, told and its waiters released.
      c.quiet = undefined;
      c.refreshSeq++;
      events.emitStateChange(c, { state: 'idle', detail: undefined }, previous, now());
      waiting.releaseWaiters(c);
    }
  }

  function contextOf(c: Credential): TokenMachineContext | undefined {
    if (c.actor) return c.actor.getSnapshot().context;
    if (!c.dormant) return undefined;
    // What the machine's context would be: a dormant credential behaves as a live one. Written out
    // (no spreads): a quiet refresh reads it several times.
    return {
      key: c.key,
      thresholdMs: settings.thresholdMs,
      jitterFraction: settings.jitterFraction,
      minIntervalMs: settings.minIntervalMs,
      backgroundRefresh: settings.backgroundRefresh,
      canRenewWithoutRefreshToken: renewsWithoutRefreshToken(c),
      retry: settings.retry,
      token: metaOf(c.record, now()),
      attempt: 0,
      lastRefreshStartedAt: c.history.lastRefreshStartedAt,
      lastRefreshAt: c.history.lastRefreshAt,
    };
  }

  return {
    liveActor,
    ensureActor,
    admit,
    announceRecord,
    forgetDormant,
    requestRefresh,
    contextOf,
    stopWaking: () => wheel.stop(),
    scheduledWakes: () => wheel.size,
  };
}
