/**
 * What `useAccessToken` does in every binding: ask the manager for the credential's token now and
 * again whenever the credential changes (a refresh, a new state), and hand each answer on.
 */
import type { TokenSet } from '../../machines/lifecycle/types.js';
import type { TokenManager } from '../../machines/manager/api-types.js';

export type AccessTokenAnswer = { readonly token: TokenSet } | { readonly error: unknown };

/** Starts watching; the function returned stops it (no answer is handed on after). */
export function watchAccessToken(manager: TokenManager, key: string, onAnswer: (answer: AccessTokenAnswer) => void): () => void {
  let active = true;
  let asked = false;
  const request = (): void => {
    manager.getToken(key).then(
      (token) => active && onAnswer({ token }),
      (error: unknown) => active && onAnswer({ error }),
    );
  };
  // Asked on a later microtask, once for a burst of events: never from inside the manager's own
  // event delivery, where a getToken can emit the next event synchronously.
  const ask = (): void => {
    if (asked) return;
    asked = true;
    queueMicrotask(() => {
      asked = false;
      if (active) request();
    });
  };
  ask();
  const off = manager.subscribe((event) => {
    if (event.key !== key) return;
    if (event.type === 'refreshed' || (event.type === 'state' && event.state !== 'refreshing')) ask();
  });
  return () => {
    active = false;
    off();
  };
}
