/**
 * `token get [--json]`. Far from expiry the stored token is printed from the file store alone: one
 * synchronous read, no request of any kind, no endpoint client, no XState (R2; see ../offline.ts).
 * Only when a refresh is due (or the store is Redis) is the rest loaded (../cold.ts).
 */
import { EXIT, exitCodeFor, type ExitCode } from '../exit-codes.js';
import { formatToken } from '../format.js';
import { fail, warn, type CliIo } from '../io.js';
import { loadCold } from '../load-cold.js';
import { decideOffline } from '../offline.js';
import { readFileRecord } from '../read-store.js';
import type { CliSettings } from '../settings.js';

export interface GetOptions {
  readonly json: boolean;
  /** `--login`: when no usable token can be had, log in first (only with a person at the terminal). */
  readonly login?: boolean;
  /** stdin and stderr are terminals: a person can answer a login. */
  readonly interactive?: boolean;
}

/** `--login` without a terminal never waits for a person: the error (exit 3) stands, with this hint. */
export const NO_TTY_HINT = 'not logging in: no terminal is attached (--login waits for a person only at a terminal); run `token-lifecycle token login` interactively';

/** True when `token get --login` should log in instead of reporting `error` (a re-authentication, exit 3). */
export function loginWanted(options: GetOptions, error: unknown): boolean {
  return options.login === true && options.interactive === true && exitCodeFor(error) === EXIT.reauth;
}

/** Reports a failure of `token get`; with `--login` and no terminal, says why no login was started. */
export function failGet(io: CliIo, options: GetOptions, error: unknown): ExitCode {
  const noTerminal = options.login === true && options.interactive !== true && exitCodeFor(error) === EXIT.reauth;
  return fail(io, error, noTerminal ? { hint: NO_TTY_HINT } : {});
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
  if (verdict.kind === 'fail') {
    if (loginWanted(options, verdict.error)) return (await loadCold()).loginForGet(settings, options, io, verdict.error);
    return failGet(io, options, verdict.error);
  }
  // A refresh is due: from here on the manager decides.
  return (await loadCold()).getOnline(settings, options, io);
}
