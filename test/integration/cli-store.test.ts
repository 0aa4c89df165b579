/**
 * The CLI over one file store shared by processes: eight `token get` started at once inside the
 * refresh window make one refresh (R7) and agree on the token; a corrupt store fails clearly and is
 * left byte for byte as it was; `token set` validates its stdin (R12); `token status` shows the state
 * the manager derives, with no token value and no request.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { redisStorage } from '../../adapters/storage/redis/index.js';
import type { TokenRecord } from '../../machines/lifecycle/types.js';
import { cliSuite } from '../support/cli-suite.js';
import { HOUR, MINUTE, readRecord, storeRecord, totalRequests } from '../support/cli-runner.js';

const suite = cliSuite();
const { secrets, newStore, serverEnv, mint } = suite;

async function seed(path: string, times: { expiresIn: number; age: number }, extra: Partial<TokenRecord> = {}): Promise<TokenRecord> {
  const now = Date.now();
  const record: TokenRecord = {
    accessToken: `at-${suite.stores}-${now}`,
    tokenType: 'Bearer',
    obtainedAt: now - times.age,
    expiresAt: now + times.expiresIn,
    version: 1,
    ...extra,
  };
  secrets.add(record.accessToken);
  if (record.refreshToken) secrets.add(record.refreshToken);
  await storeRecord(path, record);
  return record;
}


describe('eight processes at once inside the window (R7)', () => {
  it('make exactly one refresh request, all print the same valid token, and the stored refresh token is accepted next', async () => {
    const path = newStore();
    const refreshToken = await mint();
    const old = await seed(path, { expiresIn: 2 * MINUTE, age: 58 * MINUTE }, { refreshToken });
    suite.server.counts.reset();
    const results = await Promise.all(Array.from({ length: 8 }, () => suite.cli.run(['token', 'get'], { env: serverEnv(path) })));

    for (const result of results) {
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('');
    }
    const printed = new Set(results.map((r) => r.stdout));
    expect(printed.size).toBe(1);
    const token = results[0]?.stdout.trim() as string;
    secrets.add(token);
    expect(token).not.toBe(old.accessToken);
    expect(suite.server.counts.tokenByGrant.refresh_token ?? 0).toBe(1);
    expect(await suite.server.provider.AccessToken.find(token)).toBeDefined();

    const stored = (await readRecord(path)) as TokenRecord;
    secrets.add(stored.refreshToken as string);
    expect(stored.accessToken).toBe(token);
    expect(stored.refreshToken).not.toBe(refreshToken);
    // Reuse of a rotated token would revoke the whole grant: the next refresh succeeding proves the
    // stored refresh token is the newest one.
    const next = await suite.cli.run(['token', 'refresh'], { env: serverEnv(path) });
    expect(next.code).toBe(0);
    expect(suite.server.counts.tokenByGrant.refresh_token ?? 0).toBe(2);
    const after = (await readRecord(path)) as TokenRecord;
    secrets.add(after.accessToken);
    expect(await suite.server.provider.AccessToken.find(after.accessToken)).toBeDefined();
  });
});

describe('a corrupt store file', () => {
  const CORRUPT: Record<string, string> = {
    'truncated JSON': '{"version":1,"credentials":{"default":{"accessToken":"SECRET-IN-CORRUPT-FILE","tokenType":',
    'another format version': JSON.stringify({ version: 2, credentials: {} }),
    'a mistyped field': JSON.stringify({ version: 1, credentials: { default: { accessToken: 'SECRET-IN-CORRUPT-FILE', tokenType: 'Bearer', obtainedAt: 'yesterday', version: 1 } } }),
  };
  secrets.add('SECRET-IN-CORRUPT-FILE');

  for (const [what, content] of Object.entries(CORRUPT)) {
    it(`(${what}): token get fails clearly (exit 5) and the file's bytes are unchanged`, async () => {
      const path = newStore();
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content, { mode: 0o600 });
      const before = await stat(path);
      suite.server.counts.reset();
      const result = await suite.cli.run(['token', 'get'], { env: serverEnv(path) });
      expect(result.code).toBe(5);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`error: storage_corrupt: The token store ${path} `);
      expect(result.stderr).toContain('hint: the store was left untouched');
      expect(result.stderr).not.toContain('SECRET-IN-CORRUPT-FILE');
      expect(await readFile(path, 'utf8')).toBe(content);
      expect((await stat(path)).mtimeMs).toBe(before.mtimeMs);
      expect(totalRequests(suite.server.counts)).toBe(0);
    });
  }

  it('every other command refuses it too (exit 5) and leaves it as it was', async () => {
    const path = newStore();
    await mkdir(dirname(path), { recursive: true });
    const content = CORRUPT['truncated JSON'] as string;
    await writeFile(path, content, { mode: 0o600 });
    const env = serverEnv(path);
    const runs = [
      await suite.cli.run(['token', 'set'], { env, stdin: JSON.stringify({ access_token: 'new-at', token_type: 'Bearer', expires_in: 60 }) }),
      await suite.cli.run(['token', 'status'], { env }),
      await suite.cli.run(['token', 'refresh'], { env }),
      await suite.cli.run(['token', 'delete'], { env }),
      await suite.cli.run(['token', 'delete', '--no-revoke'], { env }),
    ];
    secrets.add('new-at');
    for (const run of runs) {
      expect(run.code).toBe(5);
      expect(run.stderr).toContain('storage_corrupt');
    }
    expect(await readFile(path, 'utf8')).toBe(content);
  });
});

describe('token set', () => {
  it('stores a token response from stdin; token get then serves it offline', async () => {
    const path = newStore();
    const refreshToken = await mint();
    const response = { access_token: 'set-at-1', token_type: 'Bearer', expires_in: 3600, refresh_token: refreshToken, scope: 'openid offline_access' };
    secrets.add('set-at-1');
    const before = Date.now();
    const result = await suite.cli.run(['token', 'set'], { env: { TOKEN_STORE_PATH: path }, stdin: JSON.stringify(response) });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^stored the token for key "default" in file ${path}: expires .*, refresh token: yes\\n$`));
    expect(result.stdout).not.toContain('set-at-1');
    expect(result.stdout).not.toContain(refreshToken);
    const stored = (await readRecord(path)) as TokenRecord;
    expect(stored).toMatchObject({ accessToken: 'set-at-1', tokenType: 'Bearer', refreshToken, scope: 'openid offline_access' });
    expect(stored.expiresAt).toBeGreaterThanOrEqual(before + 3600_000);
    expect(((await stat(path)).mode & 0o777).toString(8)).toBe('600');

    suite.server.counts.reset();
    const got = await suite.cli.run(['token', 'get'], { env: serverEnv(path) });
    expect(got).toEqual({ code: 0, stdout: 'set-at-1\n', stderr: '' });
    expect(totalRequests(suite.server.counts)).toBe(0);
  });

  it('accepts a TokenSet (camelCase) and a --key', async () => {
    const path = newStore();
    const expiresAt = Date.now() + HOUR;
    const result = await suite.cli.run(['token', 'set', '--key', 'api'], { env: { TOKEN_STORE_PATH: path }, stdin: JSON.stringify({ accessToken: 'set-at-2', tokenType: 'Bearer', expiresAt }) });
    secrets.add('set-at-2');
    expect(result.code).toBe(0);
    expect(await readRecord(path, 'api')).toMatchObject({ accessToken: 'set-at-2', expiresAt });
  });

  const INVALID: Record<string, string> = {
    'not JSON (the input is not echoed)': 'access_token=SECRET-NOT-JSON',
    'no token_type': JSON.stringify({ access_token: 'SECRET-NO-TYPE', expires_in: 60 }),
    'a negative expires_in': JSON.stringify({ access_token: 'SECRET-NEGATIVE', token_type: 'Bearer', expires_in: -1 }),
    'an empty access_token': JSON.stringify({ access_token: '', token_type: 'Bearer' }),
    'empty stdin': '',
  };
  for (const value of ['SECRET-NOT-JSON', 'SECRET-NO-TYPE', 'SECRET-NEGATIVE']) secrets.add(value);

  for (const [what, stdin] of Object.entries(INVALID)) {
    it(`refuses ${what} with the usage exit code (2) and stores nothing (R12)`, async () => {
      const path = newStore();
      const result = await suite.cli.run(['token', 'set'], { env: { TOKEN_STORE_PATH: path }, stdin });
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('error: invalid_token_response: ');
      expect(result.stderr).not.toMatch(/SECRET-/);
      await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
    });
  }
});

describe('token status', () => {
  async function status(path: string, args: string[] = []) {
    suite.server.counts.reset();
    const result = await suite.cli.run(['token', 'status', ...args], { env: serverEnv(path) });
    expect(totalRequests(suite.server.counts)).toBe(0);
    expect(result.stderr).toBe('');
    return result;
  }

  it('shows state, expiry, refresh moment and whether a refresh token exists, never a token value', async () => {
    const path = newStore();
    const record = await seed(path, { expiresIn: HOUR, age: 0 }, { refreshToken: 'status-rt' });
    secrets.add('status-rt');
    const text = await status(path);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^key: +default\n/m);
    expect(text.stdout).toMatch(/^state: +valid$/m);
    expect(text.stdout).toMatch(/^refresh token: +yes$/m);
    expect(text.stdout).toContain(new Date(record.expiresAt as number).toISOString());
    const json = await status(path, ['--json']);
    expect(JSON.parse(json.stdout)).toEqual({
      key: 'default',
      store: `file ${path}`,
      stored: true,
      state: 'valid',
      detail: null,
      expires_at: new Date(record.expiresAt as number).toISOString(),
      expired: false,
      refresh_at: new Date((record.expiresAt as number) - 5 * MINUTE).toISOString(),
      needs_refresh: false,
      has_refresh_token: true,
      retry_at: null,
      reason: null,
      last_error: null,
    });
    for (const output of [text.stdout, json.stdout]) {
      expect(output).not.toContain(record.accessToken);
      expect(output).not.toContain('status-rt');
    }
  });

  it('derives nearExpiry, degraded and reauthRequired from the stored record and the clock, with no request (R14)', async () => {
    const near = newStore();
    await seed(near, { expiresIn: 2 * MINUTE, age: 58 * MINUTE }, { refreshToken: 'status-rt' });
    expect(JSON.parse((await status(near, ['--json'])).stdout)).toMatchObject({ state: 'nearExpiry', needs_refresh: true });

    const retrying = newStore();
    const retryAt = Date.now() + 10 * MINUTE;
    await seed(retrying, { expiresIn: 2 * MINUTE, age: 58 * MINUTE }, { refreshToken: 'status-rt', retryAt });
    expect(JSON.parse((await status(retrying, ['--json'])).stdout)).toMatchObject({ state: 'degraded', detail: 'retrying', retry_at: new Date(retryAt).toISOString() });

    const rejected = newStore();
    await seed(rejected, { expiresIn: 2 * MINUTE, age: 58 * MINUTE }, { refreshToken: 'status-rt', rejection: 'invalid_grant' });
    expect(JSON.parse((await status(rejected, ['--json'])).stdout)).toMatchObject({ state: 'degraded', detail: 'rejected', reason: 'invalid_grant' });

    const expired = newStore();
    await seed(expired, { expiresIn: -MINUTE, age: HOUR });
    const text = await status(expired);
    expect(text.stdout).toMatch(/^state: +reauthRequired$/m);
    expect(text.stdout).toMatch(/^reason: +refresh_token_missing$/m);
    expect(JSON.parse((await status(expired, ['--json'])).stdout)).toMatchObject({ state: 'reauthRequired', expired: true, reason: 'refresh_token_missing' });
  });

  it('a key with nothing stored: state idle, stored false, exit 0', async () => {
    const path = newStore();
    const result = await status(path, ['--json', '--key', 'nothing']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ key: 'nothing', stored: false, state: 'idle' });
    expect((await status(path, ['--key', 'nothing'])).stdout).toMatch(/^state: +no token stored$/m);
  });
});

describe('--store redis', () => {
  const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

  it('set, offline get, status and delete; processes sharing Redis make one refresh inside the window (R7)', async () => {
    const key = `cli-test-${randomUUID()}`;
    const env = { ...serverEnv(newStore()), TOKEN_STORE: 'redis', REDIS_URL };
    const stored = await suite.cli.run(['token', 'set', '--key', key], {
      env,
      stdin: JSON.stringify({ access_token: 'redis-at-1', token_type: 'Bearer', expires_in: 3600, refresh_token: 'redis-rt-1' }),
    });
    secrets.add('redis-at-1');
    secrets.add('redis-rt-1');
    expect(stored.code).toBe(0);
    expect(stored.stdout).toContain(`in redis ${REDIS_URL}`);

    suite.server.counts.reset();
    expect(await suite.cli.run(['token', 'get', '--key', key], { env })).toEqual({ code: 0, stdout: 'redis-at-1\n', stderr: '' });
    expect(JSON.parse((await suite.cli.run(['token', 'status', '--json', '--key', key], { env })).stdout)).toMatchObject({ state: 'valid', has_refresh_token: true });
    expect(totalRequests(suite.server.counts)).toBe(0);

    // An older login, 58 of its 60 minutes gone: inside the refresh window.
    const redis = redisStorage({ url: REDIS_URL });
    const now = Date.now();
    const current = await redis.get(key);
    await redis.set(key, { accessToken: 'redis-at-2', tokenType: 'Bearer', obtainedAt: now - 58 * MINUTE, expiresAt: now + 2 * MINUTE, refreshToken: await mint(), version: (current?.version ?? 0) + 1 });
    await redis.close();
    secrets.add('redis-at-2');
    const results = await Promise.all(Array.from({ length: 4 }, () => suite.cli.run(['token', 'get', '--key', key], { env })));
    for (const result of results) expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(new Set(results.map((r) => r.stdout)).size).toBe(1);
    secrets.add(results[0]?.stdout.trim() as string);
    expect(results[0]?.stdout).not.toBe('redis-at-2\n');
    expect(suite.server.counts.tokenByGrant.refresh_token ?? 0).toBe(1);

    const deleted = await suite.cli.run(['token', 'delete', '--no-revoke', '--key', key], { env });
    expect(deleted.code).toBe(0);
    expect((await suite.cli.run(['token', 'get', '--key', key], { env })).code).toBe(3);
  });
});
