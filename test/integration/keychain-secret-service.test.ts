/**
 * The keychain store on a real OS keychain: a Secret Service (gnome-keyring) in a private D-Bus
 * session started for this file (test/support/secret-service.ts). This test process joins the session
 * (DBUS_SESSION_BUS_ADDRESS, set before @napi-rs/keyring first connects) for the storage contract;
 * the CLI runs as child processes with the session's address, and `secret-tool` looks from outside:
 * the entry exists, no token value is in the metadata file, `token delete` removes the entry, and
 * without a Secret Service (no bus, or a bus with no keyring on it) the CLI fails with
 * `storage_failed` and a hint, writing nothing in clear. Linux only; in CI the tools must be there.
 */
import { randomUUID } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keychainStorage, osKeyring } from '../../adapters/storage/keychain/index.js';
import { buildCli, storeRecord, type CliHarness } from '../support/cli-runner.js';
import { missingSecretServiceTools, startBareBus, startSecretService, type SecretServiceSession } from '../support/secret-service.js';
import { describeStorageContract } from '../support/storage-contract.js';
import { fileStoreFixture } from '../support/file-store-fixture.js';

const missing = process.platform === 'linux' ? missingSecretServiceTools() : ['linux'];
// CI installs the tools (.ci/run): there a missing one fails the file instead of skipping it.
const skip = missing.length > 0 && process.env.CI !== 'true';

const ACCESS = `at-${randomUUID()}-keychain-access`;
const REFRESH = `rt-${randomUUID()}-keychain-refresh`;
const ID_TOKEN = `id-${randomUUID()}-keychain-id`;
const SECRETS = [ACCESS, REFRESH, ID_TOKEN];
const RESPONSE = JSON.stringify({ access_token: ACCESS, token_type: 'Bearer', expires_in: 3600, refresh_token: REFRESH, id_token: ID_TOKEN });

let session: SecretServiceSession;

describe.skipIf(skip)('keychain store on a Secret Service (gnome-keyring in a private D-Bus session)', () => {
  beforeAll(async () => {
    if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}: apt-get install gnome-keyring dbus-x11 libsecret-tools`);
    session = await startSecretService();
    process.env.DBUS_SESSION_BUS_ADDRESS = session.address;
  });
  afterAll(async () => {
    delete process.env.DBUS_SESSION_BUS_ADDRESS;
    await session?.stop();
  });

  describeStorageContract(
    'keychainStorage over the Secret Service',
    () => {
      const service = `tl-contract-${randomUUID()}`;
      const deleteEntries = async () => {
        const keyring = osKeyring({ service });
        for (const account of await keyring.accounts()) await keyring.delete(account);
      };
      const open = (path: string, now: () => number) => keychainStorage({ path, service, now, pollInterval: 50 });
      return fileStoreFixture('tl-keychain-ss-', open, { start: Date.now(), after: deleteEntries });
    },
    { keys: true, locks: true, fencing: true, subscribe: true },
  );

  describe('the CLI with --store keychain', () => {
    let cli: CliHarness;
    beforeAll(async () => {
      cli = await buildCli();
    }, 60_000);
    afterAll(async () => {
      await cli?.cleanup();
    });

    const metadataFile = () => join(cli.dir, '.config', 'token-lifecycle', 'keychain-tokens.json');
    /** The entries of the CLI's service, as `secret-tool search` lists them (attributes only). */
    const accounts = (): string[] => {
      const found = session.secretTool(['search', '--all', 'service', 'token-lifecycle']);
      return [...`${found.stdout}\n${found.stderr}`.matchAll(/^attribute\.username = (.*)$/gm)].map((m) => m[1]!);
    };

    it('keeps the tokens in a keychain entry, only markers in the file; get serves them; delete removes the entry', { timeout: 60_000 }, async () => {
      const env = { DBUS_SESSION_BUS_ADDRESS: session.address, TOKEN_STORE: 'keychain' };
      const set = await cli.run(['token', 'set'], { env, stdin: RESPONSE });
      expect(set.stderr).toBe('');
      expect(set.code).toBe(0);
      expect(set.stdout).toMatch(/^stored the token for key "default" in keychain \(service "token-lifecycle"\) \+ file .*keychain-tokens\.json: expires .*, refresh token: yes\n$/);

      // From outside: the one entry exists and holds the three tokens.
      const [account, ...others] = accounts();
      expect(others).toEqual([]);
      expect(account).toMatch(/^default\//);
      const lookup = session.secretTool(['lookup', 'service', 'token-lifecycle', 'username', account!]);
      expect(lookup.code).toBe(0);
      expect(JSON.parse(lookup.stdout)).toStrictEqual({ accessToken: ACCESS, refreshToken: REFRESH, idToken: ID_TOKEN });

      // The file store's bytes (and every file beside it: key locks) hold no token value.
      const dir = join(cli.dir, '.config', 'token-lifecycle');
      for (const name of await readdir(dir)) {
        const bytes = await readFile(join(dir, name), 'utf8');
        for (const secret of SECRETS) expect(bytes, name).not.toContain(secret);
      }
      expect(JSON.parse(await readFile(metadataFile(), 'utf8')).credentials.default.refreshToken).toBe(`keychain:v1:${account}`);

      const status = await cli.run(['token', 'status', '--json'], { env });
      expect(status.code).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ state: 'valid', has_refresh_token: true });

      const get = await cli.run(['token', 'get'], { env });
      expect(get.code).toBe(0);
      expect(get.stdout).toBe(`${ACCESS}\n`);

      const deleted = await cli.run(['token', 'delete', '--no-revoke'], { env });
      expect(deleted.code).toBe(0);
      expect(deleted.stdout).toMatch(/^deleted \(not revoked\) the token for key "default"/);
      expect(accounts()).toEqual([]);
      expect(session.secretTool(['lookup', 'service', 'token-lifecycle', 'username', account!]).code).not.toBe(0);
      expect(JSON.parse(await readFile(metadataFile(), 'utf8')).credentials).toEqual({});
      for (const output of cli.stderrLog) for (const secret of SECRETS) expect(output).not.toContain(secret);
    });

    it.each([
      ['no session bus at all', async () => ({ env: {}, stop: async () => {} })],
      [
        'a session bus whose keyring is not set up (gnome-keyring activated on demand, no login keyring)',
        async () => {
          const bus = await startBareBus();
          return { env: { DBUS_SESSION_BUS_ADDRESS: bus.address }, stop: () => bus.stop() };
        },
      ],
    ])('with %s: storage_failed with a hint, and nothing written in clear', { timeout: 60_000 }, async (_, start) => {
      const bus = await start();
      try {
        const storePath = join(cli.dir, `no-keychain-${randomUUID()}.json`);
        const env = { ...bus.env, TOKEN_STORE: 'keychain', TOKEN_STORE_PATH: storePath };
        const set = await cli.run(['token', 'set'], { env, stdin: RESPONSE });
        expect(set.code).toBe(4);
        expect(set.stdout).toBe('');
        expect(set.stderr).toMatch(/^token-lifecycle: error: storage_failed: The OS keychain could not .*\n/);
        expect(set.stderr).toMatch(/\ntoken-lifecycle: hint: no usable OS keychain, and nothing was written in its place: .*Secret Service.*--store file\)\n$/);
        for (const secret of SECRETS) expect(set.stderr).not.toContain(secret);
        // Nothing in clear anywhere: no metadata file at all, and no other file with a token in it.
        await expect(readFile(storePath)).rejects.toMatchObject({ code: 'ENOENT' });
        for (const name of await readdir(cli.dir)) {
          if (!name.startsWith('no-keychain-')) continue;
          const bytes = await readFile(join(cli.dir, name), 'utf8').catch(() => '');
          for (const secret of SECRETS) expect(bytes).not.toContain(secret);
        }
        // A record whose secrets are in a keychain that is not there: the same error on reading it.
        await storeRecord(storePath, { accessToken: 'keychain:v1:default/00000000.0.AAAA', tokenType: 'Bearer', obtainedAt: Date.now(), expiresAt: Date.now() + 3_600_000 });
        const get = await cli.run(['token', 'get'], { env });
        expect(get.code).toBe(4);
        expect(get.stdout).toBe('');
        // No bus: the keychain cannot be reached. A bus with gnome-keyring activated on demand but no
        // unlocked keyring: it answers "no such entry", which is told apart from a usable keychain by nothing.
        expect(get.stderr).toMatch(
          /^token-lifecycle: error: storage_failed: (The OS keychain could not read an entry: .*\ntoken-lifecycle: hint: no usable OS keychain|The keychain entry of key "default" was not found: .*\ntoken-lifecycle: hint: unlock the OS keychain)/,
        );
      } finally {
        await bus.stop();
      }
    });
  });
});
