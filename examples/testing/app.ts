/**
 * The app of the testing guide (docs/testing.md): an account panel that loads the user's profile
 * from an API through `authFetch`, and tells the user what is going on with their session. Its test
 * (app.test.ts beside it) drives it through every lifecycle state with `token-lifecycle/testing`.
 *
 * In an app the imports read `token-lifecycle` and `token-lifecycle/adapters/http`.
 */
import { authFetch, type FetchLike } from '../../adapters/http/index.js';
import type { TokenManager, TokenStatus } from '../../index.js';

export interface PanelView {
  /** The profile, when the API gave it. */
  readonly profile?: { readonly name: string };
  /** What the banner over the panel says, if anything. */
  readonly banner?: string;
  /** Whether the panel offers "Sign in". */
  readonly signIn: boolean;
}

export interface AccountPanelOptions {
  readonly manager: TokenManager;
  /** The API's fetch (the browser's, or a test's). */
  readonly fetch: FetchLike;
  readonly apiUrl: string;
  readonly key?: string;
}

export const SIGNED_OUT: PanelView = { banner: 'Your session has ended. Please sign in again.', signIn: true };
export const OFFLINE: PanelView = { banner: 'We cannot reach the sign-in service. Retrying…', signIn: false };

/** What the panel shows when no token could be had: only a re-authentication signs the user out. */
export function viewForTokenError(error: unknown): PanelView {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'reauth_required' || code === 'not_found') return SIGNED_OUT;
  // A transient failure (the sign-in service is down, the token expired meanwhile): keep the user.
  if ((error as { retryable?: unknown } | null)?.retryable === true) return OFFLINE;
  throw error;
}

/** The small badge in the header: read from `status()` alone, no request. */
export function sessionBadge(status: TokenStatus): string {
  switch (status.state) {
    case 'idle':
    case 'reauthRequired':
      return 'Signed out';
    case 'degraded':
      return status.detail === 'rejected' ? 'Session ending' : status.detail === 'expired' ? 'Offline' : 'Reconnecting…';
    default:
      return 'Signed in';
  }
}

export function accountPanel(options: AccountPanelOptions, onTokenError: (error: unknown) => PanelView = viewForTokenError) {
  const key = options.key ?? 'default';
  const api = authFetch(options.manager, { key, fetch: options.fetch });

  return {
    badge: (): string => sessionBadge(options.manager.status(key)),

    async render(): Promise<PanelView> {
      const before = options.manager.status(key);
      // Nothing to ask the API with: no request.
      if (before.state === 'idle' || before.state === 'reauthRequired') return SIGNED_OUT;
      let response: Response;
      try {
        response = await api(options.apiUrl);
      } catch (error) {
        return onTokenError(error);
      }
      if (response.status === 401) return SIGNED_OUT;
      if (!response.ok) return { banner: `The service answered ${response.status}.`, signIn: false };
      const profile = (await response.json()) as { name: string };
      const after = options.manager.status(key);
      if (after.state === 'degraded' && after.detail === 'rejected') {
        return { profile, banner: 'Your session ends soon: sign in again to keep working.', signIn: true };
      }
      if (after.state === 'degraded') return { profile, banner: 'Reconnecting to the sign-in service…', signIn: false };
      return { profile, signIn: false };
    },
  };
}
