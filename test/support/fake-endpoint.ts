/**
 * A scripted token endpoint for unit tests of the manager (never the only proof: the integration
 * tests use a real oidc-provider). Each refresh issues numbered tokens and rotates the refresh token;
 * `next` queues one-off behaviours, `hold()` keeps the next response pending until released.
 */
import type { RefreshRequestOptions, TokenEndpoint } from '../../machines/lifecycle/types.js';

type Step =
  | { kind: 'ok'; body?: Record<string, unknown> }
  | { kind: 'throw'; error: unknown }
  | { kind: 'hold' }
  /**
   * The server answers (and rotates) too late: the caller is told `error` (a timeout), and the answer
   * goes to the caller's `lateAnswer`, delivered by `deliverLate()` (R4).
   */
  | { kind: 'late'; error: unknown };

export interface ScriptedEndpoint extends TokenEndpoint {
  /** Refresh tokens received, in order. */
  readonly received: Array<string | undefined>;
  /** The refresh token the server would accept next (the newest issued). */
  current: string | undefined;
  expiresIn: number | undefined;
  rotate: boolean;
  next(step: Step): void;
  /** Releases held responses, in order. */
  release(): void;
  /** Delivers the late answers of `late` steps: their bodies (with `changes`), or nothing (`lost`). */
  deliverLate(lost?: boolean, changes?: Record<string, unknown>): void;
  readonly held: number;
  revoked: string[];
}

export function scriptedEndpoint(options: { expiresIn?: number; initialRefreshToken?: string; canRenewWithoutRefreshToken?: boolean } = {}): ScriptedEndpoint {
  let issued = 0;
  const queue: Step[] = [];
  const waiting: Array<() => void> = [];
  const late: Array<(lost: boolean, changes: Record<string, unknown>) => void> = [];
  function issue(step: Step): Record<string, unknown> {
    issued++;
    const body: Record<string, unknown> = { access_token: `at-${issued}`, token_type: 'Bearer' };
    if (endpoint.expiresIn !== undefined) body.expires_in = endpoint.expiresIn;
    if (endpoint.rotate && !options.canRenewWithoutRefreshToken) {
      endpoint.current = `rt-${issued}`;
      body.refresh_token = endpoint.current;
    }
    return { ...body, ...(step.kind === 'ok' ? (step.body ?? {}) : {}) };
  }
  const endpoint: ScriptedEndpoint = {
    received: [],
    revoked: [],
    current: options.initialRefreshToken ?? 'rt-0',
    expiresIn: 'expiresIn' in options ? options.expiresIn : 3600,
    rotate: true,
    ...(options.canRenewWithoutRefreshToken ? { canRenewWithoutRefreshToken: true } : {}),
    get held() {
      return waiting.length;
    },
    next(step) {
      queue.push(step);
    },
    release() {
      for (const wake of waiting.splice(0)) wake();
    },
    deliverLate(lost = false, changes = {}) {
      for (const deliver of late.splice(0)) deliver(lost, changes);
    },
    async refresh(refreshToken, requestOptions?: RefreshRequestOptions) {
      endpoint.received.push(refreshToken);
      let step = queue.shift() ?? { kind: 'ok' };
      if (step.kind === 'hold') {
        await new Promise<void>((resolve) => waiting.push(resolve));
        step = queue.shift() ?? { kind: 'ok' };
      }
      if (step.kind === 'throw') throw step.error;
      if (step.kind === 'late') {
        const body = issue(step);
        const answer = new Promise<unknown>((resolve) => late.push((lost, changes) => resolve(lost ? undefined : { ...body, ...changes })));
        requestOptions?.lateAnswer?.(answer);
        throw step.error;
      }
      return issue(step);
    },
    async revoke(token) {
      endpoint.revoked.push(token);
    },
  };
  return endpoint;
}

/** Lets pending promise chains run (not a time delay: the clock is simulated). */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Advances a SimulatedClock and lets the consequences run: timers that fall due while advancing can
 * arm zero-delay follow-ups (as real setTimeout(0) would fire soon after), so flush those too.
 */
export async function advance(clock: { increment(ms: number): void }, ms: number): Promise<void> {
  clock.increment(ms);
  for (let i = 0; i < 5; i++) {
    await settle();
    clock.increment(0);
  }
  await settle();
}
