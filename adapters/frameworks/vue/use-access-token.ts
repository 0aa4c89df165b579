import { onScopeDispose, shallowRef, toRef, type Ref } from 'vue';
import type { TokenSet } from '../../../machines/lifecycle/types.js';
import type { TokenManager } from '../../../machines/manager/api-types.js';
import { watchAccessToken } from '../access-token-watch.js';
import { isServer, useTokenManager } from './context.js';

export interface AccessTokenRefs {
  /** The current token set, for the component to pass on (never rendered by us). */
  readonly token: Readonly<Ref<TokenSet | undefined>>;
  readonly error: Readonly<Ref<unknown>>;
  /** True until the first answer. */
  readonly pending: Readonly<Ref<boolean>>;
}

interface Answer {
  readonly token?: TokenSet;
  readonly error?: unknown;
  readonly pending: boolean;
}

/**
 * The credential's token, asked for now and again whenever the credential changes (a refresh, a
 * new state); several components asking at once join one single-flight refresh. Ends with the
 * calling scope. On the server it stays pending and asks for nothing.
 */
export function useAccessToken(key = 'default', manager: TokenManager = useTokenManager()): AccessTokenRefs {
  const answer = shallowRef<Answer>({ pending: true });
  if (!isServer()) {
    const stop = watchAccessToken(manager, key, (next) => {
      if ('error' in next) answer.value = { error: next.error, pending: false };
      else if (answer.value.token !== next.token) answer.value = { token: next.token, pending: false };
    });
    onScopeDispose(stop);
  }
  return {
    token: toRef(() => answer.value.token),
    error: toRef(() => answer.value.error),
    pending: toRef(() => answer.value.pending),
  };
}
