/**
 * Exit codes of the `token-lifecycle` command (documented in docs/cli.md) and the mapping from the
 * library's typed errors (DESIGN §4) to them. Stable: scripts branch on them.
 */
import { TokenLifecycleError } from '../../machines/errors.js';

export const EXIT = {
  ok: 0,
  /** Anything not covered below (an unexpected error, a permanent server refusal that is not a re-auth). */
  failure: 1,
  /** Bad flags, environment or input: fix the command line (`invalid_config`, `insecure_endpoint`). */
  usage: 2,
  /** No usable token without a new login (`reauth_required`, `not_found`, ...). */
  reauth: 3,
  /** Temporarily unavailable: the server or the store failed in a way worth retrying later. */
  unavailable: 4,
  /** The store holds data that cannot be read as tokens; it was left untouched. */
  corrupt: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const USAGE = new Set(['invalid_config', 'insecure_endpoint']);
const REAUTH = new Set(['reauth_required', 'refresh_token_missing', 'not_found', 'invalid_grant', 'unauthorized_client', 'invalid_client']);

/** The exit code for an error thrown by a command. */
export function exitCodeFor(error: unknown): ExitCode {
  if (!(error instanceof TokenLifecycleError)) return EXIT.failure;
  if (USAGE.has(error.code)) return EXIT.usage;
  if (error.code === 'storage_corrupt') return EXIT.corrupt;
  if (REAUTH.has(error.code)) return EXIT.reauth;
  if (error.retryable) return EXIT.unavailable;
  return EXIT.failure;
}
