/**
 * Replays one generated model path on a real token manager (a harness: manual clock, simulated
 * endpoint, memory storage), and checks the manager after every step: status state and detail, a
 * request in flight exactly while refreshing, the newest refresh token sent, getToken's answer.
 *
 * The path is followed by event label on a concrete model beside the manager (the state keys are an
 * abstraction, so the path's own payloads belong to whichever concrete state first had that key).
 * Every model event is relative to the moment the current state was entered, which is the clock's
 * time at the end of the previous step.
 */
import { initialTransition, transition, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import * as rules from '../machines/lifecycle/machine-rules.js';
import type { TokenMachineContext, TokenMeta } from '../machines/lifecycle/machine-types.js';
import type { TokenRecord } from '../machines/lifecycle/types.js';
import type { LifecycleHarness } from './harness.js';
import { DONE, ERROR, isAfterEvent, type ModelEvent } from './model/events.js';
import { isTransient, leafOf, modelInput, nextTimer } from './model/machine.js';
import { modelEvents, settable, type StaleAnswer } from './model/palette.js';
import type { GeneratedPath, GeneratedStep } from './model/paths.js';
import type { SimulatedOutcome } from './simulated-endpoint.js';

/** The manager did not do what the model predicts (a bug in the manager, or a harness the app changed). */
export class LifecyclePathError extends Error {
  override readonly name = 'LifecyclePathError';
}

/** The top-level state and `degraded` sub-state the manager's status reports for a model value. */
export function expectedStatus(value: unknown): { state: string; detail: string | undefined } {
  const [state, detail] = leafOf(value).split('.');
  return { state: state as string, detail };
}

/** A state left only through zero-delay timers, followed to where the real actor comes to rest. */
function restingState(machine: AnyStateMachine, snapshot: AnyMachineSnapshot): AnyMachineSnapshot {
  let current = snapshot;
  for (let i = 0; i < 10 && isTransient(current); i++) {
    const timer = nextTimer(current);
    if (!timer) break;
    [current] = transition(machine, current, timer.event as never);
  }
  return current;
}

/** Called after each step that ends at rest, with the manager in the step's state. */
export type StepObserver = (step: GeneratedStep, index: number) => void | Promise<void>;

const STALE_OUTCOMES: Record<StaleAnswer, SimulatedOutcome> = {
  ok: 'rotate',
  invalid_grant: 'invalid_grant',
  refresh_failed: 'transient',
};

export async function drivePath(machine: AnyStateMachine, path: GeneratedPath, harness: LifecycleHarness, onStep?: StepObserver): Promise<void> {
  const { clock, endpoint, storage, manager, key } = harness;
  if (manager.status(key).state !== 'idle' || endpoint.calls.length > 0) {
    throw new LifecyclePathError('a lifecycle path starts from a fresh harness (nothing loaded, no request made)');
  }
  /** The newest tokens the manager should hold (R4: the refresh token sent must be the newest). */
  let refreshToken: string | undefined;
  let accessToken: string | undefined;
  let requestsChecked = 0;
  let seq = 0;
  let [model] = initialTransition(machine, modelInput(harness.backgroundRefresh));
  let where = 'start';

  const mismatch = (what: string): never => {
    throw new LifecyclePathError(`${path.name}: ${where}: ${what}`);
  };

  function outcome<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown; pending?: true }> {
    const settled = promise.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    return Promise.race([settled, clock.settle().then(() => ({ pending: true as const }))]);
  }

  async function load(token: TokenMeta, fromLeaf: string): Promise<void> {
    const now = clock.now();
    const n = ++seq;
    if (settable(token)) {
      const rt = token.hasRefreshToken ? `rt-set-${n}` : undefined;
      await manager.setToken(key, {
        access_token: `at-set-${n}`,
        token_type: 'Bearer',
        ...(token.expiresAt === undefined ? {} : { expires_in: token.expiresAt / 1000 }),
        ...(rt === undefined ? {} : { refresh_token: rt }),
      });
      refreshToken = rt;
      accessToken = `at-set-${n}`;
      return;
    }
    // Metas setToken cannot make (a past obtainedAt, a rejection, a retryAt): written to storage as
    // another process would, then adopted through the change feed, or loaded by start() when idle (R14).
    const stored = await storage.get(key);
    const record: TokenRecord = {
      accessToken: `at-seed-${n}`,
      tokenType: 'Bearer',
      obtainedAt: now + token.obtainedAt,
      ...(token.expiresAt === undefined ? {} : { expiresAt: now + token.expiresAt }),
      ...(token.hasRefreshToken ? { refreshToken: `rt-seed-${n}` } : {}),
      ...(token.rejection === undefined ? {} : { rejection: token.rejection }),
      ...(token.retryAt === undefined ? {} : { retryAt: now + token.retryAt }),
      version: (stored?.version ?? 0) + 1,
    };
    refreshToken = record.refreshToken;
    accessToken = record.accessToken;
    await storage.set(key, record, { expectedVersion: stored?.version ?? 0 });
    if (fromLeaf === 'idle') await manager.start();
  }

  async function execute(event: ModelEvent, fromLeaf: string): Promise<void> {
    switch (event.type) {
      case 'LOADED':
        await load(event.token, fromLeaf);
        break;
      case 'UNLOAD':
        await manager.remove(key, { revoke: false });
        refreshToken = undefined;
        accessToken = undefined;
        break;
      case 'CHECK':
        // The manager never sends CHECK itself (it comes after a wake-up): the credential's actor gets it.
        await clock.advance(event.now);
        manager.actor(key).send({ type: 'CHECK', now: clock.now() });
        break;
      case 'REFRESH':
        await clock.advance(event.now);
        // Forced: refresh(); otherwise a caller's getToken(). Their results are checked through the state.
        void (event.force ? manager.refresh(key) : manager.getToken(key)).catch(() => undefined);
        break;
      case DONE:
        await clock.advance(event.output.at);
        endpoint.answer('rotate');
        break;
      case ERROR:
        await clock.advance(event.error.at);
        endpoint.answer(
          event.error.kind === 'permanent' ? 'invalid_grant' : { type: 'transient', retryAfter: (event.error.retryAt as number) - event.error.at },
        );
        break;
      default:
        // WAIT, or an `xstate.after.*` event: the real timer fires when the clock reaches it.
        await clock.advance(event.now);
    }
    if (fromLeaf === 'refreshing' && (event.type === 'LOADED' || event.type === 'UNLOAD')) {
      // The refresh the machine walked away from still runs: it answers now, as the label says.
      const answer = (/\|stale:(\w+)$/.exec(event.label)?.[1] ?? 'ok') as StaleAnswer;
      endpoint.answer(STALE_OUTCOMES[answer]);
    }
  }

  /** The manager's status must be the model's state, with a request in flight exactly when refreshing. */
  function checkStatus(snapshot: AnyMachineSnapshot): void {
    const leaf = leafOf(snapshot.value);
    const want = expectedStatus(snapshot.value);
    const status = manager.status(key);
    if (status.state !== want.state || status.detail !== want.detail) {
      mismatch(`model is in ${leaf}, manager status is ${status.state}${status.detail ? `.${status.detail}` : ''}`);
    }
    const inFlight = leaf === 'refreshing' ? 1 : 0;
    if (endpoint.hanging !== inFlight) mismatch(`${endpoint.hanging} token requests in flight, expected ${inFlight}`);
    for (const call of endpoint.calls.slice(requestsChecked)) {
      if (call.refreshToken !== refreshToken) {
        mismatch(`a refresh sent ${String(call.refreshToken)}, the newest refresh token is ${String(refreshToken)}`);
      }
    }
    requestsChecked = endpoint.calls.length;
  }

  /** What getToken must answer in a state at rest (none of these calls may send a request). */
  async function checkGetToken(snapshot: AnyMachineSnapshot): Promise<void> {
    const leaf = leafOf(snapshot.value);
    const context = snapshot.context as TokenMachineContext;
    const requests = endpoint.calls.length;
    if (leaf === 'valid') {
      const got = await outcome(manager.getToken(key));
      if (got.value?.accessToken !== accessToken) mismatch(`getToken in valid gave ${JSON.stringify(got)}, expected ${String(accessToken)}`);
    } else if (leaf === 'reauthRequired') {
      const got = await outcome(manager.getToken(key));
      const error = got.error as { code?: string; reason?: string } | undefined;
      const reason = context.reason ?? 'refresh_token_missing';
      if (error?.code !== 'reauth_required' || error.reason !== reason) {
        mismatch(`getToken in reauthRequired: ${error?.code ?? 'no error'} (${String(error?.reason)}), expected reauth_required (${reason})`);
      }
    } else if (leaf === 'degraded.expired' && rules.isRetryPending(context, 0)) {
      // Once the retry moment has passed (backgroundRefresh off), getToken retries instead: not checked here.
      const got = await outcome(manager.getToken(key));
      const code = (got.error as { code?: string } | undefined)?.code;
      if (code !== 'refresh_failed') mismatch(`getToken in degraded.expired: ${code ?? 'no error'}, expected refresh_failed`);
    } else {
      return;
    }
    await clock.settle();
    if (endpoint.calls.length !== requests) mismatch(`getToken in ${leaf} sent a token request`);
    checkStatus(snapshot);
  }

  checkStatus(model);
  for (const [i, step] of path.steps.entries()) {
    const { label, to: predicted } = step;
    const fromLeaf = leafOf(model.value);
    const event = modelEvents(model).find((e) => e.label === label);
    where = `step ${i + 1} (${label} in ${fromLeaf})`;
    if (!event) return mismatch('the concrete model offers no such event (abstraction too coarse)');
    const [next] = transition(machine, model, event as never);
    // The path was generated on abstract states: the concrete replay must land where it predicted.
    if (leafOf(next.value) !== predicted) mismatch(`the concrete model went to ${leafOf(next.value)}, the path predicted ${predicted}`);
    // A request that will start during this step (perhaps after a zero-delay timer) hangs until a
    // done or error step answers it.
    const startsRefresh = leafOf(restingState(machine, next).value) === 'refreshing';
    const wasRefreshing = leafOf(restingState(machine, model).value) === 'refreshing';
    if (startsRefresh && fromLeaf === 'refreshing' && (event.type === 'LOADED' || event.type === 'UNLOAD')) {
      throw new LifecyclePathError(`${where}: the driver cannot start a refresh while an abandoned one is pending`);
    }
    if (startsRefresh && !wasRefreshing) endpoint.script('hang');
    await execute(event, fromLeaf);
    await clock.settle();
    if (event.type === DONE) {
      // The simulated endpoint issued new tokens and rotated.
      refreshToken = endpoint.currentRefreshToken;
      accessToken = endpoint.lastAccessToken;
    }
    // After a caller's action, zero-delay timers have not fired yet: even a passing state shows.
    if (!isAfterEvent(event)) checkStatus(next);
    await clock.advance(0);
    model = next;
    if (!isTransient(next)) {
      checkStatus(next);
      await checkGetToken(next);
      await onStep?.(step, i);
    }
  }
}
