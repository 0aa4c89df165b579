/**
 * `token get [--json]`. Far from expiry the stored token is printed from the file store alone: one
 * synchronous read, no request of any kind, no endpoint client, no XState (R2; see ../offline.ts).
 * Only when a refresh is due (or the store is Redis) is the rest loaded (../cold.ts).
 */
import { EXIT, type ExitCode } from '../exit-codes.js';
import { formatToken } from '../format.js';
import { fail, warn, type CliIo } from '../io.js';
import { loadCold } from '../load-cold.js';
import { decideOffline } from '../offline.js';
import { readFileRecord } from '../read-store.js';
import type { CliSettings } from '../settings.js';

export interface GetOptions {
  readonly json: boolean;
}

export async function getCommand(settings: CliSettings, options: GetOptions, io: CliIo): Promise<ExitCode> {
  if (settings.store.kind !== 'file') return (await loadCold()).getViaStorage(settings, options, io);
  let verdict;
  const now = Date.now();
  try {
    verdict = decideOffline(readFileRecord(settings.store.path, settings.key), settings.key, now, settings.thresholdMs);
  } catch (error) {
    return fail(io, error);
  }
  if (verdict.kind === 'serve') {
    io.out(formatToken(verdict.record, options.json, now));
    if (verdict.warning) warn(io, verdict.warning.code, verdict.warning.message);
    return EXIT.ok;
  }
  if (verdict.kind === 'fail') return fail(io, verdict.error);
  // A refresh is due: from here on the manager decides.
  return (await loadCold()).getOnline(settings, options, io);
}
