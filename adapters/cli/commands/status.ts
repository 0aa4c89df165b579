/**
 * `token status [--json]`: the credential's state as the manager derives it from the stored record
 * and the clock (R14), with a manager that cannot reach the server (no request is possible). Never a
 * token value. Exits 0 whenever the status could be read, whatever the state.
 */
import type { TokenStatus } from '../../../machines/manager/api-types.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { instant } from '../format.js';
import type { CliIo } from '../io.js';
import { rfc3339 } from '../offline.js';
import type { CliSettings } from '../settings.js';
import { withStorage } from '../store.js';

export interface StatusOptions {
  readonly json: boolean;
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : rfc3339(ms));

export function statusJson(status: TokenStatus, store: string, now: number): string {
  const stored = status.state !== 'idle';
  const body = {
    key: status.key,
    store,
    stored,
    state: status.state,
    detail: status.detail ?? null,
    expires_at: iso(status.expiresAt),
    expired: status.expiresAt !== undefined && now >= status.expiresAt,
    refresh_at: iso(status.refreshAt),
    needs_refresh: status.needsRefresh,
    has_refresh_token: status.hasRefreshToken,
    retry_at: iso(status.retryAt),
    reason: status.reason ?? null,
    last_error: status.lastError?.code ?? null,
  };
  return `${JSON.stringify(body)}\n`;
}

export function statusText(status: TokenStatus, store: string, now: number): string {
  const lines: Array<[string, string]> = [['key', status.key], ['store', store]];
  if (status.state === 'idle') {
    lines.push(['state', 'no token stored']);
  } else {
    lines.push(['state', status.detail ? `${status.state} (${status.detail})` : status.state]);
    lines.push(['expires', status.expiresAt === undefined ? 'unknown (no expires_in)' : instant(status.expiresAt, now)]);
    lines.push(['refresh at', status.refreshAt === undefined ? 'never (unknown expiry)' : instant(status.refreshAt, now)]);
    lines.push(['refresh token', status.hasRefreshToken ? 'yes' : 'no']);
    if (status.retryAt !== undefined) lines.push(['next attempt', instant(status.retryAt, now)]);
    if (status.reason !== undefined) lines.push(['reason', status.reason]);
    if (status.lastError !== undefined) lines.push(['last error', status.lastError.code]);
  }
  return lines.map(([name, value]) => `${`${name}:`.padEnd(15)}${value}\n`).join('');
}

export async function statusCommand(settings: CliSettings, options: StatusOptions, io: CliIo): Promise<ExitCode> {
  return withStorage(settings.store, io, async (storage) => {
    const { offlineManager, stopQuietly } = await import('../managers.js');
    const tokens = offlineManager(settings, storage);
    let status: TokenStatus;
    try {
      await tokens.start();
      status = tokens.status(settings.key);
    } finally {
      await stopQuietly(tokens);
    }
    const now = Date.now();
    io.out(options.json ? statusJson(status, storage.description, now) : statusText(status, storage.description, now));
    return EXIT.ok;
  });
}
