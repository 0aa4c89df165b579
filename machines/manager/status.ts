/** `status(key)` (DESIGN §4): what a credential is doing, from the machine's context; never a token value. */
import type { Actors } from './actors.js';
import * as rules from '../lifecycle/machine-rules.js';
import type { TokenStatus } from './api-types.js';
import type { ManagerCore } from './runtime.js';

export function createStatus(core: ManagerCore, actors: Actors) {
  const { capabilities } = core.settings.storage;
  const storage = capabilities ? { storage: capabilities } : {};
  return function status(key: string): TokenStatus {
    const c = core.credentials.get(key);
    const context = c && actors.contextOf(c);
    const token = context?.token;
    // R22: a derived credential names its parent, idle or not.
    const parent = c?.derived && !c.removed ? { parent: c.derived.from } : {};
    if (!c || !context || !token || c.state === 'idle') return { key, state: 'idle', needsRefresh: false, hasRefreshToken: false, ...storage, ...parent };
    const at = core.now();
    const refreshAtMs = rules.refreshMoment(context);
    const inDegraded = c.state === 'degraded';
    return {
      key,
      state: c.state,
      ...(c.detail ? { detail: c.detail } : {}),
      ...(token.expiresAt === undefined ? {} : { expiresAt: token.expiresAt, timeUntilExpiry: token.expiresAt - at }),
      ...(refreshAtMs === undefined ? {} : { refreshAt: refreshAtMs, timeUntilRefresh: Math.max(0, refreshAtMs - at) }),
      ...(context.lastRefreshAt === undefined ? {} : { lastRefreshAt: context.lastRefreshAt }),
      needsRefresh: rules.isRefreshNeeded(context, at),
      hasRefreshToken: token.hasRefreshToken,
      ...(inDegraded && token.retryAt !== undefined ? { retryAt: token.retryAt } : {}),
      ...(context.lastError ? { lastError: context.lastError } : {}),
      ...(context.reason !== undefined && (c.state === 'reauthRequired' || c.detail === 'rejected') ? { reason: context.reason } : {}),
      ...storage,
      ...parent,
    };
  };
}
