import { describe, expect, it, vi } from 'vitest';
import { memoryStorage } from '../../../machines/manager/memory-storage.js';
import { describeStorageContract, minimalRecord } from '../../support/storage-contract.js';

describeStorageContract(
  'memoryStorage',
  async () => {
    let now = 1_700_000_000_000;
    const storage = memoryStorage({ now: () => now });
    return {
      storage,
      // One process, one Map: managers sharing a memory store share the object itself.
      makeSecondInstance: async () => storage,
      advance: (ms) => {
        now += ms;
      },
      cleanup: async () => {},
    };
  },
  { locks: true, subscribe: true },
);

describe('memoryStorage specifics', () => {
  it('two memoryStorage() calls do not share records', async () => {
    const a = memoryStorage();
    const b = memoryStorage();
    await a.set('default', minimalRecord(1));
    expect(await b.get('default')).toBeUndefined();
  });

  it('defaults to the wall clock for lock TTLs', async () => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
    try {
      const storage = memoryStorage();
      expect(await storage.lock('default', 1_000)).not.toBeNull();
      vi.setSystemTime(1_700_000_000_999);
      expect(await storage.lock('default', 1_000)).toBeNull();
      vi.setSystemTime(1_700_000_001_000);
      expect(await storage.lock('default', 1_000)).not.toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });

  it('announces its own writes too (several managers may share one store)', async () => {
    const storage = memoryStorage();
    const heard: string[] = [];
    const off = storage.subscribe((key) => heard.push(key));
    await storage.set('a', minimalRecord(1));
    await storage.delete('a');
    await storage.delete('a'); // nothing to delete: no announcement
    off();
    await storage.set('b', minimalRecord(1));
    expect(heard).toEqual(['a', 'a']);
  });
});
