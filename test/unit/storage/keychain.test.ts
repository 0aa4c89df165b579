/**
 * keychainStorage over an in-memory keychain (test/support/memory-keyring.ts): the split between
 * file and keychain, what a refused write leaves, reads racing a writer, deletes and sweeps, and a
 * keychain that cannot be used. The real OS keychain (Secret Service in a private D-Bus session)
 * runs the same contract in test/integration/keychain-secret-service.test.ts.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keychainStorage, type KeychainStorageOptions } from '../../../adapters/storage/keychain/index.js';
import { fileStorage } from '../../../adapters/storage/file/index.js';
import { TokenLifecycleError } from '../../../machines/lifecycle/errors.js';
import { createTokenManager } from '../../../machines/manager/manager.js';
import { memoryKeyring, type MemoryKeyring } from '../../support/memory-keyring.js';
import { describeStorageContract, fullRecord, minimalRecord } from '../../support/storage-contract.js';
import { fileStoreFixture } from '../../support/file-store-fixture.js';
import { lifecycleRejection } from '../../support/rejection.js';


describeStorageContract(
  'keychainStorage over an in-memory keychain',
  () => {
    const keyring = memoryKeyring();
    return fileStoreFixture('tl-keychain-contract-', (path, now) => keychainStorage({ path, keyring, now, pollInterval: 50 }));
  },
  { keys: true, locks: true, fencing: true, subscribe: true },
);

describe('keychainStorage', () => {
  let dir: string;
  let path: string;
  let keyring: MemoryKeyring;
  let t: number;
  const opened: Array<{ close(): Promise<void> }> = [];

  function open(options: Partial<KeychainStorageOptions> = {}) {
    const storage = keychainStorage({ path, keyring, now: () => t, watch: false, ...options });
    opened.push(storage);
    return storage;
  }
  const fileBytes = () => readFile(path, 'utf8');

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tl-keychain-'));
    path = join(dir, 'tokens.json');
    keyring = memoryKeyring();
    t = 1_700_000_000_000;
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps access, refresh and ID tokens in one keychain entry and only markers in the file', async () => {
    const storage = open();
    const record = fullRecord(1);
    await storage.set('user:alice', record);
    const bytes = await fileBytes();
    for (const field of ['accessToken', 'refreshToken', 'idToken'] as const) expect(bytes).not.toContain(record[field]!);
    expect(bytes).not.toContain('sig-1');
    expect(keyring.entries.size).toBe(1);
    const [account, entry] = [...keyring.entries][0]!;
    expect(account).toMatch(/^user:alice\/[0-9a-f]{8}\.[0-9a-z]+\.[A-Za-z0-9_-]{12}$/);
    expect(JSON.parse(entry!)).toStrictEqual({ accessToken: record.accessToken, refreshToken: record.refreshToken, idToken: record.idToken });
    const raw = (await fileStorage({ path, watch: false }).get('user:alice'))!;
    expect(raw.accessToken).toBe(`keychain:v1:${account}`);
    expect(raw.refreshToken).toBe(`keychain:v1:${account}`);
    const { accessToken, refreshToken, idToken, ...metadata } = raw;
    const { accessToken: a, refreshToken: r, idToken: i, ...expected } = record;
    expect(metadata).toStrictEqual(expected);
  });

  it('keeps an empty access token in the file and makes no entry for a record without secrets', async () => {
    const storage = open();
    await storage.set('default', { ...minimalRecord(1), accessToken: '' });
    expect(keyring.entries.size).toBe(0);
    expect(await storage.get('default')).toStrictEqual({ ...minimalRecord(1), accessToken: '' });
  });

  it('a replacing write removes the entry of the record it replaced', async () => {
    const storage = open();
    await storage.set('default', fullRecord(1));
    const [first] = keyring.entries.keys();
    await storage.set('default', fullRecord(2), { expectedVersion: 1 });
    expect(keyring.entries.size).toBe(1);
    expect(keyring.entries.has(first!)).toBe(false);
    expect(await storage.get('default')).toStrictEqual(fullRecord(2));
  });

  it('a write the file refuses (conflict) removes its new entry and changes nothing', async () => {
    const storage = open();
    await storage.set('default', fullRecord(1));
    const before = new Map(keyring.entries);
    expect((await lifecycleRejection(storage.set('default', fullRecord(2), { expectedVersion: 0 }))).code).toBe('storage_conflict');
    expect(keyring.entries).toStrictEqual(before);
    expect(await storage.get('default')).toStrictEqual(fullRecord(1));
  });

  it('a malformed record is refused before anything reaches the keychain', async () => {
    const storage = open();
    const bad = { ...fullRecord(1), obtainedAt: Number.NaN };
    expect((await lifecycleRejection(storage.set('default', bad))).code).toBe('storage_corrupt');
    expect(keyring.entries.size).toBe(0);
  });

  it('a read whose entry was replaced meanwhile reads the file again', async () => {
    const storage = open();
    await storage.set('default', fullRecord(1));
    const other = open();
    // Another process replaces the record between this read of the file and its read of the keychain.
    const realGet = keyring.get.bind(keyring);
    let raced = false;
    keyring.get = async (account) => {
      if (!raced) {
        raced = true;
        await other.set('default', fullRecord(2), { expectedVersion: 1 });
      }
      return realGet(account);
    };
    expect(await storage.get('default')).toStrictEqual(fullRecord(2));
  });

  it('an entry that stays missing (removed, or a locked keychain) is storage_failed with a hint, and the record stays', async () => {
    const storage = open();
    await storage.set('default', fullRecord(1));
    keyring.entries.clear();
    const error = await lifecycleRejection(storage.get('default'));
    expect(error.code).toBe('storage_failed');
    expect(error.message).toMatch(/keychain entry of key "default" was not found: the keychain is locked/);
    expect((error as TokenLifecycleError & { hint?: string }).hint).toMatch(/^unlock the OS keychain/);
    expect(await fileStorage({ path, watch: false }).get('default')).toBeDefined();
    // ... and a delete clears it up.
    await storage.delete('default');
    expect(await storage.get('default')).toBeUndefined();
  });

  it('a token in clear text in the file (written by the file store) is refused, not served', async () => {
    await fileStorage({ path, watch: false }).set('default', fullRecord(1));
    const error = await lifecycleRejection(open().get('default'));
    expect(error.code).toBe('storage_corrupt');
    expect(error.message).toMatch(/clear text/);
    expect(error.message).not.toContain(fullRecord(1).accessToken);
  });

  it('delete removes the entry and the record', async () => {
    const storage = open();
    await storage.set('a', fullRecord(1));
    await storage.set('b', fullRecord(1));
    await storage.delete('a');
    expect(keyring.entries.size).toBe(1);
    expect([...keyring.entries.keys()][0]).toMatch(/^b\//);
    expect(await storage.keys()).toEqual(['b']);
  });

  it('delete sweeps entries of its key left by a crashed writer once they are older than sweepAfter', async () => {
    const storage = open({ sweepAfter: '1m' });
    await storage.set('default', fullRecord(1));
    // A writer that died between its keychain write and its file write, two minutes ago and just now.
    const [account] = keyring.entries.keys();
    const tag = account!.split('/')[1]!.split('.')[0]!;
    const old = `default/${tag}.${(t - 120_000).toString(36)}.AAAAAAAAAAAA`;
    const fresh = `default/${tag}.${t.toString(36)}.BBBBBBBBBBBB`;
    const otherStore = `default/ffffffff.${(t - 120_000).toString(36)}.CCCCCCCCCCCC`;
    const otherKey = `default2/${tag}.${(t - 120_000).toString(36)}.DDDDDDDDDDDD`;
    for (const name of [old, fresh, otherStore, otherKey]) keyring.entries.set(name, '{}');
    await storage.delete('default');
    expect([...keyring.entries.keys()].sort()).toEqual([fresh, otherKey, otherStore].sort());
  });

  it('without a usable keychain every operation is storage_failed with a hint, and nothing is written in clear', async () => {
    const storage = open();
    keyring.unavailable = true;
    for (const operation of [() => storage.set('default', fullRecord(1)), () => storage.delete('default')]) {
      const error = await lifecycleRejection(operation());
      expect(error.code).toBe('storage_failed');
      expect(error.retryable).toBe(true);
      expect((error as TokenLifecycleError & { hint?: string }).hint).toMatch(/Secret Service.*nothing was written|nothing was written.*Secret Service/);
    }
    await expect(readFile(path)).rejects.toMatchObject({ code: 'ENOENT' });
    // With a record already there, a read fails the same way.
    keyring.unavailable = false;
    await storage.set('default', fullRecord(1));
    const bytes = await fileBytes();
    keyring.unavailable = true;
    expect((await lifecycleRejection(storage.get('default'))).code).toBe('storage_failed');
    await expect(lifecycleRejection(storage.set('default', fullRecord(2)))).resolves.toMatchObject({ code: 'storage_failed' });
    expect(await fileBytes()).toBe(bytes);
  });

  it('a manager over it refreshes, rotates and removes with no token in the file', async () => {
    const storage = open();
    let n = 0;
    const tokens = createTokenManager({
      storage,
      backgroundRefresh: false,
      endpoint: { refresh: async () => ({ access_token: `at-rotated-${++n}`, token_type: 'Bearer', expires_in: 3600, refresh_token: `rt-rotated-${n}` }) },
    });
    await tokens.setToken('default', { access_token: 'at-first', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-first' });
    await tokens.refresh('default');
    const bytes = await fileBytes();
    for (const secret of ['at-first', 'rt-first', 'at-rotated-1', 'rt-rotated-1']) expect(bytes).not.toContain(secret);
    expect(keyring.entries.size).toBe(1);
    expect(JSON.parse([...keyring.entries.values()][0]!)).toStrictEqual({ accessToken: 'at-rotated-1', refreshToken: 'rt-rotated-1' });
    await tokens.remove('default', { revoke: false });
    expect(keyring.entries.size).toBe(0);
    await tokens.stop();
  });

  it('two stores (two files) in one keychain service keep their entries apart', async () => {
    const a = open();
    const b = open({ path: join(dir, 'other.json') });
    await a.set('default', fullRecord(1));
    await b.set('default', fullRecord(2));
    t += 10 * 60_000; // both entries are old enough to be swept, were they orphans
    await a.delete('default');
    expect(await b.get('default')).toStrictEqual(fullRecord(2));
  });

  it('refuses an unparsable entry as storage_corrupt without quoting it', async () => {
    const storage = open();
    await storage.set('default', fullRecord(1));
    const [account] = keyring.entries.keys();
    keyring.entries.set(account!, 'not json at-SECRET');
    const error = await lifecycleRejection(storage.get('default'));
    expect(error.code).toBe('storage_corrupt');
    expect(error.message).not.toContain('at-SECRET');
  });

  it('keeps the record when a delete cannot remove its entry (a second delete finishes)', async () => {
    const storage = open();
    await storage.set('default', fullRecord(1));
    keyring.failDeletes = 1;
    expect((await lifecycleRejection(storage.delete('default'))).code).toBe('storage_failed');
    expect(await storage.get('default')).toStrictEqual(fullRecord(1));
    await storage.delete('default');
    expect(await storage.get('default')).toBeUndefined();
    expect(keyring.entries.size).toBe(0);
  });
});
