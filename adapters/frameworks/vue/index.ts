// token-lifecycle/vue: Vue bindings over a TokenManager (DESIGN §9). Peer: vue ≥ 3.3.
import { inject, onScopeDispose, provide, readonly, shallowRef, toRef, type InjectionKey, type Ref } from 'vue';
import { InvalidConfigError } from '../../../machines/lifecycle/errors.js';
import type { TokenManager } from '../../../machines/manager/api-types.js';
import { authFetch } from '../../http/auth-fetch.js';
import type { FetchLike } from '../../http/options.js';
import { idleView, tokenViewStore, type TokenStateView } from '../token-view.js';

export type { TokenStateView } from '../token-view.js';

const MANAGER: InjectionKey<TokenManager> = Symbol('token-lifecycle manager');

/** Makes `manager` available to `useTokenState` and `useAuthFetch` in this component's descendants. */
export function provideTokenManager(manager: TokenManager): void {
  provide(MANAGER, manager);
}

export function useTokenManager(): TokenManager {
  const manager = inject(MANAGER, null);
  if (!manager) throw new InvalidConfigError('token-lifecycle/vue needs provideTokenManager(manager) in an ancestor component');
  return manager;
}

/** The view as readonly refs, one per field. */
export type TokenStateRefs = { readonly [K in keyof Required<TokenStateView>]: Readonly<Ref<TokenStateView[K]>> };

/**
 * The credential's state view as readonly refs; they change when the view does, never per clock
 * tick. The subscription ends with the calling scope (component or `effectScope`). On the server
 * (`import.meta.env.SSR`-style rendering without a mounted scope) it is `idle` and reads nothing.
 */
export function useTokenState(key = 'default', manager: TokenManager = useTokenManager()): TokenStateRefs {
  const isServer = typeof (globalThis as { document?: unknown }).document === 'undefined';
  const view = shallowRef<TokenStateView>(idleView);
  if (!isServer) {
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

/** A `fetch` that attaches the credential's token (R10 on 401). */
export function useAuthFetch(key = 'default', manager: TokenManager = useTokenManager()): FetchLike {
  return authFetch(manager, { key });
}
