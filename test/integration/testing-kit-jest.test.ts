/**
 * token-lifecycle/testing runs under jest: a real jest process (native ESM, `--experimental-vm-modules`,
 * no transform) on test/fixtures/jest/testing-kit.jest.mjs, which imports the kit from the built
 * package (package.json `exports`, dist/) and the example account panel from dist/examples/testing.
 * It drives every default path to its target, and the panel through every path to degraded and
 * reauthRequired; with the broken panel of examples/testing/app.test.ts, exactly the paths to
 * degraded (expired) fail. Needs a built dist/ (`npm ci` or `npm run build`).
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lifecyclePaths } from '../../testing/index.js';

const root = resolve(import.meta.dirname, '../..');

interface JestAssertion {
  readonly ancestorTitles: string[];
  readonly title: string;
  readonly status: string;
}
interface JestReport {
  readonly success: boolean;
  readonly numTotalTests: number;
  readonly numPassedTests: number;
  readonly numFailedTests: number;
  readonly numPendingTests: number;
  readonly numRuntimeErrorTestSuites: number;
  readonly testResults: { readonly assertionResults: JestAssertion[] }[];
}

/** Runs jest on the fixture and resolves to its `--json` report and exit code. */
function runJest(env: Record<string, string> = {}): Promise<{ report: JestReport; status: number | null; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js', '--config', 'test/fixtures/jest/jest.config.mjs', '--json'],
      { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      try {
        resolvePromise({ report: JSON.parse(stdout) as JestReport, status, stderr });
      } catch (error) {
        reject(new Error(`jest printed no JSON report (exit ${status}):\n${stderr.slice(-2_000)}`, { cause: error }));
      }
    });
  });
}

const allPaths = lifecyclePaths();
const panelPaths = lifecyclePaths({ targets: ['degraded', 'reauthRequired'] });

// The two jest processes run side by side (each about 3 s on an idle machine; 10 s and more at a
// load average of 20, hence the timeouts).
describe.concurrent('the testing kit under jest', () => {
  it('runs every default path to its target and the example panel through every path to degraded and reauthRequired, all passing', async () => {
    const { report, status, stderr } = await runJest();
    expect(report.numRuntimeErrorTestSuites, stderr).toBe(0);
    expect(report.numTotalTests).toBe(allPaths.length + panelPaths.length);
    expect(report.numPassedTests).toBe(allPaths.length + panelPaths.length);
    expect(report.numFailedTests).toBe(0);
    expect(report.numPendingTests).toBe(0);
    expect(report.success).toBe(true);
    expect(status).toBe(0);
  }, 60_000);

  it('fails exactly the paths to degraded (expired) when the panel signs the user out on any token error', async () => {
    const { report, status, stderr } = await runJest({ TESTING_KIT_BROKEN_PANEL: '1' });
    expect(report.numRuntimeErrorTestSuites, stderr).toBe(0);
    const expired = panelPaths.filter((p) => p.target.state === 'degraded' && p.target.detail === 'expired');
    expect(expired.length).toBeGreaterThan(0);
    const failed = report.testResults.flatMap((r) => r.assertionResults).filter((a) => a.status !== 'passed');
    expect(failed.map((a) => a.title).sort()).toEqual(expired.map((p) => p.name).sort());
    expect(report.numPassedTests).toBe(allPaths.length + panelPaths.length - expired.length);
    expect(status).toBe(1);
  }, 60_000);
});
