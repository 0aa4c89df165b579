/**
 * The vitest configuration Stryker runs (see stryker.config.mjs): the fast tests that exercise
 * machines/ (unit, model-based, the bounded chaos run), not the integration tests (real servers,
 * child processes: seconds each, and they reach machines/ only through the adapters).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The repository root (in Stryker's sandbox, the sandbox copy of it).
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/unit/**/*.test.ts', 'test/model/**/*.test.ts', 'test/chaos/**/*.test.ts'],
    // Scratch files (`_*.test.ts`) are experiments, not part of the suite.
    exclude: ['**/node_modules/**', 'test/**/_*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // A fixed seed and a smaller bounded chaos run: the same mutant meets the same sequences each time.
    env: { CHAOS_SEED: '8', CHAOS_RUNS: '60' },
  },
});
