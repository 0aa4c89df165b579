/**
 * `token get` when a refresh is due: the manager decides (cross-process lock and adoption, R7;
 * rotation, R4; degradation, R5; re-authentication, R6). A failed refresh with a still-valid token
 * prints that token with a one-line warning and exits 0.
 */
import type { TokenStatus } from '../../../machines/manager-types.js';
import type { TokenStorage } from '../../../machines/types.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { formatToken, instant } from '../format.js';
import { fail, warn, type CliIo } from '../io.js';
import { onlineManager, stopQuietly } from '../managers.js';
import { rfc3339 } from '../offline.js';
import type { CliSettings } from '../settings.js';
import type { GetOptions } from './get.js';
import { TokenLifecycleError } from '../../../machines/errors.js';

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

export async function getOnline(settings: CliSettings, storage: TokenStorage, options: GetOptions, io: CliIo): Promise<ExitCode> {
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
    return fail(io, error);
  }
}
