/**
 * `token delete` (RFC 7009 revocation, then deletion; nothing deleted when revocation fails),
 * `token refresh` refusals, and secrets: the client secret from a file (out of `ps`), precedence of
 * the secret settings, and no token or secret on stderr, ever (R13).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TokenRecord } from '../../machines/lifecycle/types.js';
import { CLIENTS } from '../support/oidc-server.js';
import { cliSuite } from '../support/cli-suite.js';
import { HOUR, MINUTE, readRecord, storeRecord, totalRequests } from '../support/cli-runner.js';

const suite = cliSuite({ secrets: [CLIENTS.confidential.clientSecret] });
const { secrets, newStore, serverEnv } = suite;

/** A stored login with a refresh token the server knows; `expiresIn` relative to now. */
async function login(path: string, expiresIn = HOUR, key = 'default'): Promise<TokenRecord> {
  const refreshToken = await suite.server.mintRefreshToken();
  const now = Date.now();
  const record: TokenRecord = { accessToken: `at-${suite.stores}-${key}`, tokenType: 'Bearer', obtainedAt: now - HOUR + expiresIn, expiresAt: now + expiresIn, refreshToken, version: 1 };
  secrets.add(refreshToken);
  secrets.add(record.accessToken);
  await storeRecord(path, record, key);
  return record;
}

const isLive = async (refreshToken: string): Promise<boolean> => (await suite.server.provider.RefreshToken.find(refreshToken)) !== undefined;

describe('token delete', () => {
  it('revokes the refresh token (RFC 7009), then deletes the key; other keys stay', async () => {
    const path = newStore();
    const record = await login(path);
    const other = await login(path, HOUR, 'other');
    const before = suite.server.counts.revocation;
    const result = await suite.cli.run(['token', 'delete'], { env: serverEnv(path) });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`revoked and deleted the token for key "default" in file ${path}\n`);
    expect(result.stderr).toBe('');
    expect(suite.server.counts.revocation).toBe(before + 1);
    expect(await isLive(record.refreshToken as string)).toBe(false);
    expect(await readRecord(path)).toBeUndefined();
    expect(await readRecord(path, 'other')).toMatchObject({ accessToken: other.accessToken });
  });

  it('when revocation fails it deletes nothing, says why and exits non-zero', async () => {
    const path = newStore();
    const record = await login(path);
    const bytes = await readFile(path);

    suite.server.injectFault('/token/revocation', { status: 503 });
    const unavailable = await suite.cli.run(['token', 'delete'], { env: serverEnv(path) });
    expect(unavailable.code).toBe(4);
    expect(unavailable.stdout).toBe('');
    expect(unavailable.stderr).toContain('error: revocation_failed: Token revocation failed (HTTP 503)');
    expect(unavailable.stderr).toContain('hint: nothing was deleted: retry later, or delete without revoking with --no-revoke');

    suite.server.injectFault('/token/revocation', { status: 400, body: { error: 'invalid_request' } });
    const refused = await suite.cli.run(['token', 'delete'], { env: serverEnv(path) });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('error: revocation_failed: Token revocation failed (HTTP 400 invalid_request)');

    await suite.server.pause();
    const unreachable = await suite.cli.run(['token', 'delete'], { env: serverEnv(path) });
    await suite.server.resume();
    expect(unreachable.code).toBe(4);
    expect(unreachable.stderr).toContain('revocation_failed');

    expect(await readFile(path)).toEqual(bytes);
    expect(await isLive(record.refreshToken as string)).toBe(true);
  });

  it('--no-revoke deletes without asking the server', async () => {
    const path = newStore();
    const record = await login(path);
    suite.server.counts.reset();
    const result = await suite.cli.run(['token', 'delete', '--no-revoke'], { env: serverEnv(path) });
    expect(result).toEqual({ code: 0, stdout: `deleted (not revoked) the token for key "default" in file ${path}\n`, stderr: '' });
    expect(totalRequests(suite.server.counts)).toBe(0);
    expect(await readRecord(path)).toBeUndefined();
    expect(await isLive(record.refreshToken as string)).toBe(true);
  });

  it('revoking needs the token server configured (exit 2, key kept); a key with nothing stored is a no-op', async () => {
    const path = newStore();
    await login(path);
    const unconfigured = await suite.cli.run(['token', 'delete'], { env: { TOKEN_STORE_PATH: path } });
    expect(unconfigured.code).toBe(2);
    expect(unconfigured.stderr).toContain('error: invalid_config: revoking before deletion needs the token server');
    expect(unconfigured.stderr).toContain('--no-revoke');
    expect(await readRecord(path)).toBeDefined();

    const nothing = await suite.cli.run(['token', 'delete', '--key', 'nothing'], { env: { TOKEN_STORE_PATH: path } });
    expect(nothing).toEqual({ code: 0, stdout: `nothing stored for key "nothing" in file ${path}\n`, stderr: '' });
  });
});

describe('token refresh', () => {
  it('a rejected refresh token: exit 3; afterwards nothing more is sent (R6)', async () => {
    const path = newStore();
    const record = await login(path, 2 * MINUTE);
    await suite.server.revokeGrant(record.refreshToken as string);
    const rejected = await suite.cli.run(['token', 'refresh'], { env: serverEnv(path) });
    expect(rejected.code).toBe(3);
    expect(rejected.stdout).toBe('');
    expect(rejected.stderr).toContain('error: invalid_grant: ');
    suite.server.counts.reset();
    const again = await suite.cli.run(['token', 'refresh'], { env: serverEnv(path) });
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('error: reauth_required: Re-authentication required (invalid_grant)');
    expect(totalRequests(suite.server.counts)).toBe(0);
  });
});

describe('client secret handling', () => {
  let secretFiles = 0;
  async function secretFile(content: string): Promise<string> {
    const file = join(suite.cli.dir, `secret-${++secretFiles}`);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content, { mode: 0o600 });
    return file;
  }

  const withoutSecret = (path: string): Record<string, string> => ({ TOKEN_STORE_PATH: path, ISSUER: suite.server.issuer, CLIENT_ID: CLIENTS.confidential.clientId });

  it('--client-secret-file and CLIENT_SECRET_FILE work (one trailing newline ignored)', async () => {
    const file = await secretFile(`${CLIENTS.confidential.clientSecret}\n`);
    const byFlag = newStore();
    await login(byFlag);
    expect((await suite.cli.run(['token', 'refresh', '--client-secret-file', file], { env: withoutSecret(byFlag) })).code).toBe(0);
    const byEnv = newStore();
    await login(byEnv);
    expect((await suite.cli.run(['token', 'refresh'], { env: { ...withoutSecret(byEnv), CLIENT_SECRET_FILE: file } })).code).toBe(0);
    for (const path of [byFlag, byEnv]) secrets.add(((await readRecord(path)) as TokenRecord).accessToken);
  });

  it('a flag wins over the environment: --client-secret-file beats a wrong CLIENT_SECRET', async () => {
    const file = await secretFile(CLIENTS.confidential.clientSecret);
    const path = newStore();
    await login(path);
    const result = await suite.cli.run(['token', 'refresh', '--client-secret-file', file], { env: { ...withoutSecret(path), CLIENT_SECRET: 'wrong-secret' } });
    secrets.add('wrong-secret');
    expect(result.code).toBe(0);
    secrets.add(((await readRecord(path)) as TokenRecord).accessToken);
  });

  it('two secrets of the same rank are a usage error; a missing file is named, never a secret', async () => {
    const path = newStore();
    await login(path);
    const file = await secretFile('file-secret');
    secrets.add('file-secret');
    const both = await suite.cli.run(['token', 'refresh', '--client-secret', 'flag-secret', '--client-secret-file', file], { env: withoutSecret(path) });
    secrets.add('flag-secret');
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('both flags --client-secret and --client-secret-file are set: give one');

    const bothEnv = await suite.cli.run(['token', 'refresh'], { env: { ...withoutSecret(path), CLIENT_SECRET: 'env-secret', CLIENT_SECRET_FILE: file } });
    secrets.add('env-secret');
    expect(bothEnv.code).toBe(2);

    const missing = await suite.cli.run(['token', 'refresh', '--client-secret-file', `${file}-missing`], { env: withoutSecret(path) });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`cannot read the client secret file ${file}-missing (ENOENT)`);
  });

  it('a wrong client secret: the server says invalid_client; the secret is never printed', async () => {
    const path = newStore();
    await login(path);
    const result = await suite.cli.run(['token', 'refresh', '--client-secret', 'definitely-wrong'], { env: withoutSecret(path) });
    secrets.add('definitely-wrong');
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('invalid_client');
    expect(result.stderr).toContain('check --client-id and the client secret');
  });
});
