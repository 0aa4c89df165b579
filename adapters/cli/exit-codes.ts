/**
 * Exit codes of the `token-lifecycle` command (documented in docs/cli.md) and the mapping from the
 * library's typed errors (DESIGN §4) to them. Stable: scripts branch on them.
 */
import { TokenLifecycleError } from '../../machines/lifecycle/errors.js';

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

/**
 * The error as a TokenLifecycleError, if it is one. The bin is two bundles (adapters/cli/bundle.mjs)
 * with a copy of the error classes each, so the shape counts too: an Error with a string `code` and
 * a boolean `retryable` (Node's own errors have no `retryable`).
 */
export function asLifecycleError(error: unknown): TokenLifecycleError | undefined {
  if (error instanceof TokenLifecycleError) return error;
  const shaped = error instanceof Error && typeof (error as { code?: unknown }).code === 'string' && typeof (error as { retryable?: unknown }).retryable === 'boolean';
  return shaped ? (error as TokenLifecycleError) : undefined;
}

/** The exit code for an error thrown by a command. */
export function exitCodeFor(thrown: unknown): ExitCode {
  const error = asLifecycleError(thrown);
  if (!error) return EXIT.failure;
  if (USAGE.has(error.code)) return EXIT.usage;
  if (error.code === 'storage_corrupt') return EXIT.corrupt;
  if (REAUTH.has(error.code)) return EXIT.reauth;
  if (error.retryable) return EXIT.unavailable;
  return EXIT.failure;
}
