/**
 * Manager bugs the generated paths found (machines/* is the lead's). The paths that take an exposing
 * step run as `it.fails` until the manager is fixed; then they pass, `it.fails` fails, and the
 * entry goes.
 */
import type { LifecyclePath, LifecyclePathStep } from '../../testing/index.js';

// Both bugs the generated paths found are fixed (a passed retry moment now re-evaluates with
// backgroundRefresh off; an abandoned refresh's failure is no longer stamped on a newer record).
export const KNOWN_BUGS: ReadonlyArray<{ readonly id: string; readonly exposedBy: (step: LifecyclePathStep) => boolean }> = [];

export function knownBugOf(path: LifecyclePath): string | undefined {
  return KNOWN_BUGS.find((bug) => path.steps.some(bug.exposedBy))?.id;
}
