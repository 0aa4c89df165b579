/**
 * `token login [--device | --browser] [--scope S] [--json]`: a first login (or a new one), stored
 * like `token set` stores a token response (same store, key, version check and locks, through the
 * manager's `setToken`). The person's instructions go to stderr; stdout gets a summary, or with
 * `--json` the same object as `token get --json` (never the refresh or ID token). `token get --login`
 * comes here when no usable token can be had and a person is at the terminal.
 */
import { InvalidConfigError } from '../../../machines/lifecycle/errors.js';
import type { TokenSet } from '../../../machines/lifecycle/types.js';
import { deviceLogin, type DevicePrompt } from '../../oauth2/device-login.js';
import type { LoginClientOptions, LoginTokenResponse } from '../../oauth2/login-client.js';
import { loopbackLogin } from '../../oauth2-node/loopback-login.js';
import { endpointOptions } from '../endpoint-config.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { formatToken, instant } from '../format.js';
import type { CliIo } from '../io.js';
import { offlineManager, stopQuietly } from '../managers.js';
import { canOpenBrowser, openBrowser } from '../open-browser.js';
import type { CliSettings } from '../settings.js';

export { DEFAULT_LOGIN_SCOPE } from '../settings.js';
import { withStorage, type CliStorage } from '../store.js';

export type LoginMode = 'device' | 'browser';

export interface LoginOptions {
  /** Undefined: the browser when one can be opened here, else the device flow. */
  readonly mode?: LoginMode;
  readonly scope: string;
  readonly json: boolean;
}


export async function loginCommand(settings: CliSettings, options: LoginOptions, io: CliIo): Promise<ExitCode> {
  return withStorage(settings.store, io, async (storage) => {
    const set = await loginAndStore(settings, storage, options, io);
    io.out(options.json ? formatToken(set, true, Date.now()) : `${summary(settings, storage, set)}\n`);
    return EXIT.ok;
  });
}

/** Logs in, stores the result under the settings' key, resolves to what was stored. */
export async function loginAndStore(settings: CliSettings, storage: CliStorage, options: LoginOptions, io: CliIo): Promise<TokenSet> {
  const response = await login(settings, options, io);
  const tokens = offlineManager(settings, storage);
  try {
    return await tokens.setToken(settings.key, response);
  } finally {
    await stopQuietly(tokens);
  }
}

async function login(settings: CliSettings, options: LoginOptions, io: CliIo): Promise<LoginTokenResponse> {
  const endpoint = await endpointOptions(settings.endpoint, 'token login');
  if (endpoint.issuer === undefined) {
    throw new InvalidConfigError('token login needs --issuer (ISSUER): the login endpoints are discovered from it');
  }
  const client: LoginClientOptions = { ...endpoint, scope: options.scope };
  const mode = options.mode ?? (canOpenBrowser() ? 'browser' : 'device');
  if (mode === 'device') {
    return deviceLogin({ ...client, onPrompt: (prompt) => io.err(devicePromptText(prompt)) });
  }
  return loopbackLogin({
    ...client,
    // OIDC Core §11: a refresh token for offline_access is issued after an explicit consent prompt.
    ...(/(^|\s)offline_access(\s|$)/.test(options.scope) ? { authorizationParams: { prompt: 'consent' } } : {}),
    onAuthorizationUrl(url) {
      const opening = canOpenBrowser();
      io.err(`${opening ? 'Opening your browser to log in. If it does not open, visit' : 'To log in, open this URL in a browser'}:\n\n  ${url}\n\nWaiting for the login to complete...\n`);
      if (opening) openBrowser(url);
    },
  });
}

function devicePromptText(prompt: DevicePrompt): string {
  const lines = [
    `To log in, open ${prompt.verificationUri} and enter the code: ${prompt.userCode}`,
    ...(prompt.verificationUriComplete ? [`(or open ${prompt.verificationUriComplete})`] : []),
    `Waiting for the login (the code expires ${instant(prompt.expiresAt, Date.now())})...`,
  ];
  return `${lines.join('\n')}\n`;
}

function summary(settings: CliSettings, storage: CliStorage, set: TokenSet): string {
  const expiry = set.expiresAt === undefined ? 'unknown expiry' : `expires ${instant(set.expiresAt, Date.now())}`;
  return `logged in: stored the token for key ${JSON.stringify(settings.key)} in ${storage.description}: ${expiry}, refresh token: ${set.refreshToken ? 'yes' : 'no'}`;
}
