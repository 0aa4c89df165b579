/**
 * The command's settings, resolved once from flags, environment and defaults (flag wins over env,
 * env over default: commander records where each value came from). Secrets are not read here: the
 * client secret file is read only when a command actually talks to the token endpoint.
 */
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { parseDuration } from '../../machines/lifecycle/duration.js';
import { InvalidConfigError } from '../../machines/lifecycle/errors.js';

/** Where commander took a value from: 'cli', 'env', 'default', ... */
export type Source = string | undefined;

/** Raw option values as commander hands them over (all strings). */
export interface RawOptions {
  refreshThreshold?: string;
  store?: string;
  storePath?: string;
  redisUrl?: string;
  issuer?: string;
  tokenUrl?: string;
  revocationUrl?: string;
  clientId?: string;
  clientSecret?: string;
  clientSecretFile?: string;
  key?: string;
}

export type StoreSettings =
  | { readonly kind: 'file'; readonly path: string }
  /** Secrets in the OS keychain, metadata in the file at `path`. */
  | { readonly kind: 'keychain'; readonly path: string }
  | { readonly kind: 'redis'; readonly url: string };

export type SecretSource =
  | { readonly kind: 'none' }
  | { readonly kind: 'value'; readonly value: string }
  | { readonly kind: 'file'; readonly path: string };

export interface EndpointSettings {
  readonly issuer?: string;
  readonly tokenUrl?: string;
  readonly revocationUrl?: string;
  readonly clientId?: string;
  readonly secret: SecretSource;
}

export interface CliSettings {
  readonly key: string;
  readonly thresholdMs: number;
  readonly store: StoreSettings;
  readonly endpoint: EndpointSettings;
}

export const DEFAULT_THRESHOLD = '5m';
export const DEFAULT_KEY = 'default';
/** What `token login` asks for by default: `offline_access` for a refresh token (else each expiry means a login). */
export const DEFAULT_LOGIN_SCOPE = 'openid offline_access';

/** Where tokens live by default: the user's config directory (XDG Base Directory on Linux and BSDs). */
export function defaultStorePath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = homedir()): string {
  if (platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'token-lifecycle', 'tokens.json');
  // XDG: a relative XDG_CONFIG_HOME is invalid and must be ignored.
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(home, '.config');
  return join(base, 'token-lifecycle', 'tokens.json');
}

/**
 * The metadata file of `--store keychain` by default: beside the file store's, not the same file, so
 * that tokens kept in clear text by `--store file` and markers of keychain entries never share one.
 */
export function defaultKeychainStorePath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = homedir()): string {
  return join(dirname(defaultStorePath(env, platform, home)), 'keychain-tokens.json');
}

/** An unset or empty value is absent (`ISSUER= token-lifecycle ...` unsets it). */
function present(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function secretSource(raw: RawOptions, sourceOf: (name: keyof RawOptions) => Source): SecretSource {
  const value = present(raw.clientSecret);
  const file = present(raw.clientSecretFile);
  const fromCli = (name: keyof RawOptions): boolean => sourceOf(name) === 'cli';
  let pick: 'value' | 'file' | undefined;
  if (value !== undefined && file !== undefined) {
    // A flag beats the environment; two of the same rank are ambiguous.
    if (fromCli('clientSecret') && !fromCli('clientSecretFile')) pick = 'value';
    else if (fromCli('clientSecretFile') && !fromCli('clientSecret')) pick = 'file';
    else {
      const where = fromCli('clientSecret') ? 'flags --client-secret and --client-secret-file' : 'CLIENT_SECRET and CLIENT_SECRET_FILE';
      throw new InvalidConfigError(`both ${where} are set: give one`);
    }
  } else {
    pick = value !== undefined ? 'value' : file !== undefined ? 'file' : undefined;
  }
  if (pick === 'value') return { kind: 'value', value: value as string };
  if (pick === 'file') return { kind: 'file', path: file as string };
  return { kind: 'none' };
}

/** Validates and resolves the settings; a bad value is `invalid_config` naming the flag or variable. */
export function resolveSettings(raw: RawOptions, sourceOf: (name: keyof RawOptions) => Source, env: NodeJS.ProcessEnv = process.env): CliSettings {
  const thresholdName = sourceOf('refreshThreshold') === 'env' ? 'REFRESH_THRESHOLD' : '--refresh-threshold';
  const thresholdMs = parseDuration(raw.refreshThreshold ?? DEFAULT_THRESHOLD, thresholdName);

  const key = raw.key ?? DEFAULT_KEY;
  if (key === '') throw new InvalidConfigError('--key must not be empty');

  const kind = present(raw.store) ?? 'file';
  let store: StoreSettings;
  if (kind === 'file') {
    store = { kind: 'file', path: present(raw.storePath) ?? defaultStorePath(env) };
  } else if (kind === 'keychain') {
    store = { kind: 'keychain', path: present(raw.storePath) ?? defaultKeychainStorePath(env) };
  } else if (kind === 'redis') {
    const url = present(raw.redisUrl);
    if (!url) throw new InvalidConfigError('--store redis needs --redis-url or REDIS_URL');
    store = { kind: 'redis', url };
  } else {
    throw new InvalidConfigError(`--store must be file, keychain or redis, got ${JSON.stringify(kind)}`);
  }

  const issuer = present(raw.issuer);
  const tokenUrl = present(raw.tokenUrl);
  const revocationUrl = present(raw.revocationUrl);
  const clientId = present(raw.clientId);
  return {
    key,
    thresholdMs,
    store,
    endpoint: {
      ...(issuer ? { issuer } : {}),
      ...(tokenUrl ? { tokenUrl } : {}),
      ...(revocationUrl ? { revocationUrl } : {}),
      ...(clientId ? { clientId } : {}),
      secret: secretSource(raw, sourceOf),
    },
  };
}
