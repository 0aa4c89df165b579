/**
 * What the CLI's integration test files share (cli-get, cli-store, cli-delete): oidc-provider on
 * loopback and the bundled CLI, started once per file; the server back up and fault-free after each
 * test; a fresh file store per test; and, at the end, the check that no secret a test handled ever
 * reached the CLI's stderr. Call it at the top of a test file: it registers the hooks.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { buildCli, type CliHarness } from './cli-runner.js';
import { CLIENTS, startAuthServer, type AuthServer } from './oidc-server.js';

export interface CliSuite {
  readonly server: AuthServer;
  readonly cli: CliHarness;
  /** Every token value a test handled: none may ever appear on stderr. */
  readonly secrets: Set<string>;
  /** Stores made so far: a number for unique fake token values. */
  readonly stores: number;
  /** A path for a new, empty file store. */
  newStore(): string;
  /** The environment of a CLI run against the suite's server (confidential client) and `path`. */
  serverEnv(path: string): Record<string, string>;
  /** A refresh token the server accepts, registered as a secret. */
  mint(): Promise<string>;
}

export function cliSuite(options: { readonly secrets?: readonly string[] } = {}): CliSuite {
  let server: AuthServer | undefined;
  let cli: CliHarness | undefined;
  let stores = 0;
  const secrets = new Set<string>(options.secrets);
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('cliSuite: used before its beforeAll ran');
    return value;
  };

  beforeAll(async () => {
    [server, cli] = await Promise.all([startAuthServer({ ttl: { AccessToken: 3600 } }), buildCli()]);
  }, 60_000);
  afterEach(async () => {
    await server?.resume();
    server?.clearFaults();
  });
  afterAll(async () => {
    for (const stderr of cli?.stderrLog ?? []) for (const secret of secrets) expect(stderr).not.toContain(secret);
    await server?.stop();
    await cli?.cleanup();
  });

  return {
    get server() {
      return started(server);
    },
    get cli() {
      return started(cli);
    },
    secrets,
    get stores() {
      return stores;
    },
    newStore: () => join(started(cli).dir, `store-${++stores}`, 'tokens.json'),
    serverEnv: (path) => ({
      TOKEN_STORE_PATH: path,
      ISSUER: started(server).issuer,
      CLIENT_ID: CLIENTS.confidential.clientId,
      CLIENT_SECRET: CLIENTS.confidential.clientSecret,
    }),
    async mint() {
      const token = await started(server).mintRefreshToken();
      secrets.add(token);
      return token;
    },
  };
}
