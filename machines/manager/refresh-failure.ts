/**
 * A renewal's failure as both renewal runners report it (refresh-runner.ts, and exchange-runner.ts
 * for derived credentials): when to retry (backoff, R5), a code that holds no token (R13), the
 * `refresh_failed` event, and the `RefreshFailure` the machine's actor rejects with (metadata only).
 * What each runner records in its vault or storage between those steps stays with the runner.
 */
import { backoffDelay } from '../lifecycle/backoff.js';
import type { FailureClass } from '../lifecycle/classify.js';
import type { RefreshFailure } from '../lifecycle/machine-types.js';
import { containsSecret, withoutSecrets } from '../lifecycle/secret-values.js';
import { metaOf, type Credential } from './credential.js';
import type { ManagerSettings } from './options.js';
import type { ManagerRuntime } from './runtime.js';

/** A code holding one of the credential's tokens (a server's echo passed on) is not shown. */
export function withSafeCode(failure: FailureClass, secrets: readonly string[]): FailureClass {
  if (!containsSecret(failure.code, secrets)) return failure;
  return { ...failure, code: failure.kind === 'transient' ? 'refresh_failed' : 'unexpected_response' };
}

/**
 * When a transient failure is retried (whole milliseconds: it is stored, shown in status() and
 * events), at the latest `retryAtMost`; a permanent one is not.
 */
export function retryAtFor(settings: ManagerSettings, failure: FailureClass, attempt: number, at: number, retryAtMost?: number): number | undefined {
  if (failure.kind === 'permanent') return undefined;
  const delay = backoffDelay(attempt, settings.retry, settings.random(), { retryAfterMs: failure.retryAfterMs, minIntervalMs: settings.minIntervalMs });
  return Math.min(retryAtMost ?? Number.POSITIVE_INFINITY, at + Math.ceil(delay));
}

/**
 * What the machine's actor rejects with (metadata only, no retry time): alone, the failure of a run
 * its credential no longer waits for (removed, replaced), told to no one.
 */
export function failureOutcome(c: Credential, startedAt: number, at: number, failure: FailureClass): RefreshFailure {
  return { startedAt, at, kind: failure.kind, code: failure.code, token: metaOf(c.record, at) };
}

/**
 * Keeps the failure (its cause without any of `secrets`, R13), emits `refresh_failed`, and throws
 * the machine's `RefreshFailure`.
 */
export function reportFailure(
  rt: ManagerRuntime,
  c: Credential,
  startedAt: number,
  at: number,
  failure: FailureClass,
  retryAt: number | undefined,
  cause: unknown,
  secrets: readonly string[],
): never {
  c.lastFailure = withoutSecrets(cause, secrets);
  const retry = retryAt === undefined ? {} : { retryAt };
  rt.emit({ type: 'refresh_failed', key: c.key, at, code: failure.code, retryable: failure.kind !== 'permanent', ...retry });
  const outcome: RefreshFailure = { ...failureOutcome(c, startedAt, at, failure), ...retry };
  throw outcome;
}
