/**
 * Page for test/browser/react-bindings.test.ts: a React tree over token-lifecycle/react, with
 * Profiler render counts, a sibling that uses no hook, and a count of the manager's live listeners.
 */
import { createElement, Profiler, StrictMode, type ReactNode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { createTokenManager, memoryStorage, type TokenManager } from '../../../index.js';
import { oauth2Endpoint } from '../../../adapters/oauth2/index.js';
import { TokenManagerProvider, useAccessToken, useAuthFetch, useTokenState } from '../../../adapters/frameworks/react/index.js';

export interface MountOptions {
  tokenUrl: string;
  clientId: string;
  response: Record<string, unknown>;
  strict: boolean;
}

const renders: Record<string, number> = { badge: 0, sibling: 0 };
const fetchIdentities = new Set<unknown>();
let manager: TokenManager | undefined;
let listeners = 0;
let root: Root | undefined;

function Badge(): ReactNode {
  const view = useTokenState();
  const { token, pending } = useAccessToken();
  fetchIdentities.add(useAuthFetch());
  return createElement(
    'p',
    { id: 'badge' },
    createElement('span', { id: 'state' }, view.state),
    createElement('span', { id: 'expires' }, String(view.expiresAt ?? '')),
    createElement('span', { id: 'token' }, pending ? 'pending' : token ? `has token (${token.accessToken.length} chars)` : 'none'),
  );
}

function Sibling(): ReactNode {
  return createElement('p', { id: 'sibling' }, 'no hooks here');
}

const count = (id: string) => () => {
  renders[id] = (renders[id] ?? 0) + 1;
};

const reactPage = {
  async mount(options: MountOptions): Promise<void> {
    const created = createTokenManager({
      endpoint: oauth2Endpoint({ tokenUrl: options.tokenUrl, clientId: options.clientId, authMethod: 'none' }),
      storage: memoryStorage(),
    });
    // Counts the listeners the bindings hold (subscribe/unsubscribe pairs).
    const subscribe = created.subscribe;
    manager = Object.assign(created, {
      subscribe: (listener: Parameters<TokenManager['subscribe']>[0]) => {
        listeners++;
        const off = subscribe(listener);
        let done = false;
        return () => {
          if (!done) listeners--;
          done = true;
          off();
        };
      },
    });
    await manager.setToken('default', options.response);
    const tree = createElement(
      TokenManagerProvider,
      { manager },
      createElement(Profiler, { id: 'badge', onRender: count('badge') }, createElement(Badge)),
      createElement(Profiler, { id: 'sibling', onRender: count('sibling') }, createElement(Sibling)),
    );
    const container = document.createElement('div');
    document.body.append(container);
    root = createRoot(container);
    root.render(options.strict ? createElement(StrictMode, null, tree) : tree);
  },
  renders: () => ({ ...renders }),
  listeners: () => listeners,
  fetchIdentities: () => fetchIdentities.size,
  state: () => manager?.status().state,
  unmount(): void {
    root?.unmount();
    root = undefined;
  },
  async stop(): Promise<void> {
    await manager?.stop();
  },
};

declare global {
  interface Window {
    reactPage: typeof reactPage;
  }
}
window.reactPage = reactPage;
window.pageReady = true;
