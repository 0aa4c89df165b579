/**
 * webStorage's options and its failures where the browser APIs are missing (Node has no IndexedDB or
 * sessionStorage). Its behaviour as a store is tested in Chromium (test/browser/web-storage-*.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { webStorage } from '../../../adapters/storage/web/index.js';
import { InvalidConfigError, StorageFailedError } from '../../../machines/lifecycle/errors.js';

describe('webStorage options', () => {
  it.each([
    ['an empty prefix', { prefix: '' }],
    ['a prefix starting with "-" (not a valid Web Lock name)', { prefix: '-app' }],
    ['an unknown area', { area: 'cookies' as never }],
  ])('refuses %s with invalid_config', (_, options) => {
    expect(() => webStorage(options)).toThrow(InvalidConfigError);
  });

  it('says what it runs on: no Web Locks in a session area, and a tab-only feed', () => {
    expect(webStorage({ area: 'session' }).capabilities).toEqual({ area: 'session', sharedAcrossTabs: false, locks: 'lease', changeFeed: 'tab' });
  });
});

describe('webStorage without the browser APIs', () => {
  it('a shared area without IndexedDB fails each call with storage_failed, naming no token', async () => {
    const storage = webStorage({ prefix: 'node-test' });
    const error = await storage.get('default').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageFailedError);
    expect((error as StorageFailedError).code).toBe('storage_failed');
    await expect(storage.set('default', { accessToken: 'at-secret', tokenType: 'Bearer', obtainedAt: 1, version: 1 })).rejects.toThrow(
      expect.objectContaining({ code: 'storage_failed', message: expect.not.stringContaining('at-secret') }),
    );
    await storage.close();
  });

  it('the session area without sessionStorage fails with storage_failed', async () => {
    const storage = webStorage({ area: 'session' });
    await expect(storage.get('default')).rejects.toBeInstanceOf(StorageFailedError);
    await expect(storage.lock('default', 1_000)).rejects.toBeInstanceOf(StorageFailedError);
  });
});
