/**
 * Replays one generated model path on the real token manager (createTokenManager) with a
 * SimulatedClock, the scripted endpoint and memoryStorage, and checks the manager after every step.
 *
 * The path is followed by event label on a concrete model beside the manager (the state keys are an
 * abstraction, so the path's own payloads belong to whichever concrete state first had that key).
 * Every model event is relative to the moment the current state was entered, which is the clock's
 * time at the end of the previous step.
 */
import { initialTransition, SimulatedClock, transition, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import { InvalidGrantError, RefreshFailedError } from '../../machines/lifecycle/errors.js';
import { createTokenManager } from '../../machines/manager/manager.js';
import type { TokenMachineContext, TokenMeta } from '../../machines/lifecycle/machine-types.js';
import * as rules from '../../machines/lifecycle/machine-rules.js';
import { memoryStorage } from '../../machines/manager/memory-storage.js';
import type { TokenRecord } from '../../machines/lifecycle/types.js';
import { advance, scriptedEndpoint, settle } from '../support/fake-endpoint.js';
import { DONE, ERROR, isAfterEvent, type ModelEvent } from './model-events.js';
import { isTransient, KEY, leafOf, MIN_INTERVAL_MS, modelInput, nextTimer, RETRY_POLICY, THRESHOLD_MS } from './model-machine.js';
import { modelEvents, settable, type StaleAnswer } from './model-palette.js';

/** 2030-01-01T00:00:00Z: any epoch works, the model's times are relative. */
const START = 1_893_456_000_000;

/** A generated path as the driver needs it: event labels and the states the model predicts. */
export interface GeneratedPath {
  readonly name: string;
  readonly steps: ReadonlyArray<{ readonly label: string; readonly type: string; readonly from: string; readonly to: string; readonly checked: boolean }>;
}

export interface PathRun {
  /** The first difference between the model and the manager, if any. */
  readonly mismatch?: string;
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

class Mismatch extends Error {}

function outcome<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown; pending?: true }> {
  const settled = promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  return Promise.race([settled, settle().then(() => ({ pending: true as const }))]);
}

export async function runPath(
  machine: AnyStateMachine,
  path: GeneratedPath,
  options: { backgroundRefresh: boolean },
): Promise<PathRun> {
  const clock = new SimulatedClock();
  clock.set(START);
  const endpoint = scriptedEndpoint({ expiresIn: 3600 });
  const storage = memoryStorage({ now: () => clock.now() });
  const manager = createTokenManager({
    endpoint,
    storage,
    clock,
    random: () => 0,
    backgroundRefresh: options.backgroundRefresh,
    refreshThreshold: THRESHOLD_MS,
    minRefreshInterval: MIN_INTERVAL_MS,
    retry: { minDelay: RETRY_POLICY.minDelayMs, maxDelay: RETRY_POLICY.maxDelayMs, factor: RETRY_POLICY.factor, jitter: RETRY_POLICY.jitter },
    stopTimeout: 100,
  });
  /** The newest tokens the manager should hold (R4: the refresh token sent must be the newest). */
  let refreshToken: string | undefined;
  let accessToken: string | undefined;
  let requestsChecked = 0;
  let seq = 0;
  const input = modelInput(options.backgroundRefresh);
  let [model] = initialTransition(machine, input);
  let where = 'start';

  const mismatch = (what: string): never => {
    throw new Mismatch(`${where}: ${what}`);
  };

  async function load(token: TokenMeta, fromLeaf: string): Promise<void> {
    const now = clock.now();
    const n = ++seq;
    if (settable(token)) {
      const rt = token.hasRefreshToken ? `rt-set-${n}` : undefined;
      await manager.setToken(KEY, {
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
    const stored = await storage.get(KEY);
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
    await storage.set(KEY, record, { expectedVersion: stored?.version ?? 0 });
    if (fromLeaf === 'idle') await manager.start();
  }

  async function execute(event: ModelEvent, fromLeaf: string): Promise<void> {
    switch (event.type) {
      case 'LOADED':
        await load(event.token, fromLeaf);
        break;
      case 'UNLOAD':
        await manager.remove(KEY, { revoke: false });
        refreshToken = undefined;
        accessToken = undefined;
        break;
      case 'CHECK':
        // The manager never sends CHECK itself: the credential's actor (public, for inspection) gets it.
        await advance(clock, event.now);
        manager.actor(KEY).send({ type: 'CHECK', now: clock.now() });
        break;
      case 'REFRESH':
        await advance(clock, event.now);
        // Forced: refresh(); otherwise a caller's getToken(). Their results are checked through the state.
        void (event.force ? manager.refresh(KEY) : manager.getToken(KEY)).catch(() => undefined);
        break;
      case DONE:
        await advance(clock, event.output.at);
        endpoint.release();
        break;
      case ERROR: {
        await advance(clock, event.error.at);
        const error =
          event.error.kind === 'permanent'
            ? new InvalidGrantError({ status: 400 })
            : new RefreshFailedError('unavailable', { status: 503, retryAfter: (event.error.retryAt as number) - event.error.at });
        endpoint.next({ kind: 'throw', error });
        endpoint.release();
        break;
      }
      case 'WAIT':
        await advance(clock, event.now);
        break;
      default:
        // An `xstate.after.*` event: the real timer fires when the clock reaches it.
        await advance(clock, event.now);
    }
    if (fromLeaf === 'refreshing' && (event.type === 'LOADED' || event.type === 'UNLOAD')) {
      // The refresh the machine walked away from still runs: it answers now, as the label says.
      const answer = /\|stale:(\w+)$/.exec(event.label)?.[1] as StaleAnswer | undefined;
      if (answer === 'invalid_grant') endpoint.next({ kind: 'throw', error: new InvalidGrantError({ status: 400 }) });
      if (answer === 'refresh_failed') endpoint.next({ kind: 'throw', error: new RefreshFailedError('unavailable', { status: 503 }) });
      endpoint.release();
    }
  }

  /** The manager's status must be the model's state, with a request in flight exactly when refreshing. */
  function checkStatus(snapshot: AnyMachineSnapshot): void {
    const leaf = leafOf(snapshot.value);
    const want = expectedStatus(snapshot.value);
    const status = manager.status(KEY);
    if (status.state !== want.state || status.detail !== want.detail) {
      mismatch(`model is in ${leaf}, manager status is ${status.state}${status.detail ? `.${status.detail}` : ''}`);
    }
    const inFlight = leaf === 'refreshing' ? 1 : 0;
    if (endpoint.held !== inFlight) mismatch(`${endpoint.held} token requests in flight, expected ${inFlight}`);
    for (const sent of endpoint.received.slice(requestsChecked)) {
      if (sent !== refreshToken) mismatch(`a refresh sent ${String(sent)}, the newest refresh token is ${String(refreshToken)}`);
    }
    requestsChecked = endpoint.received.length;
  }

  /** What getToken must answer in a state at rest (none of these calls may send a request). */
  async function checkGetToken(snapshot: AnyMachineSnapshot): Promise<void> {
    const leaf = leafOf(snapshot.value);
    const context = snapshot.context as TokenMachineContext;
    const requests = endpoint.received.length;
    if (leaf === 'valid') {
      const got = await outcome(manager.getToken(KEY));
      if (got.value?.accessToken !== accessToken) mismatch(`getToken in valid gave ${JSON.stringify(got)}, expected ${String(accessToken)}`);
    } else if (leaf === 'reauthRequired') {
      const got = await outcome(manager.getToken(KEY));
      const error = got.error as { code?: string; reason?: string } | undefined;
      const reason = context.reason ?? 'refresh_token_missing';
      if (error?.code !== 'reauth_required' || error.reason !== reason) {
        mismatch(`getToken in reauthRequired: ${error?.code ?? 'no error'} (${String(error?.reason)}), expected reauth_required (${reason})`);
      }
    } else if (leaf === 'degraded.expired' && rules.isRetryPending(context, 0)) {
      // Once the retry moment has passed (backgroundRefresh off), getToken retries instead: not checked here.
      const got = await outcome(manager.getToken(KEY));
      const code = (got.error as { code?: string } | undefined)?.code;
      if (code !== 'refresh_failed') mismatch(`getToken in degraded.expired: ${code ?? 'no error'}, expected refresh_failed`);
    } else {
      return;
    }
    await settle();
    if (endpoint.received.length !== requests) mismatch(`getToken in ${leaf} sent a token request`);
    checkStatus(snapshot);
  }

  try {
    checkStatus(model);
    for (const [i, { label, to: predicted }] of path.steps.entries()) {
      const fromLeaf = leafOf(model.value);
      const event = modelEvents(model).find((e) => e.label === label);
      where = `step ${i + 1} (${label} in ${fromLeaf})`;
      if (!event) return mismatch('the concrete model offers no such event (abstraction too coarse)');
      const [next] = transition(machine, model, event as never);
      // The path was generated on abstract states: the concrete replay must land where it predicted.
      if (leafOf(next.value) !== predicted) mismatch(`the concrete model went to ${leafOf(next.value)}, the path predicted ${predicted}`);
      // A request that will start during this step (perhaps after a zero-delay timer) is held until
      // a done or error step answers it.
      const startsRefresh = leafOf(restingState(machine, next).value) === 'refreshing';
      const wasRefreshing = leafOf(restingState(machine, model).value) === 'refreshing';
      if (startsRefresh && fromLeaf === 'refreshing' && (event.type === 'LOADED' || event.type === 'UNLOAD')) {
        throw new Error(`${where}: the driver cannot start a refresh while an abandoned one is pending`);
      }
      if (startsRefresh && !wasRefreshing) endpoint.next({ kind: 'hold' });
      await execute(event, fromLeaf);
      await settle();
      if (event.type === DONE) {
        // The scripted endpoint issued rt-N with at-N, and rotated.
        refreshToken = endpoint.current;
        accessToken = `at-${String(endpoint.current).slice('rt-'.length)}`;
      }
      // After a caller's action, zero-delay timers have not fired yet: even a passing state shows.
      if (!isAfterEvent(event)) checkStatus(next);
      await advance(clock, 0);
      model = next;
      if (!isTransient(next)) {
        checkStatus(next);
        await checkGetToken(next);
      }
    }
    return {};
  } catch (error) {
    if (error instanceof Mismatch) return { mismatch: error.message };
    throw error;
  } finally {
    endpoint.release();
    await settle();
    await manager.stop().catch(() => undefined);
  }
}
