/**
 * R22: the renewal of a derived credential, as the machine's `refreshTokens` actor runs it. It has no
 * refresh token: its "refresh" is an RFC 8693 exchange of its parent's current access token (got
 * through the manager's own `getToken`, so a parent inside its refresh window is refreshed first,
 * once). Same contract as refresh-runner.ts: metadata out (R13), a `RefreshFailure` with backoff or a
 * permanent code on failure, `refreshed` / `refresh_failed` events. Derived tokens live in memory
 * only: nothing here touches storage (docs/decisions.md, "Derived credentials").
 */
import { classifyFailure, type FailureClass } from '../lifecycle/classify.js';
import { metaOf, setRecord, type Credential, type Derivation } from './credential.js';
import { NotFoundError, ReauthRequiredError, RefreshFailedError, TokenLifecycleError } from '../lifecycle/errors.js';
import { checkExchangeResponse, TOKEN_TYPES } from '../lifecycle/exchange-response.js';
import type { RefreshInput, RefreshOutput } from '../lifecycle/machine-types.js';
import { isExpired } from '../lifecycle/refresh-policy.js';
import { failureOutcome, reportFailure, retryAtFor, withSafeCode } from './refresh-failure.js';
import type { ManagerRuntime } from './runtime.js';
import type { TokenRecord, TokenSet } from '../lifecycle/types.js';

/** The child's `reason` while its parent needs a new login. */
export const PARENT_REAUTH_REQUIRED = 'parent_reauth_required';
/** The parent is gone (not stored, not loaded). */
export const PARENT_NOT_FOUND = 'parent_not_found';

/** Why the parent's token could not be had, as the child's failure. */
function parentFailure(error: unknown): FailureClass {
  if (error instanceof ReauthRequiredError) return { kind: 'permanent', code: PARENT_REAUTH_REQUIRED };
  if (error instanceof NotFoundError) return { kind: 'permanent', code: PARENT_NOT_FOUND };
  // The parent's own transient trouble (its server down, its refresh failing): retried with backoff.
  if (error instanceof TokenLifecycleError && error.code === 'stopped') return { kind: 'transient', code: 'stopped' };
  return { kind: 'transient', code: 'refresh_failed' };
}

/** Stored with a derived record: the tokens it holds are its own (no refresh token, R22). */
function recordOf(tokens: TokenSet & { obtainedAt: number }, derivation: Derivation, version: number): TokenRecord {
  const scope = tokens.scope ?? derivation.scope;
  return {
    accessToken: tokens.accessToken,
    tokenType: tokens.tokenType,
    obtainedAt: tokens.obtainedAt,
    ...(tokens.expiresAt === undefined ? {} : { expiresAt: tokens.expiresAt }),
    ...(scope === undefined ? {} : { scope }),
    version,
  };
}

export function createExchangeRunner(rt: ManagerRuntime, parentToken: (key: string) => Promise<TokenSet>) {
  const { settings } = rt;
  const { clock, endpoint } = settings;

  /** Nothing is stored for a derived credential: its record is only ever in memory. */
  function keep(c: Credential, record: TokenRecord): void {
    setRecord(c, record);
    c.storedVersion = record.version;
  }

  /** A run whose credential moved on meanwhile (removed, reset by its parent, re-derived): its outcome is not theirs. */
  function isAbandoned(c: Credential, base: TokenRecord | undefined): boolean {
    return c.removed || c.record !== base;
  }

  function fail(c: Credential, startedAt: number, failure: FailureClass, attempt: number, cause: unknown, base: TokenRecord | undefined, secrets: string[]): never {
    const at = clock.now();
    if (isAbandoned(c, base) || failure.code === 'stopped') throw failureOutcome(c, startedAt, at, failure);
    const retryAt = retryAtFor(settings, failure, attempt, at);
    // A server may echo the subject token into its error: no code or cause kept holds it (R13).
    const safe = withSafeCode(failure, secrets);
    if (base) {
      const { rejection: _r, retryAt: _t, ...rest } = base;
      keep(c, { ...rest, ...(retryAt === undefined ? { rejection: safe.code } : { retryAt }), version: base.version + 1 });
    }
    return reportFailure(rt, c, startedAt, at, safe, retryAt, cause, secrets);
  }

  async function run(c: Credential, input: RefreshInput): Promise<RefreshOutput> {
    const startedAt = clock.now();
    const base = c.record;
    const derivation = c.derived as Derivation;
    const own = (): string[] => [base?.accessToken, c.record?.accessToken].filter((v): v is string => !!v);
    let subject: string;
    try {
      subject = (await parentToken(derivation.from)).accessToken;
    } catch (error) {
      return fail(c, startedAt, parentFailure(error), input.attempt, error, base, own());
    }
    const secrets = [subject, ...own()];
    if (isAbandoned(c, base)) return fail(c, startedAt, { kind: 'transient', code: 'refresh_failed' }, input.attempt, undefined, base, secrets);
    derivation.attempted = subject;
    const exchange = endpoint.tokenExchange?.bind(endpoint);
    if (!exchange) {
      return fail(c, startedAt, { kind: 'permanent', code: 'invalid_config' }, input.attempt, new TypeError('The endpoint has no tokenExchange'), base, secrets);
    }
    const sentAt = clock.now();
    let raw: unknown;
    try {
      raw = await exchange({
        subjectToken: subject,
        subjectTokenType: TOKEN_TYPES.accessToken,
        requestedTokenType: TOKEN_TYPES.accessToken,
        ...(derivation.audience === undefined ? {} : { audience: derivation.audience }),
        ...(derivation.resource === undefined ? {} : { resource: derivation.resource }),
        ...(derivation.scope === undefined ? {} : { scope: derivation.scope }),
      });
    } catch (error) {
      return fail(c, startedAt, classifyFailure(error), input.attempt, error, base, secrets);
    }
    const checked = checkExchangeResponse(raw, sentAt, {
      dpop: endpoint.dpop !== undefined,
      requestedTokenType: TOKEN_TYPES.accessToken,
      usableAsAccessToken: true,
    });
    if (!checked.ok) return fail(c, startedAt, { kind: 'transient', code: checked.error.code }, input.attempt, checked.error, base, secrets);
    if (isAbandoned(c, base)) {
      const at = clock.now();
      return { startedAt, at, token: metaOf(c.record, at) };
    }
    // A refresh token in an exchange response is not kept: the child renews by exchange only, so
    // that its parent's changes (and its logout) reach it (docs/decisions.md).
    const next = recordOf(checked.tokens, derivation, (base?.version ?? 0) + 1);
    keep(c, next);
    if (isExpired(next, clock.now())) {
      const error = new RefreshFailedError('The token endpoint returned an already expired token', { key: c.key });
      return fail(c, startedAt, { kind: 'transient', code: 'invalid_token_response' }, input.attempt, error, next, secrets);
    }
    c.lastFailure = undefined;
    const at = clock.now();
    rt.emit({ type: 'refreshed', key: c.key, at, rotated: false, ...(next.expiresAt === undefined ? {} : { expiresAt: next.expiresAt }) });
    return { startedAt, at, token: metaOf(c.record, at) };
  }

  return { run };
}
