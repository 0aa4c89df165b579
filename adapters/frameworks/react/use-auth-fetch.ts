import { useMemo } from 'react';
import { authFetch } from '../../http/auth-fetch.js';
import type { FetchLike } from '../../http/options.js';
import { useTokenManager } from './context.js';

/** A `fetch` that attaches the credential's token (R10 on 401); the same function across renders. */
export function useAuthFetch(key = 'default'): FetchLike {
  const manager = useTokenManager();
  return useMemo(() => authFetch(manager, { key }), [manager, key]);
}
