/**
 * Page for the cross-tab tests (test/browser/web-storage-tabs.test.ts): one tab of a browser app,
 * a manager over webStorage and oauth2Endpoint against the test's oidc-provider. The test drives it
 * through `window.tab`; tokens cross back to the test only to be compared.
 */
import { createTokenManager, type TokenManager, type TokenSet } from '../../../index.js';
import { oauth2Endpoint } from '../../../adapters/oauth2/index.js';
import { webStorage, type WebStorageArea, type WebStorageCapabilities } from '../../../adapters/storage/web/index.js';

export interface TabOptions {
  tokenUrl: string;
  clientId: string;
  area: WebStorageArea;
  prefix: string;
}

export interface Outcome {
  token?: TokenSet;
  error?: { code: string; message: string };
}

let manager: TokenManager | undefined;
let capabilities: WebStorageCapabilities | undefined;
const events: string[] = [];

const active = (): TokenManager => {
  if (!manager) throw new Error('tab.start() first');
  return manager;
};

async function settle(work: () => Promise<TokenSet>): Promise<Outcome> {
  try {
    return { token: await work() };
  } catch (error) {
    const e = error as { code?: string; message?: string };
    return { error: { code: e.code ?? 'unknown', message: e.message ?? String(error) } };
  }
}

const tab = {
  async start(options: TabOptions): Promise<WebStorageCapabilities> {
    const storage = webStorage({ prefix: options.prefix, area: options.area });
    capabilities = storage.capabilities;
    manager = createTokenManager({
      endpoint: oauth2Endpoint({ tokenUrl: options.tokenUrl, clientId: options.clientId, authMethod: 'none' }),
      storage,
    });
    manager.subscribe((event) => events.push(event.type === 'state' ? `state:${event.state}` : `${event.type}${'code' in event ? `:${event.code}` : ''}`));
    await manager.start();
    return capabilities;
  },
  setToken: (response: Record<string, unknown>) => active().setToken('default', response).then(() => undefined),
  getToken: () => settle(() => active().getToken()),
  refresh: () => settle(() => active().refresh()),
  status: () => active().status(),
  events: () => [...events],
  capabilities: () => capabilities,
};

declare global {
  interface Window {
    tab: typeof tab;
  }
}

window.tab = tab;
window.pageReady = true;
