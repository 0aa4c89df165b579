/**
 * Page for test/browser/web-storage-contract.test.ts: the shared TokenStorage contract suite
 * (test/support/storage-contract.ts, bundled with `vitest` aliased to test/support/in-page-vitest.ts)
 * run against webStorage in this page.
 */
import { webStorage, type WebStorage, type WebStorageArea, type WebStorageCapabilities } from '../../../adapters/storage/web/index.js';
import { resetRegistry, runRegistered, type TestResult } from '../../support/in-page-vitest.js';
import { describeStorageContract } from '../../support/storage-contract.js';

let run = 0;

function deleteDatabase(name: string): Promise<void> {
  return new Promise((resolve) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });
}

async function runContract(area: WebStorageArea, features: { subscribe: boolean } = { subscribe: true }): Promise<{ capabilities: WebStorageCapabilities; results: TestResult[] }> {
  resetRegistry();
  let capabilities: WebStorageCapabilities | undefined;
  describeStorageContract(
    `webStorage({ area: '${area}' })`,
    async () => {
      const prefix = `contract-${area}-${++run}-${Math.random().toString(36).slice(2)}`;
      const opened: WebStorage[] = [];
      const open = (): WebStorage => {
        const storage = webStorage({ prefix, area });
        opened.push(storage);
        return storage;
      };
      const storage = open();
      capabilities ??= storage.capabilities;
      return {
        storage,
        // Another tab's view of the same data; BroadcastChannel also reaches instances of one tab.
        makeSecondInstance: async () => open(),
        cleanup: async () => {
          await Promise.all(opened.map((s) => s.close()));
          await deleteDatabase(prefix);
          for (const name of Object.keys(sessionStorage)) if (name.startsWith(`${prefix}:`)) sessionStorage.removeItem(name);
        },
      };
    },
    // Lock TTLs run on real time here (Web Locks have no clock to advance): long enough that a loaded
    // machine's IndexedDB round trips never outlast them, short enough to wait out.
    { keys: true, locks: true, fencing: true, subscribe: features.subscribe, lockTtlMs: 300 },
  );
  const results = await runRegistered();
  if (!capabilities) throw new Error('the contract suite made no storage');
  return { capabilities, results };
}

/** For the change-feed test across tabs: a store of `prefix` that records what it hears. */
function openStore(prefix: string, area: WebStorageArea): { storage: WebStorage; heard: string[] } {
  const storage = webStorage({ prefix, area });
  const heard: string[] = [];
  storage.subscribe((key) => heard.push(key));
  return { storage, heard };
}

declare global {
  interface Window {
    contractPage: { runContract: typeof runContract; openStore: typeof openStore; store?: ReturnType<typeof openStore> };
  }
}

window.contractPage = { runContract, openStore };
window.pageReady = true;
