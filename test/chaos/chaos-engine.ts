/**
 * Drives a real manager through a sequence of actions in a ChaosServer world and checks the
 * invariants of issue 8 after every step:
 * - never returns an expired or empty token;
 * - never more than one refresh in flight per credential (the server counts);
 * - never sends a spent or rejected refresh token, and the refresh token handed out is the newest
 *   the server issued (unless the server rejected the grant);
 * - storage never goes backwards;
 * - reauth_required only per R6 (grant rejected, or no refresh token and expired);
 * - no token value in any event, error message or status.
 */
import { SimulatedClock } from 'xstate';
import { createTokenManager } from '../../machines/manager/manager.js';
import { TokenLifecycleError } from '../../machines/lifecycle/errors.js';
import type { TokenEvent, TokenManager } from '../../machines/manager/api-types.js';
import type { TokenSet } from '../../machines/lifecycle/types.js';
import { ChaosServer, chaosStorage, findLeak, type Fault } from './chaos-world.js';

export type ChaosAction =
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'getToken'; readonly key: string }
  | { readonly kind: 'refresh'; readonly key: string }
  | { readonly kind: 'login'; readonly key: string; readonly withRefreshToken: boolean; readonly expiresIn: number }
  | { readonly kind: 'remove'; readonly key: string }
  | { readonly kind: 'fault'; readonly fault: Fault }
  | { readonly kind: 'storage'; readonly failWrites: boolean }
  /** The shared store loses a record (a Redis restarted without persistence). */
  | { readonly kind: 'wipe'; readonly key: string }
  | { readonly kind: 'restart' }
  /**
   * R15 and R7: a forced refresh is held by a slow server while the manager stops (its bounded wait
   * runs out) and a new manager starts over the same storage; then the server answers. The old
   * manager must still write the rotated tokens, and the new one adopt them.
   */
  | { readonly kind: 'stopMidRefresh'; readonly key: string };

export interface ChaosResult {
  steps: number;
  faults: Map<string, number>;
  refreshes: number;
  violations: string[];
}

const ALLOWED_CODES = new Set(['reauth_required', 'refresh_failed', 'not_found', 'storage_failed', 'refresh_token_missing', 'invalid_token_response']);

async function settle(rounds = 12): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Runs `actions` in a fresh world; returns what was observed. */
export async function runChaos(
  actions: readonly ChaosAction[],
  options: { sabotage?: 'keep-first-refresh-token' | 'fail-late-write' } = {},
): Promise<ChaosResult> {
  const clock = new SimulatedClock();
  clock.set(1_700_000_000_000);
  const server = new ChaosServer(clock);
  const { storage, control, inner } = chaosStorage(clock, options.sabotage === 'keep-first-refresh-token' ? { sabotage: options.sabotage } : {});
  const violations: string[] = [];
  const events: TokenEvent[] = [];
  const loggedInWithoutRefresh = new Set<string>();
  const storageFaults = { count: 0 };
  const stopsMidRefresh = { count: 0 };

  const make = (): TokenManager => {
    const m = createTokenManager({
      endpoint: server,
      storage,
      clock,
      minRefreshInterval: '1s',
      retry: { minDelay: '1s', maxDelay: '1m' },
      // Real time (stop's bound is a real wait): short, so a held refresh outlives it.
      stopTimeout: '20ms',
    });
    m.subscribe((e) => events.push(e));
    return m;
  };
  let manager = make();

  const checkToken = (key: string, token: TokenSet): void => {
    const now = clock.now();
    if (!token.accessToken) violations.push(`${key}: empty access token returned`);
    if (token.expiresAt !== undefined && now >= token.expiresAt) violations.push(`${key}: expired token returned`);
    const rt = token.refreshToken;
    if (rt !== undefined && !server.isRevoked(rt) && !server.accepts(rt)) violations.push(`${key}: the refresh token held is not the newest issued`);
  };

  const checkError = (key: string, error: unknown): void => {
    if (!(error instanceof TokenLifecycleError)) {
      violations.push(`${key}: untyped error ${String(error)}`);
      return;
    }
    if (!ALLOWED_CODES.has(error.code)) violations.push(`${key}: unexpected error code ${error.code}`);
    const leak = findLeak(`${error.message} ${error.description ?? ''} ${JSON.stringify(error)}`);
    if (leak) violations.push(`${key}: token value in an error`);
    if (error.code === 'reauth_required') {
      const status = manager.status(key);
      const allowed = status.reason === 'invalid_grant' || (loggedInWithoutRefresh.has(key) && status.reason === 'refresh_token_missing');
      if (!allowed) violations.push(`${key}: reauth_required without cause (${status.reason})`);
    }
  };

  const withDeadline = async <T>(promise: Promise<T>, what: string): Promise<T | undefined> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<'hung'>((resolve) => {
      timer = setTimeout(() => resolve('hung'), 2_000);
    });
    const outcome = await Promise.race([promise.then((value) => ({ value })), deadline]);
    clearTimeout(timer);
    if (outcome === 'hung') {
      violations.push(`${what} never settled`);
      return undefined;
    }
    return outcome.value;
  };

  let steps = 0;
  for (const action of actions) {
    steps++;
    switch (action.kind) {
      case 'advance':
        clock.increment(action.ms);
        await settle();
        clock.increment(0);
        break;
      case 'getToken':
        await withDeadline(
          manager.getToken(action.key).then(
            (token) => checkToken(action.key, token),
            (error: unknown) => checkError(action.key, error),
          ),
          'getToken',
        );
        break;
      case 'refresh':
        await withDeadline(
          manager.refresh(action.key).then(
            (token) => checkToken(action.key, token),
            (error: unknown) => {
              // A forced refresh also rejects with the server's own codes.
              if (!(error instanceof TokenLifecycleError)) violations.push(`${action.key}: untyped refresh error`);
              else if (findLeak(error.message)) violations.push(`${action.key}: token value in a refresh error`);
            },
          ),
          'refresh',
        );
        break;
      case 'login': {
        const body = server.login(action.withRefreshToken, action.expiresIn);
        await withDeadline(
          manager.setToken(action.key, body).then(() => {
            if (action.withRefreshToken) loggedInWithoutRefresh.delete(action.key);
            else loggedInWithoutRefresh.add(action.key);
          }, (error: unknown) => {
            if (!(error instanceof TokenLifecycleError) || error.code !== 'storage_failed') violations.push(`login failed: ${String(error)}`);
          }),
          'setToken',
        );
        break;
      }
      case 'remove':
        await withDeadline(
          manager.remove(action.key, { revoke: false }).catch((error: unknown) => {
            if (!(error instanceof TokenLifecycleError) || error.code !== 'storage_failed') violations.push(`remove failed: ${String(error)}`);
          }),
          'remove',
        );
        break;
      case 'fault':
        server.inject(action.fault);
        break;
      case 'storage':
        if (action.failWrites && !control.failWrites) storageFaults.count++;
        control.failWrites = action.failWrites;
        break;
      case 'wipe':
        await inner.delete(action.key);
        control.lastVersion.delete(action.key);
        break;
      case 'stopMidRefresh': {
        control.failWrites = false;
        server.holdNext();
        const heldBefore = server.held;
        const inflight = manager.refresh(action.key).catch(() => undefined);
        await settle();
        const stopped = await withDeadline(manager.stop().then(() => 'ok' as const, (error: unknown) => error), 'stop');
        if (stopped !== 'ok' && stopped !== undefined) violations.push(`stop failed with healthy storage: ${String(stopped)}`);
        manager = make();
        await withDeadline(manager.start(), 'start');
        // A deliberately broken store for the late write, to prove the checks catch its loss.
        if (options.sabotage === 'fail-late-write') control.failWrites = true;
        server.release();
        await withDeadline(inflight, 'the held refresh');
        await settle();
        control.failWrites = false;
        if (server.held > heldBefore) stopsMidRefresh.count++;
        break;
      }
      case 'restart': {
        control.failWrites = false;
        await settle();
        const stopped = await withDeadline(manager.stop().then(() => 'ok' as const, (error: unknown) => error), 'stop');
        if (stopped !== 'ok' && stopped !== undefined) violations.push(`stop failed with healthy storage: ${String(stopped)}`);
        manager = make();
        await withDeadline(manager.start(), 'start');
        break;
      }
    }
    await settle();
    for (const key of ['a', 'b']) {
      const status = manager.status(key);
      if (findLeak(JSON.stringify(status))) violations.push(`${key}: token value in status`);
    }
  }
  control.failWrites = false;
  await manager.stop().catch((error: unknown) => violations.push(`final stop failed: ${String(error)}`));
  if (findLeak(JSON.stringify(events))) violations.push('token value in an event');
  violations.push(...server.violations, ...control.violations);
  const faults = new Map<string, number>(server.faultCounts);
  if (storageFaults.count > 0) faults.set('storage_write', storageFaults.count);
  if (stopsMidRefresh.count > 0) faults.set('stop_mid_refresh', stopsMidRefresh.count);
  return { steps, faults, refreshes: server.refreshes, violations };
}
