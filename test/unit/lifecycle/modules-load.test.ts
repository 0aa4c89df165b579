/**
 * Every module of machines/ loads and builds what it exports at load time (the machine, defaults).
 * Trivial in a normal run. Under mutation testing it is what kills the static mutants that break
 * loading (say, a machine config that no longer resolves): Stryker's vitest runner counts a test
 * file that fails to import as a file with no tests, so such a mutant would "survive"
 * (stryker-js#6150). Here the imports are dynamic, inside tests, so a failed load is a failed test.
 */
import { describe, expect, it } from 'vitest';

// Literal specifiers: the module graph (vitest `related`) sees them.
const modules: Record<string, () => Promise<Record<string, unknown>>> = {
  backoff: () => import('../../../machines/lifecycle/backoff.js'),
  classify: () => import('../../../machines/lifecycle/classify.js'),
  clock: () => import('../../../machines/lifecycle/clock.js'),
  credential: () => import('../../../machines/manager/credential.js'),
  diagram: () => import('../../../machines/lifecycle/diagram.js'),
  duration: () => import('../../../machines/lifecycle/duration.js'),
  errors: () => import('../../../machines/lifecycle/errors.js'),
  index: () => import('../../../machines/index.js'),
  'machine-rules': () => import('../../../machines/lifecycle/machine-rules.js'),
  machine: () => import('../../../machines/lifecycle/machine.js'),
  'manager-options': () => import('../../../machines/manager/options.js'),
  manager: () => import('../../../machines/manager/manager.js'),
  'memory-storage': () => import('../../../machines/manager/memory-storage.js'),
  persistence: () => import('../../../machines/manager/persistence.js'),
  'refresh-policy': () => import('../../../machines/lifecycle/refresh-policy.js'),
  'refresh-runner': () => import('../../../machines/manager/refresh-runner.js'),
  'token-response': () => import('../../../machines/lifecycle/token-response.js'),
  'wake-wheel': () => import('../../../machines/manager/wake-wheel.js'),
  'actors': () => import('../../../machines/manager/actors.js'),
  'events': () => import('../../../machines/manager/events.js'),
  'waiting': () => import('../../../machines/manager/waiting.js'),
  'loading': () => import('../../../machines/manager/loading.js'),
  'serving': () => import('../../../machines/manager/serving.js'),
  'forced-refresh': () => import('../../../machines/manager/forced-refresh.js'),
  'set-and-remove': () => import('../../../machines/manager/set-and-remove.js'),
  'status': () => import('../../../machines/manager/status.js'),
  'start-stop': () => import('../../../machines/manager/start-stop.js'),
};

describe('machines/ modules load', () => {
  it.each(Object.keys(modules))('%s', async (name) => {
    const loaded = await (modules[name] as () => Promise<Record<string, unknown>>)();
    expect(Object.keys(loaded).length).toBeGreaterThan(0);
  });

  it('the machine is built with its id, initial state and every state', async () => {
    const { tokenMachine } = await import('../../../machines/lifecycle/machine.js');
    expect(tokenMachine.id).toBe('token');
    expect(tokenMachine.config.initial).toBe('idle');
    expect(Object.keys(tokenMachine.states).sort()).toEqual(
      ['degraded', 'evaluating', 'idle', 'nearExpiry', 'reauthRequired', 'refreshing', 'valid'].sort(),
    );
    expect(Object.keys(tokenMachine.states.degraded?.states ?? {}).sort()).toEqual(['expired', 'rejected', 'retrying']);
  });
});
