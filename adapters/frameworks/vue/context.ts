import { inject, provide, type InjectionKey } from 'vue';
import { InvalidConfigError } from '../../../machines/lifecycle/errors.js';
import type { TokenManager } from '../../../machines/manager/api-types.js';

const MANAGER: InjectionKey<TokenManager> = Symbol('token-lifecycle manager');

/** Makes `manager` available to the composables in this component's descendants. */
export function provideTokenManager(manager: TokenManager): void {
  provide(MANAGER, manager);
}

export function useTokenManager(): TokenManager {
  const manager = inject(MANAGER, null);
  if (!manager) throw new InvalidConfigError('token-lifecycle/vue needs provideTokenManager(manager) in an ancestor component');
  return manager;
}

/**
 * Server rendering (no document): the composables subscribe to nothing and ask for nothing, and
 * show their initial state; the client takes over when it mounts.
 */
export function isServer(): boolean {
  return typeof (globalThis as { document?: unknown }).document === 'undefined';
}
