/**
 * Refreshes a caller asks for: `refresh(key)` (forced, R1) and the HTTP adapters' renewal after a 401
 * (R10: once per minimum interval, never in `degraded.rejected` or `reauthRequired`).
 */
import type { Actors } from './actors.js';
import { hasView, isRefreshing, viewFor, type Credential } from './credential.js';
import { ReauthRequiredError, RefreshFailedError, RefreshTokenMissingError, TokenLifecycleError } from '../lifecycle/errors.js';
import * as rules from '../lifecycle/machine-rules.js';
import type { GetTokenOptions } from './api-types.js';
import type { ManagerCore } from './runtime.js';
import { isServable } from './serving.js';
import type { TokenSet } from '../lifecycle/types.js';
import type { Waiting } from './waiting.js';

function failureOf(c: Credential): TokenLifecycleError {
  const failure = c.lastFailure;
  if (failure instanceof TokenLifecycleError) return failure;
  return new RefreshFailedError('Token refresh failed', { key: c.key, ...(failure === undefined ? {} : { cause: failure }) });
}

export function createForcedRefresh(
  core: ManagerCore,
  actors: Actors,
  loadFor: (key: string, signal: AbortSignal | undefined) => Promise<Credential>,
  waiting: Waiting,
) {
  const { now, settings } = core;

  function assertMayRefresh(c: Credential): void {
    if (c.state === 'reauthRequired' || (c.state === 'degraded' && c.detail === 'rejected')) {
      throw new ReauthRequiredError(actors.contextOf(c)?.reason ?? 'refresh_token_missing', { key: c.key });
    }
    const context = actors.contextOf(c);
    if (!context || !rules.canRefresh(context)) throw new RefreshTokenMissingError({ key: c.key });
  }

  async function refresh(key: string, options?: GetTokenOptions): Promise<TokenSet> {
    core.assertRunning();
    // An abort listener never fires for a signal already aborted: look first, and after the load.
    options?.signal?.throwIfAborted();
    const c = await loadFor(key, options?.signal);
    options?.signal?.throwIfAborted();
    assertMayRefresh(c);
    const seq = c.refreshSeq;
    if (!isRefreshing(c)) actors.requestRefresh(c, true, now());
    if (isRefreshing(c)) await waiting.waitSettled(c, options?.signal);
    core.assertRunning();
    if (c.refreshSeq > seq && c.lastFailure === undefined && hasView(c)) return viewFor(c) as TokenSet;
    throw failureOf(c);
  }

  async function renewAfterUnauthorized(key: string, rejectedAccessToken: string, options?: GetTokenOptions): Promise<TokenSet | undefined> {
    core.assertRunning();
    const signal = options?.signal;
    signal?.throwIfAborted();
    const c = await loadFor(key, signal);
    signal?.throwIfAborted();
    const usableOther = (): TokenSet | undefined =>
      isServable(c, now()) && c.record?.accessToken !== rejectedAccessToken ? viewFor(c) : undefined;
    // R10: a 401 for an older token is retried with the current one, with no refresh.
    const current = usableOther();
    if (current) return current;
    if (c.state === 'refreshing') {
      await waiting.waitSettled(c, signal);
      return usableOther();
    }
    const context = actors.contextOf(c);
    if (!context || !rules.canRefresh(context) || c.state === 'reauthRequired') return undefined;
    // A pending Retry-After or backoff: the 401 goes back to the caller.
    if (rules.isRetryPending(context, now())) return undefined;
    const allowedAt = (context.lastRefreshStartedAt ?? Number.NEGATIVE_INFINITY) + settings.minIntervalMs;
    if (allowedAt > now()) {
      // The minimum interval: wait for it (briefly), then look again.
      await waiting.sleep(allowedAt - now(), signal);
      core.assertRunning();
      const meanwhile = usableOther();
      if (meanwhile) return meanwhile;
    }
    // A refresh started meanwhile ignores this REFRESH: the wait below joins it.
    const seq = c.refreshSeq;
    actors.requestRefresh(c, true, now());
    if (isRefreshing(c)) await waiting.waitSettled(c, signal);
    return c.refreshSeq > seq && c.lastFailure === undefined ? usableOther() : undefined;
  }

  return { refresh, renewAfterUnauthorized };
}
