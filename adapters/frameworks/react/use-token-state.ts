import { useMemo, useSyncExternalStore } from 'react';
import { idleView, tokenViewStore, type TokenStateView } from '../token-view.js';
import { useTokenManager } from './context.js';

const serverSnapshot = (): TokenStateView => idleView;

/**
 * The credential's state view. The component re-renders when the view changes (a state change, a
 * refresh, a failure), never per `getToken` call or per clock tick. On the server it is `idle` and
 * reads nothing.
 */
export function useTokenState(key = 'default'): TokenStateView {
  const manager = useTokenManager();
  const store = useMemo(() => tokenViewStore(manager, key), [manager, key]);
  return useSyncExternalStore(store.subscribe, store.getSnapshot, serverSnapshot);
}
