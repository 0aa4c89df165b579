import { createContext, createElement, useContext, type ReactNode } from 'react';
import { InvalidConfigError } from '../../../machines/lifecycle/errors.js';
import type { TokenManager } from '../../../machines/manager/api-types.js';

const ManagerContext = createContext<TokenManager | null>(null);

export interface TokenManagerProviderProps {
  readonly manager: TokenManager;
  readonly children?: ReactNode;
}

/** Makes `manager` available to the hooks below it. The manager's identity is the context value: a
 * refresh changes nothing here, so the tree under the provider never re-renders for it. */
export function TokenManagerProvider({ manager, children }: TokenManagerProviderProps) {
  return createElement(ManagerContext.Provider, { value: manager }, children);
}

/** The manager of the nearest `TokenManagerProvider`. */
export function useTokenManager(): TokenManager {
  const manager = useContext(ManagerContext);
  if (!manager) throw new InvalidConfigError('token-lifecycle/react hooks need a <TokenManagerProvider manager={…}> above them');
  return manager;
}
