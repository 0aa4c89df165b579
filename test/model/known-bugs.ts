/**
 * Manager bugs the generated paths found (machines/* is the lead's). The paths that take an exposing
 * step run as `it.fails` until the manager is fixed; then they pass, `it.fails` fails, and the
 * entry goes.
 */
import type { GeneratedPath } from './manager-driver.js';

type PathStep = GeneratedPath['steps'][number];

export const KNOWN_BUGS: ReadonlyArray<{ readonly id: string; readonly exposedBy: (step: PathStep) => boolean }> = [
  {
    // backgroundRefresh off, degraded.retrying after a failed *forced* refresh (token outside its
    // refresh window): once the retry moment has passed, getToken() sends the machine nothing
    // (shouldAskMachine: usable, no refresh due), so the state stays degraded.retrying with a past
    // retryAt until the window opens. The machine, given the REFRESH, re-evaluates to valid.
    id: 'retrying-lingers-after-retry-moment',
    exposedBy: (s) => s.from === 'degraded.retrying' && s.label.startsWith('REFRESH@') && s.to === 'valid',
  },
  {
    // setToken() while a refresh is in flight; the abandoned request then fails. refresh-runner's
    // failWith() takes the *current* record (the new login's) as base and its version as
    // baseVersion, so the failure is written onto the new tokens: `rejection: invalid_grant`
    // (degraded.rejected, then reauthRequired at expiry; persisted, so a restart agrees, R14) or a
    // retryAt (degraded.retrying). The new refresh token was never rejected.
    id: 'abandoned-refresh-failure-stamps-new-tokens',
    exposedBy: (s) => s.from === 'refreshing' && s.type === 'LOADED' && !s.label.endsWith('|stale:ok'),
  },
];

export function knownBugOf(path: GeneratedPath): string | undefined {
  return KNOWN_BUGS.find((bug) => path.steps.some(bug.exposedBy))?.id;
}
