import { useEffect, useState } from 'react';
import type { TokenSet } from '../../../machines/lifecycle/types.js';
import { useTokenManager } from './context.js';

export interface AccessTokenState {
  /** The current token set, for the component to pass on (never rendered by us). */
  readonly token?: TokenSet;
  readonly error?: unknown;
  readonly pending: boolean;
}

const PENDING: AccessTokenState = { pending: true };

/**
 * The credential's token, asked for after mount and again whenever the credential changes. Asking
 * twice (StrictMode's double mount) joins the same single-flight refresh: no extra request.
 */
export function useAccessToken(key = 'default'): AccessTokenState {
  const manager = useTokenManager();
  const [result, setResult] = useState<AccessTokenState>(PENDING);
  useEffect(() => {
    let active = true;
    let asked = false;
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
    const request = (): void => {
      manager.getToken(key).then(
        (token) => active && setResult((before) => (before.token === token ? before : { token, pending: false })),
        (error: unknown) => active && setResult({ error, pending: false }),
      );
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
  }, [manager, key]);
  return result;
}
