/**
 * `token refresh`: a forced refresh (ignores the minimum interval and backoff; refuses a rejected
 * credential with `reauth_required`). Prints a summary, never the token: use `token get` for that.
 */
import { EXIT, type ExitCode } from '../exit-codes.js';
import { instant } from '../format.js';
import { fail, type CliIo } from '../io.js';
import type { CliSettings } from '../settings.js';
import { withStorage } from '../store.js';

export async function refreshCommand(settings: CliSettings, io: CliIo): Promise<ExitCode> {
  return withStorage(settings.store, io, async (storage) => {
    const { onlineManager, stopQuietly } = await import('../managers.js');
    const tokens = await onlineManager(settings, storage, 'token refresh');
    let set;
    let stopError: unknown;
    try {
      set = await tokens.refresh(settings.key);
    } finally {
      stopError = await stopQuietly(tokens);
    }
    if (stopError !== undefined) return fail(io, stopError);
    const expiry = set.expiresAt === undefined ? 'unknown expiry' : `expires ${instant(set.expiresAt, Date.now())}`;
    io.out(`refreshed the token for key ${JSON.stringify(settings.key)}: ${expiry}\n`);
    return EXIT.ok;
  });
}
