/**
 * Server rendering with the bindings (DESIGN §9): rendering a tree that uses every hook starts no
 * timer of ours and reads no storage; the state shown is `idle` (the client takes over after mount).
 */
import { createElement, type ReactNode } from 'react';
import { renderToString } from 'react-dom/server';
import { createSSRApp, defineComponent, h } from 'vue';
import { renderToString as renderVue } from 'vue/server-renderer';
import { describe, expect, it } from 'vitest';
import { createTokenManager, memoryStorage, type TokenManager } from '../../../index.js';
import { TokenManagerProvider, useAccessToken, useAuthFetch, useTokenState } from '../../../adapters/frameworks/react/index.js';
import * as vueBindings from '../../../adapters/frameworks/vue/index.js';
import type { Clock, TokenStorage } from '../../../machines/lifecycle/types.js';
import { scriptedEndpoint } from '../../support/fake-endpoint.js';

interface Counted {
  manager: TokenManager;
  reads: () => number;
  timers: () => number;
}

function countedManager(): Counted {
  let reads = 0;
  let timers = 0;
  const inner = memoryStorage();
  const storage: TokenStorage = {
    ...inner,
    get: (key) => {
      reads++;
      return inner.get(key);
    },
    keys: () => {
      reads++;
      return inner.keys();
    },
  };
  const clock: Clock = {
    now: () => Date.now(),
    setTimeout: (fn, ms) => {
      timers++;
      return setTimeout(fn, ms);
    },
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
  const manager = createTokenManager({ endpoint: scriptedEndpoint(), storage, clock });
  return { manager, reads: () => reads, timers: () => timers };
}

const LOGIN = { authorizationUrl: 'https://as.example/authorize', tokenUrl: 'https://as.example/token', clientId: 'app', redirectUri: 'https://app.example/cb' };

describe('server rendering', () => {
  it('React: every hook renders idle, with no storage read and no timer', () => {
    const { manager, reads, timers } = countedManager();
    function Badge(): ReactNode {
      const view = useTokenState('alice');
      const token = useAccessToken('alice');
      const fetcher = useAuthFetch('alice');
      return createElement('p', null, `${view.state} ${token.pending ? 'pending' : 'done'} ${typeof fetcher}`);
    }
    const html = renderToString(createElement(TokenManagerProvider, { manager }, createElement(Badge)));
    expect(html).toContain('idle pending function');
    expect(reads()).toBe(0);
    expect(timers()).toBe(0);
  });

  it('React: a hook outside a provider says what is missing', () => {
    const Lonely = (): ReactNode => createElement('p', null, useTokenState().state);
    expect(() => renderToString(createElement(Lonely))).toThrow(/TokenManagerProvider/);
  });

  it('Vue: every composable renders its initial state, with no storage read, no timer, no listener and no login completed', async () => {
    const { manager, reads, timers } = countedManager();
    let listeners = 0;
    const subscribe = manager.subscribe;
    manager.subscribe = (listener) => {
      listeners++;
      return subscribe(listener);
    };
    const Badge = defineComponent({
      setup() {
        const view = vueBindings.useTokenState('alice');
        const fetcher = vueBindings.useAuthFetch('alice');
        const token = vueBindings.useAccessToken('alice');
        // A callback URL on the server is not completed there (the client does it once mounted).
        const login = vueBindings.useRedirectLogin({ ...LOGIN, url: 'https://app.example/cb?code=c&state=s', key: 'alice' });
        return () => h('p', `${view.state.value} ${typeof fetcher} ${token.pending.value ? 'pending' : 'done'} ${login.status.value}`);
      },
    });
    const App = defineComponent({
      setup() {
        vueBindings.provideTokenManager(manager);
        return () => h(Badge);
      },
    });
    const html = await renderVue(createSSRApp(App));
    expect(html).toContain('idle function pending idle');
    expect(reads()).toBe(0);
    expect(timers()).toBe(0);
    expect(listeners).toBe(0);
  });
});
