import { useEffect, useState } from 'react';
import type { TokenSet } from '../../../machines/lifecycle/types.js';
import { watchAccessToken } from '../access-token-watch.js';
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
  useEffect(
    () =>
      watchAccessToken(manager, key, (answer) => {
        if ('error' in answer) setResult({ error: answer.error, pending: false });
        else setResult((before) => (before.token === answer.token ? before : { token: answer.token, pending: false }));
      }),
    [manager, key],
  );
  return result;
}
