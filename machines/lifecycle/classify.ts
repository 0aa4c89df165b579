import { isTransientStatus, TokenLifecycleError } from './errors.js';
import { isErrorCode } from './error-code.js';

/** How a refresh failure is handled (R6): transient ones are retried, permanent ones never. */
export interface FailureClass {
  readonly kind: 'transient' | 'permanent';
  /** Stable code: the server's §5.2 code, or ours (`refresh_failed`, `invalid_token_response`, ...). */
  readonly code: string;
  /** Milliseconds the server asked to wait (`Retry-After`). */
  readonly retryAfterMs?: number;
}

/**
 * Classifies anything a token endpoint threw. Typed errors say it themselves through `retryable`;
 * whatever they say, `temporarily_unavailable` and a 408/429/5xx status are transient (R6; the code's
 * name says so, documented in docs/rules.md). A foreign error is permanent only when it carries a
 * §5.2-style lowercase `code` (or any code with `retryable: false`) and does not say
 * `retryable: true`; unknown throwables (a network `TypeError`, a bug in a custom endpoint) are
 * transient, so a glitch never logs the user out.
 */
export function classifyFailure(error: unknown): FailureClass {
  const retryAfterMs = readRetryAfter(error);
  const extra = retryAfterMs === undefined ? {} : { retryAfterMs };
  if (error instanceof TokenLifecycleError) {
    const transient = error.retryable || transientByRule(error.code, error.status);
    // The code reaches status(), events and inspectors: one that is not a §5.2 code (a custom
    // endpoint passing a server's text on) is replaced by ours (error-code.ts).
    const code = isErrorCode(error.code) ? error.code : transient ? 'refresh_failed' : 'unexpected_response';
    return { kind: transient ? 'transient' : 'permanent', code, ...extra };
  }
  if (typeof error === 'object' && error !== null) {
    const { code: raw, retryable, status } = error as { code?: unknown; retryable?: unknown; status?: unknown };
    const code = isErrorCode(raw) ? raw : undefined;
    if (code !== undefined && retryable !== true && !transientByRule(code, status)) {
      if (retryable === false || /^[a-z_]+$/.test(code)) return { kind: 'permanent', code, ...extra };
    }
  }
  return { kind: 'transient', code: 'refresh_failed', ...extra };
}

function transientByRule(code: string, status: unknown): boolean {
  return code === 'temporarily_unavailable' || isTransientStatus(status);
}

function readRetryAfter(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const value = (error as { retryAfter?: unknown }).retryAfter;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
