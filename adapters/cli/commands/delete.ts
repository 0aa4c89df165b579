/**
 * `token delete [--no-revoke]`: RFC 7009 revocation of the refresh token (or the access token when
 * there is none), then deletion. If revocation fails nothing is deleted, so the token can still be
 * revoked later; `--no-revoke` deletes without asking the server.
 */
import { EXIT, type ExitCode } from '../exit-codes.js';
import { fail, type CliIo } from '../io.js';
import type { CliSettings } from '../settings.js';
import { withStorage } from '../store.js';

export interface DeleteOptions {
  readonly revoke: boolean;
}

const REVOKE_HINT = 'nothing was deleted: retry later, or delete without revoking with --no-revoke';

export async function deleteCommand(settings: CliSettings, options: DeleteOptions, io: CliIo): Promise<ExitCode> {
  const key = JSON.stringify(settings.key);
  return withStorage(settings.store, io, async (storage) => {
    if ((await storage.get(settings.key)) === undefined) {
      io.out(`nothing stored for key ${key} in ${storage.description}\n`);
      return EXIT.ok;
    }
    const { offlineManager, onlineManager, stopQuietly } = await import('../managers.js');
    let tokens;
    try {
      tokens = options.revoke ? await onlineManager(settings, storage, 'revoking before deletion') : offlineManager(settings, storage);
    } catch (error) {
      return fail(io, error, { hint: 'configure the token server to revoke, or delete without revoking with --no-revoke' });
    }
    try {
      await tokens.remove(settings.key, { revoke: options.revoke });
    } catch (error) {
      const revocation = error instanceof Error && 'code' in error && error.code === 'revocation_failed';
      return fail(io, error, revocation ? { hint: REVOKE_HINT } : {});
    } finally {
      await stopQuietly(tokens);
    }
    io.out(`${options.revoke ? 'revoked and deleted' : 'deleted (not revoked)'} the token for key ${key} in ${storage.description}\n`);
    return EXIT.ok;
  });
}
