/**
 * Page for test/browser/manager.test.ts: the manager from the package's own entry point (R16: the
 * bundle fails on any Node built-in it reaches) on the browser's timers, with a scripted endpoint.
 */
import { createTokenManager, memoryStorage, type TokenEvent } from '../../../index.js';
import { scriptedEndpoint } from '../../support/fake-endpoint.js';

export interface ManagerRun {
  before: string;
  after: string;
  received: Array<string | undefined>;
  events: string[];
}

/** A 2-second token: served at once, refreshed in the background at half its lifetime, served anew. */
async function backgroundRefresh(): Promise<ManagerRun> {
  const endpoint = scriptedEndpoint({ expiresIn: 3600 });
  const manager = createTokenManager({ endpoint, storage: memoryStorage() });
  const events: string[] = [];
  const refreshed = new Promise<void>((resolve) => {
    manager.subscribe((event: TokenEvent) => {
      events.push(event.type === 'state' ? `state:${event.state}` : event.type);
      if (event.type === 'refreshed') resolve();
    });
  });
  await manager.setToken('default', { access_token: 'at-0', token_type: 'Bearer', expires_in: 2, refresh_token: 'rt-0' });
  const before = (await manager.getToken()).accessToken;
  await refreshed;
  const after = (await manager.getToken()).accessToken;
  await manager.stop();
  return { before, after, received: [...endpoint.received], events };
}

declare global {
  interface Window {
    managerPage: { backgroundRefresh: typeof backgroundRefresh };
  }
}

window.managerPage = { backgroundRefresh };
window.pageReady = true;
