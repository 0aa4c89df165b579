/**
 * `token get` when the manager must decide: a refresh is due (cross-process lock and adoption, R7;
 * rotation, R4; degradation, R5; re-authentication, R6), or the store is not a file. A failed
 * refresh with a still-valid token prints that token with a one-line warning and exits 0.
 */
import { TokenLifecycleError } from '../../../machines/lifecycle/errors.js';
import type { TokenStatus } from '../../../machines/manager/api-types.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { formatToken, instant } from '../format.js';
import { fail, warn, type CliIo } from '../io.js';
import { onlineManager, stopQuietly } from '../managers.js';
import { decideOffline, rfc3339 } from '../offline.js';
import type { CliSettings } from '../settings.js';
import { withStorage, type CliStorage } from '../store.js';
import { failGet, loginWanted, type GetOptions } from './get.js';
import { DEFAULT_LOGIN_SCOPE, loginAndStore } from './login.js';

/** The warning for a token served although the refresh did not succeed, if any. */
export function servedWarning(status: TokenStatus): { code: string; message: string } | undefined {
  const until = status.expiresAt === undefined ? '' : ` until ${rfc3339(status.expiresAt)}`;
  if (status.state === 'degraded' && status.detail === 'rejected') {
    return {
      code: status.reason ?? 'reauth_required',
      message: `the server rejected the refresh token; this token is served${until}, then a new login is needed`,
    };
  }
  if (status.state === 'degraded') {
    const next = status.retryAt === undefined ? '' : `; next attempt from ${rfc3339(status.retryAt)}`;
    return { code: status.lastError?.code ?? 'refresh_failed', message: `refresh failed; this token is served${until}${next}` };
  }
  if (status.state === 'nearExpiry' && !status.hasRefreshToken) {
    return { code: 'refresh_token_missing', message: `no refresh token: this token is served${until}, then a new login is needed` };
  }
  return undefined;
}

async function refreshAndPrint(settings: CliSettings, storage: CliStorage, options: GetOptions, io: CliIo): Promise<ExitCode> {
  const tokens = await onlineManager(settings, storage, 'refreshing the token');
  try {
    const set = await tokens.getToken(settings.key);
    const status = tokens.status(settings.key);
    const stopError = await stopQuietly(tokens);
    const now = Date.now();
    io.out(formatToken(set, options.json, now));
    const warning = servedWarning(status);
    if (warning) warn(io, warning.code, warning.message);
    if (stopError !== undefined) {
      // R4: the refreshed tokens are valid but did not reach the store; the next refresh may need a login.
      const code = stopError instanceof TokenLifecycleError ? stopError.code : 'storage_failed';
      const expiry = set.expiresAt === undefined ? '' : ` (this token is valid until ${instant(set.expiresAt, now)})`;
      warn(io, code, `the refreshed tokens could not be written to the store${expiry}`);
    }
    return EXIT.ok;
  } catch (error) {
    await stopQuietly(tokens);
    throw error;
  }
}

/** `token get --login` at a terminal, when no usable token can be had: log in, store, print. */
async function loginAndPrint(settings: CliSettings, storage: CliStorage, options: GetOptions, io: CliIo, reason: unknown): Promise<ExitCode> {
  const code = reason instanceof TokenLifecycleError ? reason.code : 'reauth_required';
  warn(io, code, 'no usable token: logging in (--login)');
  const set = await loginAndStore(settings, storage, { scope: DEFAULT_LOGIN_SCOPE, json: options.json }, io);
  io.out(formatToken(set, options.json, Date.now()));
  return EXIT.ok;
}

/** Refreshes (R1-R9); with `--login` at a terminal, a re-authentication becomes a login. */
async function refreshOrLogin(settings: CliSettings, storage: CliStorage, options: GetOptions, io: CliIo): Promise<ExitCode> {
  try {
    return await refreshAndPrint(settings, storage, options, io);
  } catch (error) {
    if (loginWanted(options, error)) return loginAndPrint(settings, storage, options, io, error);
    return failGet(io, options, error);
  }
}

/** A refresh is due (the offline path said so): the manager takes over. */
export async function getOnline(settings: CliSettings, options: GetOptions, io: CliIo): Promise<ExitCode> {
  return withStorage(settings.store, io, (storage) => refreshOrLogin(settings, storage, options, io));
}

/** The offline path found no usable token and `--login` applies: log in, then print. */
export async function loginForGet(settings: CliSettings, options: GetOptions, io: CliIo, reason: unknown): Promise<ExitCode> {
  return withStorage(settings.store, io, (storage) => loginAndPrint(settings, storage, options, io, reason));
}

/** `token get` over a store read through its adapter (Redis): the same offline decision, then the manager if due. */
export async function getViaStorage(settings: CliSettings, options: GetOptions, io: CliIo): Promise<ExitCode> {
  return withStorage(settings.store, io, async (storage) => {
    const now = Date.now();
    const verdict = decideOffline(await storage.get(settings.key), settings.key, now, settings.thresholdMs);
    if (verdict.kind === 'serve') {
      io.out(formatToken(verdict.record, options.json, now));
      if (verdict.warning) warn(io, verdict.warning.code, verdict.warning.message);
      return EXIT.ok;
    }
    if (verdict.kind === 'fail') {
      if (loginWanted(options, verdict.error)) return loginAndPrint(settings, storage, options, io, verdict.error);
      return failGet(io, options, verdict.error);
    }
    return refreshOrLogin(settings, storage, options, io);
  });
}
