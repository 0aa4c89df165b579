import { TokenLifecycleError } from './errors.js';

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
 * `temporarily_unavailable` is transient whatever the status (its name says so; documented);
 * a foreign error is transient only if it says `retryable: true`; unknown throwables (a network
 * `TypeError`, a bug in a custom endpoint) are transient, so a glitch never logs the user out.
 */
export function classifyFailure(error: unknown): FailureClass {
  const retryAfterMs = readRetryAfter(error);
  const extra = retryAfterMs === undefined ? {} : { retryAfterMs };
  if (error instanceof TokenLifecycleError) {
    const transient = error.retryable || error.code === 'temporarily_unavailable';
    return { kind: transient ? 'transient' : 'permanent', code: error.code, ...extra };
  }
  if (typeof error === 'object' && error !== null) {
    const { code, retryable } = error as { code?: unknown; retryable?: unknown };
    if (retryable === false && typeof code === 'string' && code) return { kind: 'permanent', code, ...extra };
    if (typeof code === 'string' && /^[a-z_]+$/.test(code) && retryable !== true) {
      return { kind: 'permanent', code, ...extra };
    }
  }
  return { kind: 'transient', code: 'refresh_failed', ...extra };
}

function readRetryAfter(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const value = (error as { retryAfter?: unknown }).retryAfter;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
