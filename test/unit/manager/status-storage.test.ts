/**
 * status(key).storage: a store's capabilities (webStorage: Web Locks or a lease, the change feed)
 * are shown in every status, loaded key or not; a store without them adds nothing.
 */
import { describe, expect, it } from 'vitest';
import type { TokenStorage } from '../../../machines/lifecycle/types.js';
import { memoryStorage } from '../../../machines/manager/memory-storage.js';
import { simulatedManager } from '../../support/simulated-manager.js';

const login = { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' };

describe('status(key).storage', () => {
  it("shows the storage's capabilities for an idle key and a loaded one", async () => {
    const capabilities = { locks: 'lease', changeFeed: 'storage-event', sharedAcrossTabs: true };
    const storage: TokenStorage = Object.assign(memoryStorage(), { capabilities });
    const { manager } = simulatedManager({ storage });
    expect(manager.status('nobody').storage).toEqual(capabilities);
    await manager.setToken('default', login);
    expect(manager.status('default')).toMatchObject({ state: 'valid', storage: capabilities });
    await manager.stop();
  });

  it('is absent for a store without capabilities', async () => {
    const { manager } = simulatedManager();
    await manager.setToken('default', login);
    expect(manager.status('default')).not.toHaveProperty('storage');
    expect(manager.status('nobody')).not.toHaveProperty('storage');
    await manager.stop();
  });
});
