import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileStorage, type FileStorageOptions } from '../../../adapters/storage/file/index.js';
import { keyLockPath } from '../../../adapters/storage/file/key-lock.js';
import type { TokenRecord } from '../../../machines/lifecycle/types.js';
import { describeStorageContract } from '../../support/storage-contract.js';
import { fileStoreFixture } from '../../support/file-store-fixture.js';
import { lifecycleRejection } from '../../support/rejection.js';

const SECRET = 'at-SECRET-value-never-in-messages';
const isRoot = process.getuid?.() === 0;

function record(version: number, overrides: Partial<TokenRecord> = {}): TokenRecord {
  return {
    accessToken: `${SECRET}-${version}`,
    tokenType: 'Bearer',
    expiresAt: 1_700_000_360_000,
    obtainedAt: 1_700_000_000_000,
    refreshToken: `rt-SECRET-${version}`,
    version,
    ...overrides,
  };
}


let dir: string;
let file: string;
const opened: Array<{ close(): Promise<void> }> = [];

function open(options: Partial<FileStorageOptions> = {}) {
  const storage = fileStorage({ path: file, ...options });
  opened.push(storage);
  return storage;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tl-file-'));
  file = join(dir, 'tokens.json');
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((storage) => storage.close()));
  await chmod(dir, 0o700).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describeStorageContract(
  'fileStorage',
  () => fileStoreFixture('tl-file-contract-', (path, now) => fileStorage({ path, now, pollInterval: 50 })),
  { keys: true, locks: true, fencing: true, subscribe: true },
);

describe('fileStorage: records', () => {
  it('treats a missing file as an empty store and creates nothing when reading', async () => {
    const storage = fileStorage({ path: join(dir, 'sub', 'tokens.json') });
    expect(await storage.get('default')).toBeUndefined();
    expect(await storage.keys()).toEqual([]);
    await storage.delete('default');
    expect(await readdir(dir)).toEqual([]);
  });

  it('stores records by key in one JSON document and reads them back', async () => {
    const storage = open();
    await storage.set('a', record(1));
    await storage.set('b', record(1, { scope: 'read', rejection: 'invalid_grant', retryAt: 5 }));
    expect(await storage.get('a')).toEqual(record(1));
    expect(await storage.get('b')).toEqual(record(1, { scope: 'read', rejection: 'invalid_grant', retryAt: 5 }));
    expect(await storage.keys()).toEqual(['a', 'b']);
    const doc = JSON.parse(await readFile(file, 'utf8'));
    expect(doc).toEqual({ version: 1, credentials: { a: record(1), b: record(1, { scope: 'read', rejection: 'invalid_grant', retryAt: 5 }) } });
  });

  it('copies records in and out', async () => {
    const storage = open();
    const input = record(1);
    await storage.set('a', input);
    input.accessToken = 'mutated';
    const output = await storage.get('a');
    output!.accessToken = 'mutated too';
    expect((await storage.get('a'))?.accessToken).toBe(`${SECRET}-1`);
  });

  it('drops undefined optional fields instead of writing nulls', async () => {
    const storage = open();
    await storage.set('a', record(1, { expiresAt: undefined, refreshToken: undefined }));
    expect(await storage.get('a')).toEqual({ accessToken: `${SECRET}-1`, tokenType: 'Bearer', obtainedAt: 1_700_000_000_000, version: 1 });
    expect(await readFile(file, 'utf8')).not.toContain('null');
  });

  it('deletes one key and keeps the others', async () => {
    const storage = open();
    await storage.set('a', record(1));
    await storage.set('b', record(1));
    await storage.delete('a');
    expect(await storage.get('a')).toBeUndefined();
    expect(await storage.keys()).toEqual(['b']);
  });

  it('keeps keys such as __proto__ and constructor as plain data', async () => {
    const storage = open();
    await storage.set('__proto__', record(1));
    await storage.set('constructor', record(2));
    expect(await open().keys()).toEqual(['__proto__', 'constructor']);
    expect((await open().get('__proto__'))?.version).toBe(1);
    expect(await storage.get('toString')).toBeUndefined();
  });

  it('keeps fields and members it does not know when rewriting another key', async () => {
    const extra = { version: 1, note: 'kept', credentials: { old: { ...record(3), futureField: { x: 1 } } } };
    await writeFile(file, JSON.stringify(extra));
    await open().set('new', record(1));
    const doc = JSON.parse(await readFile(file, 'utf8'));
    expect(doc.note).toBe('kept');
    expect(doc.credentials.old.futureField).toEqual({ x: 1 });
    expect(await open().get('old')).toMatchObject({ futureField: { x: 1 } });
  });

  it('sees another instance\'s write, also an in-place edit that restores the mtime', async () => {
    const a = open();
    const b = open();
    await a.set('k', record(1));
    expect((await a.get('k'))?.version).toBe(1);
    await b.set('k', record(2));
    expect((await a.get('k'))?.version).toBe(2);
    // Make the cache trust the file (old mtime), then edit it in place to the same size and restore the mtime.
    const old = new Date(Date.now() - 60_000);
    await utimes(file, old, old);
    expect((await a.get('k'))?.version).toBe(2);
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('"version": 2', '"version": 3'));
    await utimes(file, old, old);
    expect((await a.get('k'))?.version).toBe(3);
  });

  it('treats a zero-byte file as an empty store', async () => {
    await writeFile(file, '');
    const storage = open();
    expect(await storage.keys()).toEqual([]);
    await storage.set('a', record(1));
    expect(await storage.get('a')).toEqual(record(1));
  });

  it('refuses to store a record it could not read back (storage_corrupt, as redisStorage), file unchanged', async () => {
    const storage = open();
    await storage.set('a', record(1));
    const before = await readFile(file);
    for (const bad of [record(2, { expiresAt: Number.NaN }), record(2, { version: 1.5 }), { ...record(2), tokenType: 7 } as unknown as TokenRecord]) {
      const error = await lifecycleRejection(storage.set('a', bad));
      expect(error.code).toBe('storage_corrupt');
      expect(error.retryable).toBe(false);
      expect(error.message).not.toContain(SECRET);
    }
    expect((await readFile(file)).equals(before)).toBe(true);
  });

  it('rejects a missing or empty path with invalid_config', () => {
    expect(() => fileStorage({ path: '' })).toThrowError(expect.objectContaining({ code: 'invalid_config' }));
    expect(() => fileStorage({} as FileStorageOptions)).toThrowError(expect.objectContaining({ code: 'invalid_config' }));
    expect(() => fileStorage({ path: file, pollInterval: 'soon' })).toThrowError(expect.objectContaining({ code: 'invalid_config' }));
  });
});

describe('fileStorage: versions and fences', () => {
  it('expectedVersion 0 means the key must not exist yet', async () => {
    const storage = open();
    await storage.set('a', record(1), { expectedVersion: 0 });
    const error = await lifecycleRejection(storage.set('a', record(1), { expectedVersion: 0 }));
    expect(error.code).toBe('storage_conflict');
    expect(error.key).toBe('a');
  });

  it('refuses a write whose expected version differs, leaving the file unchanged', async () => {
    const storage = open();
    await storage.set('a', record(1));
    await storage.set('a', record(2), { expectedVersion: 1 });
    const before = await readFile(file);
    const error = await lifecycleRejection(storage.set('a', record(3), { expectedVersion: 1 }));
    expect(error.code).toBe('storage_conflict');
    expect(error.message).not.toContain(SECRET);
    expect((await readFile(file)).equals(before)).toBe(true);
    await storage.set('a', record(3), { expectedVersion: 2 });
    expect((await storage.get('a'))?.version).toBe(3);
  });

  it('refuses a write fenced by a lock older than the newest lock on the key', async () => {
    let now = 1_000;
    const storage = open({ now: () => now });
    const first = await storage.lock('a', 100);
    now += 200; // first expired
    const second = await storage.lock('a', 100);
    expect(second!.fence).toBeGreaterThan(first!.fence);
    const error = await lifecycleRejection(storage.set('a', record(1), { fence: first!.fence }));
    expect(error.code).toBe('storage_conflict');
    expect(await storage.get('a')).toBeUndefined();
    await storage.set('a', record(1), { fence: second!.fence });
    expect((await storage.get('a'))?.version).toBe(1);
  });
});

describe('fileStorage: files, modes, atomicity', () => {
  it('writes the file with mode 0600 and creates missing directories with 0700', async () => {
    const nested = join(dir, 'a', 'b', 'tokens.json');
    await fileStorage({ path: nested }).set('k', record(1));
    expect((await stat(nested)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'a', 'b'))).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'a'))).mode & 0o777).toBe(0o700);
  });

  it('does not change the mode of an existing directory, and replaces a 0644 file with a 0600 one', async () => {
    await chmod(dir, 0o755);
    await writeFile(file, JSON.stringify({ version: 1, credentials: {} }), { mode: 0o644 });
    await chmod(file, 0o644);
    await open().set('k', record(1));
    expect((await stat(dir)).mode & 0o777).toBe(0o755);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('leaves no temp files behind after many writes, and removes those a killed writer left', async () => {
    const leftover = join(dir, '.tokens.json.0123456789abcdef.tmp');
    const leftoverLock = join(dir, `.tokens.json.${'a'.repeat(32)}.lock.0123456789abcdef.tmp`);
    const unrelated = join(dir, '.other.json.0123456789abcdef.tmp');
    await Promise.all([leftover, leftoverLock, unrelated].map((name) => writeFile(name, 'x')));
    const storage = open();
    await Promise.all(Array.from({ length: 20 }, (_, i) => storage.set(`k${i % 4}`, record(i))));
    const lock = await storage.lock('k0', 1_000);
    await lock!.release();
    const names = (await readdir(dir)).sort();
    expect(names).toEqual(['.other.json.0123456789abcdef.tmp', 'tokens.json', `tokens.json.${keyLockPath(file, 'k0').split('.json.')[1]}`].sort());
  });

  it('keeps every key when instances in one process write different keys at once', async () => {
    const stores = Array.from({ length: 5 }, () => open());
    await Promise.all(stores.flatMap((storage, s) => Array.from({ length: 8 }, (_, i) => storage.set(`s${s}-k${i}`, record(i + 1)))));
    expect((await open().keys()).sort()).toHaveLength(40);
  });

  it('fails with storage_failed when the directory cannot be created (path under a regular file)', async () => {
    // Works as root too: no permission bits involved.
    await writeFile(join(dir, 'plain'), 'x');
    const storage = fileStorage({ path: join(dir, 'plain', 'tokens.json') });
    const error = await lifecycleRejection(storage.set('k', record(1)));
    expect(error.code).toBe('storage_failed');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain(join(dir, 'plain', 'tokens.json'));
    expect((await lifecycleRejection(storage.get('k'))).code).toBe('storage_failed');
  });

  it.skipIf(isRoot)('fails with storage_failed when the directory is read-only', async () => {
    const storage = open();
    await storage.set('k', record(1));
    const before = await readFile(file);
    await chmod(dir, 0o500);
    const error = await lifecycleRejection(storage.set('k', record(2)));
    expect(error.code).toBe('storage_failed');
    await chmod(dir, 0o700);
    expect((await readFile(file)).equals(before)).toBe(true);
  });

  it('fails with storage_failed when the path is a directory', async () => {
    await mkdir(file);
    expect((await lifecycleRejection(open().get('k'))).code).toBe('storage_failed');
    expect((await lifecycleRejection(open().set('k', record(1)))).code).toBe('storage_failed');
  });
});

describe('fileStorage: corrupt files stay exactly as they are', () => {
  const corruptContents: Array<[string, string | Buffer]> = [
    ['invalid JSON', `{"version":1,"credentials":{"a":{"accessToken":"${SECRET}"`],
    ['a JSON array', '[]'],
    ['JSON null', 'null'],
    ['whitespace only', ' \n'],
    ['a newer format version', JSON.stringify({ version: 2, credentials: {} })],
    ['no version', JSON.stringify({ credentials: {} })],
    ['no credentials object', JSON.stringify({ version: 1, credentials: [] })],
    ['a record that is not an object', JSON.stringify({ version: 1, credentials: { a: SECRET } })],
    ['a record with a string expiresAt', JSON.stringify({ version: 1, credentials: { a: { ...record(1), expiresAt: 'soon' } } })],
    ['a record without accessToken', JSON.stringify({ version: 1, credentials: { a: { tokenType: 'Bearer', obtainedAt: 1, version: 1 } } })],
    ['a record with a numeric refreshToken', JSON.stringify({ version: 1, credentials: { a: { ...record(1), refreshToken: 5 } } })],
    ['a record with a negative version', JSON.stringify({ version: 1, credentials: { a: record(-1) } })],
    ['invalid UTF-8', Buffer.concat([Buffer.from(`{"version":1,"credentials":{"a":{"accessToken":"`), Buffer.from([0xff, 0xfe]), Buffer.from('"}}}')])],
  ];

  it.each(corruptContents)('%s: storage_corrupt on get, keys, set, delete; bytes unchanged', async (_name, content) => {
    await writeFile(file, content);
    const before = await readFile(file);
    const storage = open();
    const attempts = [() => storage.get('a'), () => storage.keys(), () => storage.set('b', record(1)), () => storage.set('a', record(9)), () => storage.delete('a')];
    for (const attempt of attempts) {
      const error = await lifecycleRejection(attempt());
      expect(error.code).toBe('storage_corrupt');
      expect(error.retryable).toBe(false);
      expect(error.message).toContain(file);
      expect(error.message).not.toContain(SECRET);
      expect(error.cause).toBeUndefined(); // V8's JSON.parse messages quote the input
    }
    expect((await readFile(file)).equals(before)).toBe(true);
    expect(await readdir(dir)).toEqual(['tokens.json']);
  });

  it('works again once the file is repaired', async () => {
    await writeFile(file, '{');
    const storage = open();
    expect((await lifecycleRejection(storage.get('a'))).code).toBe('storage_corrupt');
    await writeFile(file, JSON.stringify({ version: 1, credentials: { a: record(1) } }));
    expect(await storage.get('a')).toEqual(record(1));
  });
});

describe('fileStorage: store lock', () => {
  it('takes over a store lock left by a dead process (stale mtime)', async () => {
    await mkdir(`${file}.lock`);
    const old = new Date(Date.now() - 60_000);
    await utimes(`${file}.lock`, old, old);
    await open({ storeLockTimeout: 1_000 }).set('k', record(1));
    expect((await open().get('k'))?.version).toBe(1);
  });

  it('fails with storage_failed when a live lock is held longer than storeLockTimeout', async () => {
    await mkdir(`${file}.lock`); // fresh mtime: a live holder
    const error = await lifecycleRejection(open({ storeLockTimeout: 50 }).set('k', record(1)));
    expect(error.code).toBe('storage_failed');
    expect(error.message).toContain(file);
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('fileStorage: key locks', () => {
  it('gives one holder at a time, null to others, and a growing fence', async () => {
    const a = open();
    const b = open();
    const first = await a.lock('k', 10_000);
    expect(first).not.toBeNull();
    expect(await b.lock('k', 10_000)).toBeNull();
    expect(await a.lock('k', 10_000)).toBeNull();
    expect(await b.lock('other', 10_000)).not.toBeNull();
    await first!.release();
    const second = await b.lock('k', 10_000);
    expect(second!.fence).toBeGreaterThan(first!.fence);
    await second!.release();
    // The fence survives across instances: it lives in the key's lock file.
    const third = await open().lock('k', 10_000);
    expect(third!.fence).toBeGreaterThan(second!.fence);
  });

  it('lets another take an expired lock; the old holder can neither extend nor release it', async () => {
    let now = 1_000;
    const a = open({ now: () => now });
    const b = open({ now: () => now });
    const old = await a.lock('k', 100);
    now += 99;
    expect(await b.lock('k', 100)).toBeNull();
    now += 1; // expiry instant: free
    const taken = await b.lock('k', 100);
    expect(taken).not.toBeNull();
    expect(await old!.extend(1_000)).toBe(false);
    await old!.release();
    expect(await a.lock('k', 100)).toBeNull(); // b still holds it
    expect(await taken!.extend(500)).toBe(true);
    now += 400;
    expect(await a.lock('k', 100)).toBeNull(); // extended
    now += 100;
    expect(await taken!.extend(500)).toBe(false); // expired: lost
  });

  it('release is idempotent and frees the key', async () => {
    const storage = open();
    const lock = await storage.lock('k', 1_000);
    await lock!.release();
    await lock!.release();
    expect(await lock!.extend(1_000)).toBe(false);
    expect(await storage.lock('k', 1_000)).not.toBeNull();
  });

  it('recovers from a garbled lock file', async () => {
    const storage = open();
    await storage.set('k', record(1));
    await writeFile(keyLockPath(file, 'k'), 'garbage');
    expect(await storage.lock('k', 1_000)).not.toBeNull();
  });

  it('rejects a TTL that is not a positive finite number', async () => {
    const storage = open();
    for (const ttl of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect((await lifecycleRejection(storage.lock('k', ttl))).code).toBe('invalid_config');
    }
  });
});

describe('fileStorage: subscribe', () => {
  function nextKey(storage: ReturnType<typeof open>): { keys: string[]; next: () => Promise<string>; off: () => void } {
    const keys: string[] = [];
    const waiters: Array<(key: string) => void> = [];
    const off = storage.subscribe((key) => {
      keys.push(key);
      waiters.shift()?.(key);
    });
    return { keys, off, next: () => new Promise<string>((resolve) => waiters.push(resolve)) };
  }

  it.each([
    ['fs.watch', { watch: true, pollInterval: 60_000 }],
    ['polling', { watch: false, pollInterval: 10 }],
  ])('reports keys another instance changed or deleted (%s), not its own writes', async (_name, options) => {
    const mine = open(options);
    const other = open();
    await mine.set('own', record(1));
    const feed = nextKey(mine);
    await mine.set('own', record(2));
    let next = feed.next();
    await other.set('theirs', record(1));
    expect(await next).toBe('theirs');
    next = feed.next();
    await other.delete('theirs');
    expect(await next).toBe('theirs');
    expect(feed.keys).toEqual(['theirs', 'theirs']);
    feed.off();
  });

  it('stops reporting after unsubscribe and after close, and survives a throwing listener', async () => {
    const mine = open({ watch: false, pollInterval: 10 });
    const other = open();
    const seen: string[] = [];
    mine.subscribe(() => {
      throw new Error('listener failure');
    });
    const off = mine.subscribe((key) => seen.push(key));
    const feed = nextKey(mine);
    let next = feed.next();
    await other.set('a', record(1));
    expect(await next).toBe('a');
    off();
    next = feed.next();
    await other.set('b', record(1));
    expect(await next).toBe('b');
    expect(seen).toEqual(['a']);
    await mine.close();
    // A second observer polling at the same rate sees two more changes; the closed one sees none.
    const observer = nextKey(open({ watch: false, pollInterval: 10 }));
    for (const key of ['c', 'd']) {
      next = observer.next();
      await other.set(key, record(1));
      expect(await next).toBe(key);
    }
    expect(feed.keys).toEqual(['a', 'b']);
  });
});
