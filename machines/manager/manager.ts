/**
 * `createTokenManager()`: the facade users call (DESIGN §4). It wires one manager's parts together:
 * the credentials' actors and dormancy (actors.ts), loading and the storage feed (loading.ts), serving
 * tokens (serving.ts), forced refreshes (forced-refresh.ts), set/remove, status, start/stop, events.
 * Token values stay in a vault outside the machines (R13). Hot path (`getToken` below): a valid token
 * is served from memory with no actor message, timer, storage read or new promise.
 */
import { createActors } from './actors.js';
import { createCallbacks } from './callbacks.js';
import { createCredential, viewFor, type Credential } from './credential.js';
import type { DerivedCredentialsFactory } from './derive.js';
import { InvalidConfigError, StoppedError } from '../lifecycle/errors.js';
import type { GetTokenOptions, TokenManager, TokenManagerOptions } from './api-types.js';
import { createEventHub } from './events.js';
import { createForcedRefresh } from './forced-refresh.js';
import { newInstanceId } from './instance-id.js';
import { registerInternals } from './internals.js';
import { createLoading } from './loading.js';
import { normalizeOptions } from './options.js';
import { createRefreshRunner } from './refresh-runner.js';
import type { ManagerCore } from './runtime.js';
import { createServing } from './serving.js';
import { createSetAndRemove } from './set-and-remove.js';
import { createStartStop } from './start-stop.js';
import { createStatus } from './status.js';
import type { TokenSet } from '../lifecycle/types.js';
import { createWaiting } from './waiting.js';

const DEFAULT_KEY = 'default';

export function createTokenManager(options: TokenManagerOptions): TokenManager {
  const settings = normalizeOptions(options);
  const { clock } = settings;
  const credentials = new Map<string, Credential>();
  const callbacks = createCallbacks(settings.onError);
  const events = createEventHub(callbacks);
  const core: ManagerCore = {
    settings,
    callbacks,
    instanceId: newInstanceId(),
    emit: events.emit,
    recordAdopted: (c) => actors.announceRecord(c),
    isStopped: () => core.stopped,
    credentials,
    stopped: false,
    now: () => clock.now(),
    assertRunning: () => {
      if (core.stopped) throw new StoppedError();
    },
  };
  const waiting = createWaiting(clock);
  // R22, with the derivedCredentials() plug-in: derive.ts picks each run's renewal (a refresh, or a
  // derived credential's token exchange). Without it, the refresh runner runs every refresh.
  const refreshRunner = createRefreshRunner(core);
  const derive = options.derivedCredentials as DerivedCredentialsFactory | undefined;
  if (derive && typeof derive.create !== 'function') throw new InvalidConfigError('derivedCredentials takes derivedCredentials()');
  const derivations = derive?.create(core, refreshRunner);
  const runner = derivations?.runner ?? refreshRunner;
  const actors = createActors(core, runner, events, waiting);
  const loading = createLoading(core, actors);
  const serving = createServing(core, actors, loading, waiting);
  const forced = createForcedRefresh(core, actors, serving.loadFor, waiting);
  const records = createSetAndRemove(core, actors, loading);
  const lifetime = createStartStop(core, actors, loading, waiting, runner);
  const status = createStatus(core, actors);

  // Not `async`: a fresh credential hands back the settled promise it already holds (one allocation
  // per token, not per call). Anything thrown still becomes a rejection, never a synchronous throw.
  function getToken(key: string = DEFAULT_KEY, options?: GetTokenOptions): Promise<TokenSet> {
    try {
      const c = credentials.get(key);
      if (c !== undefined && clock.now() < c.freshUntil) return (c.served ??= Promise.resolve(viewFor(c) as TokenSet));
      return serving.getTokenPastHotPath(key, options?.signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  function actor(key: string = DEFAULT_KEY) {
    core.assertRunning();
    let c = credentials.get(key);
    if (!c) {
      c = createCredential(key);
      credentials.set(key, c);
      c.pinned = true;
      void loading.load(key).catch(() => undefined);
      return actors.ensureActor(c);
    }
    c.pinned = true;
    return actors.liveActor(c);
  }

  const manager: TokenManager = {
    start: lifetime.start,
    setToken: records.setToken,
    getToken,
    peekToken: (key = DEFAULT_KEY) => serving.peekToken(key),
    status: (key = DEFAULT_KEY) => status(key),
    refresh: (key = DEFAULT_KEY, options) => forced.refresh(key, options),
    renewAfterUnauthorized: forced.renewAfterUnauthorized,
    derive: () => Promise.reject(new InvalidConfigError('derive needs derivedCredentials()')),
    remove: (key = DEFAULT_KEY, options) => records.remove(key, options),
    subscribe: events.subscribe,
    actor,
    stop: lifetime.stop,
    // R20: the HTTP adapters sign their per-request DPoP proofs with the endpoint's key.
    ...(settings.endpoint.dpop ? { dpop: settings.endpoint.dpop } : {}),
  };
  // R22: the plug-in takes over derive, and setToken, remove and stop around the originals.
  derivations?.attach(manager, actors, serving.loadFor, events.subscribe);
  registerInternals(manager, { credentials: () => credentials.size, scheduledWakes: actors.scheduledWakes });
  settings.telemetry?.attach(manager);
  return manager;
}
