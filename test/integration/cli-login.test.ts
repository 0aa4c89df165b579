/**
 * `token-lifecycle token login` end to end: the real CLI bin (bundled as the package builds it) as a
 * child process against oidc-provider with the device flow on, while the test plays the user: it reads
 * the code or URL the CLI prints on stderr, then walks the server's pages (and, for --browser, the
 * redirect to the CLI's own 127.0.0.1 listener). `token get --login` without a terminal never waits.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../adapters/cli/program.js';
import { buildCli, readRecord, storeRecord, type CliHarness } from '../support/cli-runner.js';
import { startCli } from '../support/cli-session.js';
import { LOGIN_CLIENT, startLoginServer, type LoginServer } from '../support/login-server.js';
import { actAsUser } from '../support/login-user.js';

let server: LoginServer;
let cli: CliHarness;
let stores = 0;

beforeAll(async () => {
  [server, cli] = await Promise.all([startLoginServer(), buildCli()]);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await cli?.cleanup();
});

function setup() {
  const storePath = join(cli.dir, `store-${++stores}`, 'tokens.json');
  const env = { PATH: process.env.PATH, HOME: cli.dir, ISSUER: server.issuer, CLIENT_ID: LOGIN_CLIENT.clientId, TOKEN_STORE_PATH: storePath };
  return { storePath, env };
}

/** Asserts no value of the stored record (access, refresh, ID token) appears in `text`. */
async function expectNoSecrets(storePath: string, ...texts: string[]): Promise<void> {
  const record = await readRecord(storePath);
  for (const secret of [record?.refreshToken, record?.idToken]) {
    if (secret) for (const text of texts) expect(text).not.toContain(secret);
  }
}

const DEVICE_PROMPT = /open (\S+) and enter the code: (\S+)\n\(or open (\S+)\)/;

describe('token login --device', () => {
  it('prints the verification URI and code, waits for the user, stores the tokens; token get then prints them offline', async () => {
    const { storePath, env } = setup();
    const session = startCli(cli.bin, ['token', 'login', '--device'], env);
    const [, uri, userCode, complete] = await session.waitForStderr(DEVICE_PROMPT);
    expect(uri).toBe(`${server.issuer}/device`);
    expect(complete).toContain(`user_code=`);
    await actAsUser(uri as string, server.issuer, { userCode: userCode as string });
    const result = await session.done;

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^logged in: stored the token for key "default" in file .*: expires .*, refresh token: yes\n$/);
    const record = await readRecord(storePath);
    expect(record).toMatchObject({ tokenType: 'Bearer', refreshToken: expect.any(String), version: 1 });
    expect(result.stdout + result.stderr).not.toContain(record?.accessToken);
    await expectNoSecrets(storePath, result.stdout, result.stderr);

    const before = server.counts.token;
    const get = await cli.run(['token', 'get'], { env });
    expect(get).toMatchObject({ code: 0, stdout: `${record?.accessToken}\n` });
    expect(server.counts.token).toBe(before);
  });

  it('--json prints what token get --json prints, never the refresh token', async () => {
    const { storePath, env } = setup();
    const session = startCli(cli.bin, ['token', 'login', '--device', '--json', '--scope', 'openid offline_access api'], env);
    const [, , , complete] = await session.waitForStderr(DEVICE_PROMPT);
    await actAsUser(complete as string, server.issuer);
    const result = await session.done;
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(Object.keys(json).sort()).toEqual(['access_token', 'expired', 'expires_at', 'scope', 'token_type']);
    expect(json.scope).toBe('openid offline_access api');
    expect(json.access_token).toBe((await readRecord(storePath))?.accessToken);
    await expectNoSecrets(storePath, result.stdout, result.stderr);
  });

  it('the user aborts: no token is stored, exit 1 with access_denied', async () => {
    const { storePath, env } = setup();
    const session = startCli(cli.bin, ['token', 'login', '--device'], env);
    const [, , , complete] = await session.waitForStderr(DEVICE_PROMPT);
    await actAsUser(complete as string, server.issuer, { deny: true });
    const result = await session.done;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error: access_denied: The login was denied');
    expect(await readRecord(storePath)).toBeUndefined();
  });
});

describe('token login --browser', () => {
  it('prints the authorization URL; the browser comes back to 127.0.0.1; the tokens are stored', async () => {
    const { storePath, env } = setup();
    const session = startCli(cli.bin, ['token', 'login', '--browser'], env);
    const [, url] = await session.waitForStderr(/open this URL in a browser:\n\n {2}(\S+)\n/);
    const authorization = new URL(url as string);
    expect(authorization.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorization.searchParams.get('prompt')).toBe('consent');
    const browser = await actAsUser(url as string, server.issuer);
    expect(browser.status).toBe(200);
    expect(browser.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/);
    const result = await session.done;
    expect(result.code).toBe(0);
    expect(await readRecord(storePath)).toMatchObject({ refreshToken: expect.any(String) });
    await expectNoSecrets(storePath, result.stdout, result.stderr);
  });
});

describe('usage and token get --login', () => {
  it('--device and --browser together are a usage error (exit 2)', async () => {
    const { env } = setup();
    const result = await cli.run(['token', 'login', '--device', '--browser'], { env });
    expect(result.code).toBe(2);
  });

  it('login without --issuer is a usage error naming it (exit 2)', async () => {
    const { env } = setup();
    const result = await cli.run(['token', 'login', '--device'], { env: { ...env, ISSUER: undefined, TOKEN_URL: `${server.issuer}/token` } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('token login needs --issuer');
  });

  it('token get --login with no terminal: exit 3 at once, no login started', async () => {
    const { env } = setup();
    const before = server.counts.byPath['/device/auth'] ?? 0;
    const result = await cli.run(['token', 'get', '--login'], { env, timeoutMs: 10_000 });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('not logging in: no terminal is attached');
    expect(server.counts.byPath['/device/auth'] ?? 0).toBe(before);
  });

  it('token get --login at a terminal: an expired token without refresh token leads to a login, then the new token', async () => {
    const { storePath } = setup();
    const now = Date.now();
    await storeRecord(storePath, { accessToken: 'expired-at', tokenType: 'Bearer', obtainedAt: now - 7_200_000, expiresAt: now - 3_600_000 });
    let stdout = '';
    let stderr = '';
    let user: Promise<unknown> | undefined;
    const code = await runCli(
      ['token', 'get', '--login', '--issuer', server.issuer, '--client-id', LOGIN_CLIENT.clientId, '--store-path', storePath],
      {
        io: {
          out: (text) => (stdout += text),
          err: (text) => {
            stderr += text;
            const complete = /\(or open (\S+)\)/.exec(text)?.[1];
            if (complete) user = actAsUser(complete, server.issuer);
          },
        },
        stdin: { isTTY: true, read: async function* () {} },
        interactive: true,
      },
    );
    await user;
    expect(stderr).toContain('warning: reauth_required: no usable token: logging in (--login)');
    expect(code).toBe(0);
    const record = await readRecord(storePath);
    expect(stdout).toBe(`${record?.accessToken}\n`);
    expect(record?.accessToken).not.toBe('expired-at');
    expect(record?.refreshToken).toEqual(expect.any(String));
  });
});
