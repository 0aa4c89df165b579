/**
 * What a command may write, and how. stdout carries only what the user asked for (a token, JSON, a
 * summary); stderr carries one-line warnings and errors as `<code>: <message>` plus a hint. Nothing
 * here ever formats a token value into a message (R13): callers pass codes and library messages,
 * which never contain one. A server's text (an error's `description`) is printed as data: quoted,
 * control characters escaped, length capped (server-text.ts), so it can never start a line of its
 * own, e.g. a forged `token-lifecycle: hint:`. Every line is escaped to one line as well.
 */
import type { TokenLifecycleError } from '../../machines/lifecycle/errors.js';
import { bounded, escapeControls, quoted } from '../../machines/lifecycle/server-text.js';
import { asLifecycleError, exitCodeFor, type ExitCode } from './exit-codes.js';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

const PREFIX = 'token-lifecycle';

/** Longest message line printed (a library message, or a path the user gave). */
const MAX_LINE = 1_000;

/** One line of our own making: control characters escaped, length capped. */
function oneLine(text: string): string {
  return bounded(escapeControls(text), MAX_LINE);
}

export function warn(io: CliIo, code: string, message: string): void {
  io.err(`${PREFIX}: warning: ${oneLine(code)}: ${oneLine(message)}\n`);
}

export interface FailOptions {
  /** Overrides the exit code derived from the error. */
  exit?: ExitCode;
  hint?: string;
}

/** Reports an error on stderr (code, message, hint) and returns its exit code. */
export function fail(io: CliIo, thrown: unknown, options: FailOptions = {}): ExitCode {
  const error = asLifecycleError(thrown);
  const code = error ? error.code : 'internal_error';
  // A foreign error's message is not ours to trust with secrets: name it, do not quote it.
  const message = error ? oneLine(error.message) : `unexpected ${oneLine(thrown instanceof Error ? thrown.name : typeof thrown)}`;
  // The server's words, as data: quoted, escaped, capped.
  const details = error?.description && !error.message.includes(error.description) ? ` (details: ${quoted(error.description)})` : '';
  io.err(`${PREFIX}: error: ${oneLine(code)}: ${message}${details}\n`);
  const hint = options.hint ?? hintFor(thrown);
  if (hint) io.err(`${PREFIX}: hint: ${oneLine(hint)}\n`);
  return options.exit ?? exitCodeFor(thrown);
}

const LOGIN = 'log in again: `token-lifecycle token login` (or store a token response from elsewhere with `token-lifecycle token set`)';

/** What to do next, by error code. */
export function hintFor(thrown: unknown): string | undefined {
  const error = asLifecycleError(thrown);
  if (!error) return 'this is a bug in token-lifecycle; please report it';
  // An error that knows what to do about itself (the keychain store's KeychainUnavailableError).
  const own = (error as { hint?: unknown }).hint;
  if (typeof own === 'string' && own !== '') return own;
  switch (error.code) {
    case 'reauth_required':
    case 'refresh_token_missing':
    case 'invalid_grant':
    case 'unauthorized_client':
      return `re-authentication required: ${LOGIN}`;
    case 'invalid_client':
      return `re-authentication required: the server rejected the client credentials; check --client-id and the client secret, then ${LOGIN}`;
    case 'not_found':
      return `nothing stored for this key: ${LOGIN}`;
    case 'refresh_failed':
    case 'discovery_failed':
      return error.retryable ? `the token server is unreachable or failing: retry later${retryAfterText(error)}` : undefined;
    case 'storage_corrupt':
      return 'the store was left untouched: fix, move or delete it (or point --store-path elsewhere)';
    case 'storage_failed':
      return 'the token store could not be used (permissions, disk, Redis connection): retry later';
    case 'invalid_config':
    case 'insecure_endpoint':
      return 'see `token-lifecycle --help` and docs/cli.md';
    default:
      return error.retryable ? `retry later${retryAfterText(error)}` : undefined;
  }
}

function retryAfterText(error: TokenLifecycleError): string {
  return error.retryAfter === undefined ? '' : ` (not before ${Math.ceil(error.retryAfter / 1000)} s)`;
}

/** `process.stdout`/`stderr` as a CliIo. */
export const processIo: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};
