import { onScopeDispose, readonly, shallowRef, toRef, type Ref } from 'vue';
import type { TokenManager } from '../../../machines/manager/api-types.js';
import { idleView, tokenViewStore, type TokenStateView } from '../token-view.js';
import { isServer, useTokenManager } from './context.js';

/** The view as readonly refs, one per field. */
export type TokenStateRefs = { readonly [K in keyof Required<TokenStateView>]: Readonly<Ref<TokenStateView[K]>> };

/**
 * The credential's state view as readonly refs; they change when the view does, never per clock
 * tick. The subscription ends with the calling scope (component or `effectScope`). On the server it
 * is `idle` and reads nothing.
 */
export function useTokenState(key = 'default', manager: TokenManager = useTokenManager()): TokenStateRefs {
  const view = shallowRef<TokenStateView>(idleView);
  if (!isServer()) {
    const store = tokenViewStore(manager, key);
    view.value = store.getSnapshot();
    const off = store.subscribe(() => {
      view.value = store.getSnapshot();
    });
    onScopeDispose(off);
  }
  const field = <K extends keyof TokenStateView>(name: K) => readonly(toRef(() => view.value[name])) as Readonly<Ref<TokenStateView[K]>>;
  return {
    state: field('state'),
    detail: field('detail'),
    expiresAt: field('expiresAt'),
    refreshAt: field('refreshAt'),
    retryAt: field('retryAt'),
    lastError: field('lastError'),
  } as TokenStateRefs;
}
