/**
 * `token get [--json]`. Far from expiry the stored token is printed from the store alone: no request
 * of any kind, no endpoint client, no XState (R2; see ../offline.ts). Only when a refresh is due are
 * the storage adapter and the manager loaded (./get-online.ts).
 */
import type { TokenRecord } from '../../../machines/types.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { formatToken } from '../format.js';
import { fail, warn, type CliIo } from '../io.js';
import { decideOffline } from '../offline.js';
import { readFileRecord } from '../read-store.js';
import type { CliSettings } from '../settings.js';
import type { CliStorage } from '../store.js';

export interface GetOptions {
  readonly json: boolean;
}

export async function getCommand(settings: CliSettings, options: GetOptions, io: CliIo): Promise<ExitCode> {
  let storage: CliStorage | undefined;
  try {
    let record: TokenRecord | undefined;
    if (settings.store.kind === 'file') {
      record = readFileRecord(settings.store.path, settings.key);
    } else {
      const { openStorage } = await import('../store.js');
      storage = await openStorage(settings.store);
      record = await storage.get(settings.key);
    }
    const now = Date.now();
    const verdict = decideOffline(record, settings.key, now, settings.thresholdMs);
    if (verdict.kind === 'serve') {
      io.out(formatToken(verdict.record, options.json, now));
      if (verdict.warning) warn(io, verdict.warning.code, verdict.warning.message);
      return EXIT.ok;
    }
    if (verdict.kind === 'fail') return fail(io, verdict.error);
    // A refresh is due: from here on the manager decides.
    const [{ openStorage }, { getOnline }] = await Promise.all([import('../store.js'), import('./get-online.js')]);
    storage ??= await openStorage(settings.store);
    return await getOnline(settings, storage, options, io);
  } catch (error) {
    return fail(io, error);
  } finally {
    await storage?.close().catch(() => undefined);
  }
}
