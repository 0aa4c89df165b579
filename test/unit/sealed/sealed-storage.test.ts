import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StorageSealedError } from '../../../machines/lifecycle/errors.js';
import type { TokenRecord, TokenStorage } from '../../../machines/lifecycle/types.js';
import { createTokenManager } from '../../../machines/manager/manager.js';
import { memoryStorage } from '../../../machines/manager/memory-storage.js';
import { sealedStorage } from '../../../machines/sealed/sealed-storage.js';
import { describeStorageContract, fullRecord, minimalRecord } from '../../support/storage-contract.js';
import { lifecycleRejection } from '../../support/rejection.js';

const secretA = new Uint8Array(32).fill(7);
const secretB = Uint8Array.from({ length: 32 }, (_, i) => i * 5);
const base64Of = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes));
const KEY_A = { id: 'a-2026', secret: secretA };
const KEY_B = { id: 'b-2027', secret: base64Of(secretB) };


describeStorageContract(
  'sealedStorage over memoryStorage',
  async () => {
    let now = 1_700_000_000_000;
    const inner = memoryStorage({ now: () => now });
    const storage = sealedStorage(inner, { keys: [KEY_A] });
    return {
      storage,
      makeSecondInstance: async () => sealedStorage(inner, { keys: [KEY_A] }),
      advance: (ms) => {
        now += ms;
      },
      cleanup: async () => {},
    };
  },
  { locks: true, subscribe: true },
);

describe('sealedStorage: what is stored', () => {
  it('seals access, refresh and ID tokens; expiry, version and markers stay readable', async () => {
    const inner = memoryStorage();
    const storage = sealedStorage(inner, { keys: [KEY_A] });
    const record = { ...fullRecord(3), refreshing: { by: 'manager-1', since: 5 } };
    await storage.set('user:alice', record);
    const raw = (await inner.get('user:alice'))!;
    for (const field of ['accessToken', 'refreshToken', 'idToken'] as const) {
      expect(raw[field]).toMatch(/^sealed:v1:a-2026:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+$/);
      expect(raw[field]).not.toContain(record[field]!.slice(0, 12));
    }
    const { accessToken, refreshToken, idToken, ...metadata } = raw;
    const { accessToken: a, refreshToken: r, idToken: i, ...expected } = record;
    expect(metadata).toStrictEqual(expected);
    expect(await storage.get('user:alice')).toStrictEqual(record);
  });

  it('uses a fresh IV per write: the same token sealed twice differs', async () => {
    const inner = memoryStorage();
    const storage = sealedStorage(inner, { keys: [KEY_A] });
    await storage.set('k', minimalRecord(1));
    const first = (await inner.get('k'))!.accessToken;
    await storage.set('k', minimalRecord(1));
    expect((await inner.get('k'))!.accessToken).not.toBe(first);
  });

  it('passes locks, the change feed, keys and close through, and adds none the store lacks', async () => {
    const bare: TokenStorage = { get: async () => undefined, set: async () => {}, delete: async () => {} };
    const wrappedBare = sealedStorage(bare, { keys: [KEY_A] });
    expect([wrappedBare.lock, wrappedBare.subscribe, wrappedBare.keys, wrappedBare.close]).toEqual([undefined, undefined, undefined, undefined]);

    const inner = memoryStorage();
    const storage = sealedStorage(inner, { keys: [KEY_A] });
    const heard: string[] = [];
    storage.subscribe!((key) => heard.push(key));
    await storage.set('k', minimalRecord(1));
    expect(heard).toEqual(['k']);
    expect(await storage.keys!()).toEqual(['k']);
    const lock = (await storage.lock!('k', 1000))!;
    expect(await inner.lock('k', 1000)).toBeNull();
    await expect(storage.set('k', minimalRecord(2), { expectedVersion: 1, fence: lock.fence })).resolves.toBeUndefined();
    await expect(storage.set('k', minimalRecord(3), { expectedVersion: 1 })).rejects.toMatchObject({ code: 'storage_conflict' });
  });
});

describe('sealedStorage: keys and rotation', () => {
  it('keys[0] seals writes, every listed key opens reads', async () => {
    const inner = memoryStorage();
    await sealedStorage(inner, { keys: [KEY_A] }).set('old', minimalRecord(1));
    const rotated = sealedStorage(inner, { keys: [KEY_B, KEY_A] });
    expect(await rotated.get('old')).toStrictEqual(minimalRecord(1));
    await rotated.set('new', minimalRecord(1));
    expect((await inner.get('new'))!.accessToken).toMatch(/^sealed:v1:b-2027:/);
    // Re-written records move to the new key; then the old key can go.
    await rotated.set('old', minimalRecord(2), { expectedVersion: 1 });
    expect(await sealedStorage(inner, { keys: [KEY_B] }).get('old')).toStrictEqual(minimalRecord(2));
  });

  it('a record sealed with a key that is not listed is storage_sealed, and stays exactly as stored', async () => {
    const inner = memoryStorage();
    await sealedStorage(inner, { keys: [KEY_B] }).set('k', fullRecord(1));
    const before = await inner.get('k');
    const error = await lifecycleRejection(sealedStorage(inner, { keys: [KEY_A] }).get('k'));
    expect(error).toBeInstanceOf(StorageSealedError);
    expect(error).toMatchObject({ code: 'storage_sealed', key: 'k', retryable: false });
    expect(error.message).toContain('b-2027');
    expect(await inner.get('k')).toStrictEqual(before);
  });

  it('the right id with other key material, or an altered value, is storage_sealed', async () => {
    const inner = memoryStorage();
    await sealedStorage(inner, { keys: [KEY_A] }).set('k', minimalRecord(1));
    const impostor = sealedStorage(inner, { keys: [{ id: 'a-2026', secret: secretB }] });
    expect(await lifecycleRejection(impostor.get('k'))).toMatchObject({ code: 'storage_sealed' });

    const storage = sealedStorage(inner, { keys: [KEY_A] });
    const raw = (await inner.get('k'))!;
    // The second-to-last character changed (to another letter than it was: random bytes may hold an 'A').
    const at = raw.accessToken.length - 2;
    const flipped = raw.accessToken.slice(0, at) + (raw.accessToken[at] === 'A' ? 'B' : 'A') + raw.accessToken.slice(at + 1);
    expect(flipped).not.toBe(raw.accessToken);
    await inner.set('k', { ...raw, accessToken: flipped });
    expect(await lifecycleRejection(storage.get('k'))).toMatchObject({ code: 'storage_sealed' });
    await inner.set('k', { ...raw, accessToken: 'sealed:v1:a-2026:not-base64!:x' });
    expect(await lifecycleRejection(storage.get('k'))).toMatchObject({ code: 'storage_sealed' });
  });

  it('a sealed value moved to another key or field does not open (bound by additional data)', async () => {
    const inner = memoryStorage();
    const storage = sealedStorage(inner, { keys: [KEY_A] });
    await storage.set('alice', { ...minimalRecord(1), refreshToken: 'rt-alice' });
    const alice = (await inner.get('alice'))!;
    await inner.set('mallory', alice);
    expect(await lifecycleRejection(storage.get('mallory'))).toMatchObject({ code: 'storage_sealed', key: 'mallory' });
    await inner.set('alice', { ...alice, accessToken: alice.refreshToken! });
    expect(await lifecycleRejection(storage.get('alice'))).toMatchObject({ code: 'storage_sealed' });
  });

  it('an unsealed record is storage_sealed unless acceptUnsealed, which reads it and seals the next write', async () => {
    const inner = memoryStorage();
    await inner.set('k', minimalRecord(1));
    expect(await lifecycleRejection(sealedStorage(inner, { keys: [KEY_A] }).get('k'))).toMatchObject({ code: 'storage_sealed' });
    const migrating = sealedStorage(inner, { keys: [KEY_A], acceptUnsealed: true });
    expect(await migrating.get('k')).toStrictEqual(minimalRecord(1));
    await migrating.set('k', minimalRecord(2), { expectedVersion: 1 });
    expect((await inner.get('k'))!.accessToken).toMatch(/^sealed:v1:a-2026:/);
  });

  it('no error message names a token value', async () => {
    const inner = memoryStorage();
    const record: TokenRecord = { ...minimalRecord(1), accessToken: 'AT-VERY-SECRET', refreshToken: 'RT-VERY-SECRET' };
    await sealedStorage(inner, { keys: [KEY_B] }).set('k', record);
    const errors = [
      await lifecycleRejection(sealedStorage(inner, { keys: [KEY_A] }).get('k')),
      await lifecycleRejection(sealedStorage(inner, { keys: [{ id: 'b-2027', secret: secretA }] }).get('k')),
    ];
    await inner.set('plain', record);
    errors.push(await lifecycleRejection(sealedStorage(inner, { keys: [KEY_A] }).get('plain')));
    for (const error of errors) expect(JSON.stringify({ m: error.message, c: String(error.cause ?? '') })).not.toMatch(/VERY-SECRET/);
  });
});

describe('sealedStorage: configuration', () => {
  const memory = memoryStorage();
  const bad = (keys: unknown) => () => sealedStorage(memory, { keys: keys as never });

  it('accepts a 32-byte Uint8Array and its base64 or base64url text', async () => {
    const text = base64Of(secretB);
    const urlSafe = text.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    for (const secret of [secretB, text, urlSafe]) {
      const storage = sealedStorage(memory, { keys: [{ id: 'b', secret }] });
      await storage.set('k', minimalRecord(1));
      expect(await sealedStorage(memory, { keys: [{ id: 'b', secret: secretB }] }).get('k')).toStrictEqual(minimalRecord(1));
    }
  });

  it('refuses missing keys, short or long secrets, bad or duplicate ids with invalid_config, never quoting a secret', () => {
    const cases = [
      undefined,
      [],
      [{ id: 'a', secret: new Uint8Array(16) }],
      [{ id: 'a', secret: new Uint8Array(33) }],
      [{ id: 'a', secret: 'c2hvcnQtc2VjcmV0LXRleHQ=' }],
      [{ id: 'a', secret: 'not base64 at all!' }],
      [{ id: 'a', secret: 42 }],
      [{ id: 'has:colon', secret: secretA }],
      [{ id: '', secret: secretA }],
      [KEY_A, { ...KEY_B, id: KEY_A.id }],
    ];
    for (const keys of cases) {
      expect(bad(keys), JSON.stringify(keys)).toThrow(expect.objectContaining({ code: 'invalid_config' }));
    }
    try {
      bad([{ id: 'a', secret: 'c2hvcnQtc2VjcmV0LXRleHQ=' }])();
    } catch (error) {
      expect((error as Error).message).not.toContain('c2hvcnQtc2VjcmV0LXRleHQ');
    }
  });

  it('keeps its own copy of the key material', async () => {
    const secret = Uint8Array.from(secretA);
    const storage = sealedStorage(memory, { keys: [{ id: 'copy', secret }] });
    secret.fill(0);
    await storage.set('copied', minimalRecord(1));
    expect(await sealedStorage(memory, { keys: [{ id: 'copy', secret: secretA }] }).get('copied')).toStrictEqual(minimalRecord(1));
  });

  it('imports no Node built-in: WebCrypto only (R16)', () => {
    const dir = new URL('../../../machines/sealed/', import.meta.url).pathname;
    for (const file of readdirSync(dir)) {
      const source = readFileSync(join(dir, file), 'utf8');
      expect(source, file).not.toMatch(/from\s+['"](node:|crypto['"]|fs['"]|buffer['"])/);
      expect(source, file).not.toMatch(/\bBuffer\./);
    }
  });
});

describe('sealedStorage under a manager', () => {
  it('setToken, getToken, status and a refresh work unchanged; the store holds only sealed tokens', async () => {
    const inner = memoryStorage();
    let n = 0;
    const endpoint = { refresh: async () => ({ access_token: `at-${++n}`, token_type: 'Bearer', expires_in: 3600, refresh_token: `rt-${n}` }) };
    const tokens = createTokenManager({ endpoint, storage: sealedStorage(inner, { keys: [KEY_A] }), backgroundRefresh: false });
    try {
      await tokens.setToken('alice', { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' });
      expect((await tokens.getToken('alice')).accessToken).toBe('at-0');
      expect((await tokens.refresh('alice')).refreshToken).toBe('rt-1');
      expect(tokens.status('alice')).toMatchObject({ state: 'valid', hasRefreshToken: true });
      const stored = (await inner.get('alice'))!;
      expect(JSON.stringify(stored)).not.toMatch(/at-[01]|rt-[01]/);
      // The refresh wrote its marker and then its result: versions grow in the clear.
      expect(stored.version).toBeGreaterThanOrEqual(2);
      expect(stored.expiresAt).toBe(tokens.status('alice').expiresAt);
    } finally {
      await tokens.stop();
    }
  });
});
