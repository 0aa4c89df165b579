/**
 * The command line: `token-lifecycle token <get|status|set|refresh|delete>` with commander. Settings
 * are global options with an environment variable each (commander applies flag > env > default and
 * records the source). Commands are imported when they run: all but `token get` live in ./cold.ts,
 * which the offline `token get` never loads.
 */
import { Command, CommanderError, Option } from 'commander';
import { EXIT } from './exit-codes.js';
import { fail, type CliIo } from './io.js';
import { loadCold } from './load-cold.js';
import { resolveSettings, type CliSettings, type RawOptions, DEFAULT_KEY, DEFAULT_LOGIN_SCOPE, DEFAULT_THRESHOLD } from './settings.js';
import type { SetInput } from './commands/set.js';

export interface CliContext {
  readonly io: CliIo;
  readonly stdin: SetInput;
  /** A person is at the terminal (stdin and stderr are TTYs): `token get --login` may log in. Default false. */
  readonly interactive?: boolean;
}

function globalOptions(): Option[] {
  return [
    new Option('--refresh-threshold <duration>', 'refresh this long before expiry (500ms, 90s, 5m, 1h; capped at half the lifetime)')
      .env('REFRESH_THRESHOLD')
      .default(DEFAULT_THRESHOLD),
    new Option('--store <kind>', 'where tokens are stored (keychain: secrets in the OS keychain, the rest in --store-path)').choices(['file', 'keychain', 'redis']).env('TOKEN_STORE').default('file'),
    new Option('--store-path <path>', 'the token file (default: $XDG_CONFIG_HOME/token-lifecycle/tokens.json, or ~/.config/…; keychain-tokens.json for --store keychain)').env('TOKEN_STORE_PATH'),
    new Option('--redis-url <url>', 'Redis URL for --store redis').env('REDIS_URL'),
    new Option('--issuer <url>', 'authorization server issuer (endpoints discovered, RFC 8414 / OIDC)').env('ISSUER'),
    new Option('--token-url <url>', 'token endpoint (instead of discovery)').env('TOKEN_URL'),
    new Option('--revocation-url <url>', 'revocation endpoint, RFC 7009 (instead of discovery)').env('REVOCATION_URL'),
    new Option('--client-id <id>', 'OAuth client id').env('CLIENT_ID'),
    new Option('--client-secret <secret>', 'OAuth client secret (visible in ps: prefer --client-secret-file)').env('CLIENT_SECRET'),
    new Option('--client-secret-file <path>', 'file holding the client secret').env('CLIENT_SECRET_FILE'),
    new Option('--key <key>', 'credential key in the store').default(DEFAULT_KEY),
  ];
}

const SETTING_NAMES: ReadonlyArray<keyof RawOptions> = [
  'refreshThreshold', 'store', 'storePath', 'redisUrl', 'issuer', 'tokenUrl', 'revocationUrl',
  'clientId', 'clientSecret', 'clientSecretFile', 'key',
];

function settingsOf(command: Command): CliSettings {
  const all = command.optsWithGlobals<Record<string, unknown>>();
  const raw: RawOptions = {};
  for (const name of SETTING_NAMES) {
    const value = all[name];
    if (typeof value === 'string') raw[name] = value;
  }
  return resolveSettings(raw, (name) => command.getOptionValueSourceWithGlobals(name));
}

/** Runs the command line; resolves to the exit code (docs/cli.md). */
export async function runCli(argv: readonly string[], context: CliContext): Promise<number> {
  const { io } = context;
  let exitCode: number = EXIT.ok;
  const program = new Command('token-lifecycle')
    .description('Fresh OAuth2 access tokens for scripts: refreshed only when needed, offline while far from expiry.')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.out(text),
      writeErr: (text) => io.err(text),
      outputError: (text, write) => write(`token-lifecycle: ${text}`),
    })
    .showHelpAfterError('(see token-lifecycle --help)');
  for (const option of globalOptions()) program.addOption(option);

  /** Wraps a command: settings are resolved (and validated) first; a bad setting is a usage error. */
  const action =
    <O>(run: (settings: CliSettings, options: O, command: Command) => Promise<number>) =>
    async (options: O, command: Command): Promise<void> => {
      let settings: CliSettings;
      try {
        settings = settingsOf(command);
      } catch (error) {
        exitCode = fail(io, error);
        return;
      }
      exitCode = await run(settings, options, command);
    };

  const token = program.command('token').description('manage the stored token');
  token
    .command('get')
    .description('print a valid access token (refreshing only when needed)')
    .option('--json', 'print access_token, token_type, expires_at, expired, scope as JSON')
    .option('--login', 'when no usable token can be had, log in first (only at a terminal; otherwise exit 3)')
    .action(
      action<{ json?: boolean; login?: boolean }>(async (settings, options) => {
        const { getCommand } = await import('./commands/get.js');
        return getCommand(settings, { json: options.json === true, login: options.login === true, interactive: context.interactive === true }, io);
      }),
    );
  token
    .command('login')
    .description('log in (browser with a loopback redirect, or device code) and store the tokens')
    .addOption(new Option('--device', 'device code login (RFC 8628): open a URL on any device and enter a code').conflicts('browser'))
    .addOption(new Option('--browser', 'browser login with a redirect to 127.0.0.1 (RFC 8252, PKCE)').conflicts('device'))
    .option('--scope <scopes>', 'space-separated scopes to ask for', DEFAULT_LOGIN_SCOPE)
    .option('--json', 'print access_token, token_type, expires_at, expired, scope as JSON (never the refresh token)')
    .action(
      action<{ device?: boolean; browser?: boolean; scope: string; json?: boolean }>(async (settings, options) => {
        const { loginCommand } = await loadCold();
        const mode = options.device ? 'device' : options.browser ? 'browser' : undefined;
        return loginCommand(settings, { ...(mode ? { mode } : {}), scope: options.scope, json: options.json === true }, io);
      }),
    );
  token
    .command('status')
    .description('show the state, expiry and refresh moment (no token values, no network)')
    .option('--json', 'print JSON')
    .action(
      action<{ json?: boolean }>(async (settings, options) => {
        const { statusCommand } = await loadCold();
        return statusCommand(settings, { json: options.json === true }, io);
      }),
    );
  token
    .command('set')
    .description('store a token response (JSON on stdin), e.g. from a login')
    .action(
      action(async (settings) => {
        const { setCommand } = await loadCold();
        return setCommand(settings, context.stdin, io);
      }),
    );
  token
    .command('refresh')
    .description('refresh now (prints a summary, not the token)')
    .action(
      action(async (settings) => {
        const { refreshCommand } = await loadCold();
        return refreshCommand(settings, io);
      }),
    );
  token
    .command('delete')
    .description('revoke (RFC 7009), then delete the stored token')
    .option('--no-revoke', 'delete without revoking')
    .action(
      action<{ revoke: boolean }>(async (settings, options) => {
        const { deleteCommand } = await loadCold();
        return deleteCommand(settings, { revoke: options.revoke }, io);
      }),
    );

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    return fail(io, error);
  }
  return exitCode;
}
