/**
 * `token-lifecycle token get` as a child process against oidc-provider on loopback (rotation on every
 * refresh): every branch of DESIGN §5 "CLI" and issue 4, the refresh threshold (R1) by flag and
 * environment, and R2 proven by counting every request the server sees, discovery included.
 * Records are written straight into the store with chosen times, so no test waits for a clock.
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TokenRecord } from '../../machines/lifecycle/types.js';
import { CLIENTS } from '../support/oidc-server.js';
import { cliSuite } from '../support/cli-suite.js';
import { HOUR, MINUTE, readRecord, storeRecord, totalRequests } from '../support/cli-runner.js';

const suite = cliSuite();
const { secrets, newStore, mint } = suite;


/** A stored record whose times are relative to now; the access token is a unique fake (only the refresh token meets the server). */
async function seed(path: string, times: { expiresIn?: number; age: number }, extra: Partial<TokenRecord> = {}): Promise<TokenRecord> {
  const now = Date.now();
  const accessToken = `at-${suite.stores}-${now}`;
  secrets.add(accessToken);
  const record: TokenRecord = {
    accessToken,
    tokenType: 'Bearer',
    obtainedAt: now - times.age,
    ...(times.expiresIn === undefined ? {} : { expiresAt: now + times.expiresIn }),
    scope: 'openid offline_access',
    version: 1,
    ...extra,
  };
  await storeRecord(path, record);
  return record;
}

function get(path: string, args: string[] = [], env: Record<string, string> = {}) {
  return suite.cli.run(['token', 'get', ...args], {
    env: { TOKEN_STORE_PATH: path, ISSUER: suite.server.issuer, CLIENT_ID: CLIENTS.confidential.clientId, CLIENT_SECRET: CLIENTS.confidential.clientSecret, ...env },
  });
}

const refreshRequests = (): number => suite.server.counts.tokenByGrant.refresh_token ?? 0;

async function expectValidAtServer(accessToken: string): Promise<void> {
  expect(await suite.server.provider.AccessToken.find(accessToken)).toBeDefined();
}

describe('token get far from expiry (R2)', () => {
  it('prints the stored token and sends no request at all, not even discovery', async () => {
    const path = newStore();
    const record = await seed(path, { expiresIn: HOUR, age: 0 }, { refreshToken: await mint() });
    suite.server.counts.reset();
    const result = await get(path);
    expect(result).toEqual({ code: 0, stdout: `${record.accessToken}\n`, stderr: '' });
    const json = await get(path, ['--json']);
    expect(json.code).toBe(0);
    expect(totalRequests(suite.server.counts)).toBe(0);
  });

  it('loads nothing but the bin itself: it runs with the commands bundle (manager, endpoint client) absent', async () => {
    const path = newStore();
    const record = await seed(path, { expiresIn: HOUR, age: 0 }, { refreshToken: await mint() });
    const alone = join(suite.cli.dir, 'bin-alone', 'token-lifecycle.cjs');
    await mkdir(join(suite.cli.dir, 'bin-alone'), { recursive: true });
    await copyFile(suite.cli.bin, alone);
    const env = { TOKEN_STORE_PATH: path, ISSUER: suite.server.issuer, CLIENT_ID: CLIENTS.confidential.clientId };
    expect(await suite.cli.run(['token', 'get'], { env, bin: alone })).toEqual({ code: 0, stdout: `${record.accessToken}\n`, stderr: '' });
    // The same bin does need it as soon as a refresh is due: the test would notice a bin that bundled everything.
    const due = newStore();
    await seed(due, { expiresIn: 2 * MINUTE, age: 58 * MINUTE }, { refreshToken: await mint() });
    const online = await suite.cli.run(['token', 'get'], { env: { ...env, TOKEN_STORE_PATH: due }, bin: alone });
    expect(online.code).not.toBe(0);
    expect(online.stdout).toBe('');
  });

  it('--json prints access_token, token_type, expires_at (RFC 3339 UTC), expired and scope, never the refresh token', async () => {
    const path = newStore();
    const refreshToken = await mint();
    const record = await seed(path, { expiresIn: HOUR, age: 0 }, { refreshToken, idToken: 'id-token-value' });
    secrets.add('id-token-value');
    const result = await get(path, ['--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      access_token: record.accessToken,
      token_type: 'Bearer',
      expires_at: new Date(record.expiresAt as number).toISOString(),
      expired: false,
      scope: 'openid offline_access',
    });
    expect(result.stdout).toMatch(/"expires_at":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"/);
    expect(result.stdout).not.toContain(refreshToken);
    expect(result.stdout).not.toContain('id-token-value');
  });

  it('a token of unknown expiry (no expires_in) is served offline with expires_at null', async () => {
    const path = newStore();
    const record = await seed(path, { age: 10 * HOUR }, { refreshToken: await mint(), scope: undefined });
    suite.server.counts.reset();
    const result = await get(path, ['--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ access_token: record.accessToken, token_type: 'Bearer', expires_at: null, expired: false, scope: null });
    expect(totalRequests(suite.server.counts)).toBe(0);
  });
});

describe('token get inside the threshold', () => {
  it('refreshes once, prints the new token and stores the rotated refresh token, which the server accepts next (R3, R4)', async () => {
    const path = newStore();
    const refreshToken = await mint();
    const old = await seed(path, { expiresIn: 2 * MINUTE, age: 58 * MINUTE }, { refreshToken });
    const before = refreshRequests();
    const result = await get(path);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const printed = result.stdout.trim();
    secrets.add(printed);
    expect(printed).not.toBe(old.accessToken);
    expect(refreshRequests()).toBe(before + 1);
    await expectValidAtServer(printed);
    const stored = (await readRecord(path)) as TokenRecord;
    secrets.add(stored.refreshToken as string);
    expect(stored.accessToken).toBe(printed);
    expect(stored.refreshToken).toBeDefined();
    expect(stored.refreshToken).not.toBe(refreshToken);
    // The rotated refresh token is the one the server accepts next.
    const forced = await suite.cli.run(['token', 'refresh'], {
      env: { TOKEN_STORE_PATH: path, ISSUER: suite.server.issuer, CLIENT_ID: CLIENTS.confidential.clientId, CLIENT_SECRET: CLIENTS.confidential.clientSecret },
    });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/^refreshed the token for key "default": expires /);
    expect(refreshRequests()).toBe(before + 2);
    secrets.add(((await readRecord(path)) as TokenRecord).accessToken);
  });

  it('a transient failure while the token is valid prints the old token, one warning line, exits 0; the next run honours the backoff offline (R5, R14)', async () => {
    const path = newStore();
    const old = await seed(path, { expiresIn: 2 * MINUTE, age: 58 * MINUTE }, { refreshToken: await mint() });
    suite.server.injectFault('/token', { status: 503, body: { error: 'temporarily_unavailable' } });
    const result = await get(path);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${old.accessToken}\n`);
    expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(result.stderr).toMatch(/^token-lifecycle: warning: refresh_failed: refresh failed; this token is served until /);
    const stored = (await readRecord(path)) as TokenRecord;
    expect(stored.retryAt).toBeGreaterThan(Date.now());
    expect(stored.refreshToken).toBe(old.refreshToken);

    suite.server.counts.reset();
    const again = await get(path);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`${old.accessToken}\n`);
    expect(again.stderr).toMatch(/^token-lifecycle: warning: refresh_failed: the last refresh failed; .*next attempt from /);
    expect(totalRequests(suite.server.counts)).toBe(0);
  });

  it('a rejected refresh token while the token is valid prints the old token with a warning; later runs send nothing (R6, R14)', async () => {
    const path = newStore();
    const refreshToken = await mint();
    const old = await seed(path, { expiresIn: 2 * MINUTE, age: 58 * MINUTE }, { refreshToken });
    await suite.server.revokeGrant(refreshToken);
    const result = await get(path);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${old.accessToken}\n`);
    expect(result.stderr).toMatch(/^token-lifecycle: warning: invalid_grant: the server rejected the refresh token; this token is served until .*, then a new login is needed\n$/);
    expect((await readRecord(path))?.rejection).toBe('invalid_grant');

    suite.server.counts.reset();
    const again = await get(path);
    expect(again).toMatchObject({ code: 0, stdout: `${old.accessToken}\n` });
    expect(again.stderr).toMatch(/warning: invalid_grant: /);
    expect(totalRequests(suite.server.counts)).toBe(0);
  });

  it('a valid token in the window without a refresh token is served with a warning and no request (R8)', async () => {
    const path = newStore();
    const old = await seed(path, { expiresIn: 2 * MINUTE, age: 58 * MINUTE });
    suite.server.counts.reset();
    const result = await get(path);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${old.accessToken}\n`);
    expect(result.stderr).toMatch(/^token-lifecycle: warning: refresh_token_missing: /);
    expect(totalRequests(suite.server.counts)).toBe(0);
  });
});

describe('token get with no usable token: nothing on stdout, non-zero exit, a hint', () => {
  it('expired without a refresh token: re-authentication required (exit 3), no request', async () => {
    const path = newStore();
    await seed(path, { expiresIn: -MINUTE, age: HOUR });
    suite.server.counts.reset();
    const result = await get(path);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('error: reauth_required: Re-authentication required (refresh_token_missing)');
    expect(result.stderr).toContain('hint: re-authentication required: log in again');
    expect(totalRequests(suite.server.counts)).toBe(0);
  });

  it('expired at this very instant counts as expired (inclusive), exit 3', async () => {
    const path = newStore();
    await seed(path, { expiresIn: 0, age: HOUR });
    const result = await get(path);
    expect(result).toMatchObject({ code: 3, stdout: '' });
  });

  it('expired and the server rejects the refresh token: re-authentication required (exit 3)', async () => {
    const path = newStore();
    const refreshToken = await mint();
    await seed(path, { expiresIn: -MINUTE, age: HOUR }, { refreshToken });
    await suite.server.revokeGrant(refreshToken);
    const result = await get(path);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('error: reauth_required: Re-authentication required (invalid_grant)');
    expect(result.stderr).toContain('re-authentication required');
  });

  it('expired and the server unreachable: retry later (exit 4); the next run waits for the backoff without a request', async () => {
    const path = newStore();
    await seed(path, { expiresIn: -MINUTE, age: HOUR }, { refreshToken: await mint() });
    await suite.server.pause();
    const result = await get(path);
    expect(result.code).toBe(4);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('error: refresh_failed: ');
    expect(result.stderr).toContain('hint: the token server is unreachable or failing: retry later');
    expect((await readRecord(path))?.retryAt).toBeGreaterThan(Date.now());

    await suite.server.resume();
    suite.server.counts.reset();
    const again = await get(path);
    expect(again).toMatchObject({ code: 4, stdout: '' });
    expect(again.stderr).toContain('retry later');
    expect(totalRequests(suite.server.counts)).toBe(0);
  });

  it('nothing stored for the key: not_found (exit 3)', async () => {
    const path = newStore();
    await seed(path, { expiresIn: HOUR, age: 0 });
    const result = await get(path, ['--key', 'other']);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('error: not_found: No token stored for key "other"');
  });

  it('a refresh is due but no token server is configured: configuration error (exit 2)', async () => {
    const path = newStore();
    await seed(path, { expiresIn: 2 * MINUTE, age: 58 * MINUTE }, { refreshToken: await mint() });
    const result = await suite.cli.run(['token', 'get'], { env: { TOKEN_STORE_PATH: path } });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('error: invalid_config: refreshing the token needs the token server: set --issuer (ISSUER) or --token-url (TOKEN_URL)');
  });
});

describe('refresh threshold (R1) by flag and environment', () => {
  /** A 2-hour token expiring in 50 minutes: due under a 1h threshold, not under 5m. */
  async function twoHourToken(): Promise<string> {
    const path = newStore();
    await seed(path, { expiresIn: 50 * MINUTE, age: 70 * MINUTE }, { refreshToken: await mint() });
    return path;
  }

  async function refreshes(path: string, args: string[], env: Record<string, string>): Promise<boolean> {
    const before = refreshRequests();
    const result = await get(path, args, env);
    expect(result.code).toBe(0);
    secrets.add(result.stdout.trim());
    return refreshRequests() > before;
  }

  it('flag wins over env, env over the default (5m)', async () => {
    expect(await refreshes(await twoHourToken(), [], {})).toBe(false);
    expect(await refreshes(await twoHourToken(), [], { REFRESH_THRESHOLD: '1h' })).toBe(true);
    expect(await refreshes(await twoHourToken(), ['--refresh-threshold', '5m'], { REFRESH_THRESHOLD: '1h' })).toBe(false);
    expect(await refreshes(await twoHourToken(), ['--refresh-threshold', '1h'], { REFRESH_THRESHOLD: '5m' })).toBe(true);
  });

  it('1h on a 2-hour token is uncapped: the refresh moment is 1 h before expiry', async () => {
    const path = newStore();
    const record = await seed(path, { expiresIn: 61 * MINUTE, age: 59 * MINUTE }, { refreshToken: await mint() });
    const status = await suite.cli.run(['token', 'status', '--json', '--refresh-threshold', '1h'], { env: { TOKEN_STORE_PATH: path } });
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ refresh_at: new Date((record.expiresAt as number) - HOUR).toISOString(), state: 'valid' });
    expect(await refreshes(path, ['--refresh-threshold', '1h'], {})).toBe(false);

    const due = newStore();
    await seed(due, { expiresIn: 59 * MINUTE, age: 61 * MINUTE }, { refreshToken: await mint() });
    expect(await refreshes(due, ['--refresh-threshold', '1h'], {})).toBe(true);
  });

  it('1h on a 30-minute token is capped at half the lifetime: 15 min before expiry', async () => {
    const path = newStore();
    const record = await seed(path, { expiresIn: 16 * MINUTE, age: 14 * MINUTE }, { refreshToken: await mint() });
    const status = await suite.cli.run(['token', 'status', '--json'], { env: { TOKEN_STORE_PATH: path, REFRESH_THRESHOLD: '1h' } });
    expect(JSON.parse(status.stdout)).toMatchObject({ refresh_at: new Date((record.expiresAt as number) - 15 * MINUTE).toISOString(), state: 'valid' });
    expect(await refreshes(path, [], { REFRESH_THRESHOLD: '1h' })).toBe(false);

    const due = newStore();
    await seed(due, { expiresIn: 14 * MINUTE, age: 16 * MINUTE }, { refreshToken: await mint() });
    expect(await refreshes(due, [], { REFRESH_THRESHOLD: '1h' })).toBe(true);
  });

  it('an invalid threshold is a clear configuration error with the usage exit code (2), and nothing happens', async () => {
    const path = newStore();
    await seed(path, { expiresIn: HOUR, age: 0 }, { refreshToken: await mint() });
    const before = await readFile(path);
    suite.server.counts.reset();
    const byFlag = await get(path, ['--refresh-threshold', 'soon']);
    expect(byFlag).toMatchObject({ code: 2, stdout: '' });
    expect(byFlag.stderr).toContain('error: invalid_config: --refresh-threshold must look like 500ms, 90s, 1.5m, 1h or 2d, got "soon"');
    const byEnv = await get(path, [], { REFRESH_THRESHOLD: '-1m' });
    expect(byEnv).toMatchObject({ code: 2, stdout: '' });
    expect(byEnv.stderr).toContain('error: invalid_config: REFRESH_THRESHOLD must look like');
    const nan = await get(path, [], { REFRESH_THRESHOLD: 'NaN' });
    expect(nan.code).toBe(2);
    expect(totalRequests(suite.server.counts)).toBe(0);
    expect(await readFile(path)).toEqual(before);
  });
});
