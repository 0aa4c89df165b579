/**
 * token-lifecycle/testing runs under node:test: `node --test` on a small file that imports the kit
 * from the built package (package.json `exports`, dist/) and drives the generated paths that end in
 * degraded and reauthRequired. Needs a built dist/ (`npm ci` or `npm run build`).
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lifecyclePaths } from '../../testing/index.js';

const root = resolve(import.meta.dirname, '../..');

describe('the testing kit under node:test', () => {
  it('runs the generated paths to degraded and reauthRequired, every one passing', () => {
    const run = spawnSync(process.execPath, ['--test', '--test-reporter=tap', 'test/fixtures/testing-kit.node-test.mjs'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const expected = lifecyclePaths({ targets: ['degraded', 'reauthRequired'] }).length;
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(new RegExp(`^# pass ${expected}$`, 'm'));
    expect(run.stdout).toMatch(/^# fail 0$/m);
    expect(run.status).toBe(0);
    expect(expected).toBeGreaterThan(0);
  });
});
