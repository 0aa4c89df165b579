// @ts-check
/**
 * Mutation testing of machines/ (issue 8): `npm run test:mutation`, i.e.
 * `npx stryker run test/mutation/stryker.config.mjs` from the repository root. Not part of `npm test`.
 * Results and the equivalent mutants judged by hand: docs/mutation.md.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
const config = {
  testRunner: 'vitest',
  vitest: {
    configFile: 'test/mutation/vitest.config.ts',
    // Only the tests that import the mutated file (directly or not) run for it.
    related: true,
  },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: [
    'machines/**/*.ts',
    // Re-exports and pure type declarations: nothing to mutate.
    '!machines/index.ts',
    '!machines/lifecycle/types.ts',
    '!machines/manager/api-types.ts',
    '!machines/lifecycle/machine-types.ts',
    '!machines/manager/runtime.ts',
  ],
  coverageAnalysis: 'perTest',
  concurrency: 2,
  // Type errors in mutants are not checked (no typescript checker): such mutants still run, and are killed or not by the tests.
  checkers: [],
  // Several manager tests wait on real (short) timers: leave room for a slower mutant.
  timeoutMS: 10_000,
  timeoutFactor: 2,
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/machines.html' },
  jsonReporter: { fileName: 'reports/mutation/machines.json' },
  thresholds: { high: 90, low: 80, break: null },
  cleanTempDir: 'always',
  // docs/ stays in the sandbox: the diagram test compares the (mutated) machine with docs/machine.md.
  ignorePatterns: ['dist', 'reports', 'bench', 'examples', '.ci', 'coverage', '.stryker-tmp*'],
};
export default config;
