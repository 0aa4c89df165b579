/**
 * Serving a token (R1–R9): the hot path hands back the credential's view while it is fresh; the slow
 * path loads, asks the machine to refresh when due, waits for a refresh in flight, and says why when
 * there is nothing usable to serve.
 */
import type { Actors } from './actors.js';
import { hasView, isRefreshing, viewFor, type Credential } from './credential.js';
import { NotFoundError, ReauthRequiredError, RefreshFailedError } from '../lifecycle/errors.js';
import * as rules from '../lifecycle/machine-rules.js';
import { isExpired } from '../lifecycle/refresh-policy.js';
import type { Loading } from './loading.js';
import type { ManagerCore } from './runtime.js';
import type { TokenSet } from '../lifecycle/types.js';
import type { Waiting } from './waiting.js';

export function isServable(c: Credential, at: number): boolean {
  return hasView(c) && c.record !== undefined && !isExpired(c.record, at);
}

export function createServing(core: ManagerCore, actors: Actors, loading: Loading, waiting: Waiting) {
  const { credentials, now } = core;

  /** Whether a slow-path call should ask the machine to act: a refresh is due, or the clock moved past the state. */
  function shouldAskMachine(c: Credential, at: number): boolean {
    // Never called while refreshing; `idle` and `reauthRequired` ignore a REFRESH.
    const context = actors.contextOf(c);
    if (!context) return false;
    return (
      rules.isRefreshDue(context, at) ||
      !rules.isUsable(context, at) ||
      (c.state === 'valid' && rules.isRefreshNeeded(context, at)) ||
      // A retry moment passed with no timer to act on it (backgroundRefresh: false): re-evaluate.
      (c.state === 'degraded' && context.token?.retryAt !== undefined && !rules.isRetryPending(context, at))
    );
  }

  function resultFor(c: Credential, at: number): TokenSet {
    if (c.state === 'reauthRequired') {
      throw new ReauthRequiredError(actors.contextOf(c)?.reason ?? 'refresh_token_missing', { key: c.key });
    }
    if (c.state === 'idle') throw new NotFoundError(c.key);
    if (isServable(c, at)) return viewFor(c) as TokenSet;
    const context = actors.contextOf(c);
    const retryAt = context?.token?.retryAt;
    throw new RefreshFailedError('No valid token: the last refresh failed and is being retried', {
      key: c.key,
      ...(context?.lastError ? { description: context.lastError.code } : {}),
      ...(retryAt !== undefined && retryAt > at ? { retryAfter: retryAt - at } : {}),
      ...(c.lastFailure === undefined ? {} : { cause: c.lastFailure }),
    });
  }

  /**
   * `getToken` past the hot path. A loaded credential is judged at once, in the caller's turn: the
   * first caller of a herd sends REFRESH before the next one arrives, and every caller without a
   * signal then shares one promise of the refresh's outcome (R7) instead of a wait each. A caller with
   * a signal, or a credential still to load, goes the long way (`slowGetToken`).
   */
  function getTokenPastHotPath(key: string, signal: AbortSignal | undefined): Promise<TokenSet> {
    const c = credentials.get(key);
    if (signal !== undefined || c === undefined || !c.loaded || core.stopped) return slowGetToken(key, signal);
    try {
      if (c.state !== 'refreshing') {
        const at = now();
        if (!shouldAskMachine(c, at)) return Promise.resolve(resultFor(c, at));
        actors.requestRefresh(c, false, at);
        if (!isRefreshing(c)) return Promise.resolve(resultFor(c, now()));
      }
      return joinRefresh(c);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The refresh in flight's outcome, as each waiting caller would judge it once it settles. */
  function joinRefresh(c: Credential): Promise<TokenSet> {
    return (c.joined ??= waiting.waitSettled(c, undefined).then(() => {
      c.joined = undefined;
      core.assertRunning();
      // Settled into another refresh (a retry that started at once): wait for that one too.
      return isRefreshing(c) ? joinRefresh(c) : resultFor(c, now());
    }));
  }

  /** The loaded credential; a caller's signal (or stop()) ends its wait for a load in progress. */
  function loadFor(key: string, signal: AbortSignal | undefined): Promise<Credential> {
    const loaded = credentials.get(key);
    return loaded?.loaded ? Promise.resolve(loaded) : waiting.waitLoaded(loading.load(key), signal);
  }

  async function slowGetToken(key: string, signal: AbortSignal | undefined): Promise<TokenSet> {
    core.assertRunning();
    signal?.throwIfAborted();
    const c = await loadFor(key, signal);
    let asked = false;
    for (;;) {
      core.assertRunning();
      signal?.throwIfAborted();
      if (c.state === 'refreshing') {
        await waiting.waitSettled(c, signal);
        asked = true;
        continue;
      }
      const at = now();
      if (!asked && shouldAskMachine(c, at)) {
        asked = true;
        actors.requestRefresh(c, false, at);
        continue;
      }
      return resultFor(c, at);
    }
  }

  function peekToken(key: string): TokenSet | undefined {
    const c = credentials.get(key);
    return c !== undefined && now() < c.freshUntil ? viewFor(c) : undefined;
  }

  return { getTokenPastHotPath, peekToken, loadFor };
}
