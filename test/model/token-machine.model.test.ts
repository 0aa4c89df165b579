/**
 * Model-based tests (DESIGN §2 "test/ ... model-based (xstate/graph)"), through the testing kit our
 * users get (`token-lifecycle/testing`): paths generated from `tokenMachine` by `createTestModel`
 * drive the real manager, which must show the model's state at every step (status state/detail,
 * requests in flight, the refresh token sent, getToken's answer); `path.run()` rejects otherwise.
 * See testing/model/machine.ts for how the model is derived and testing/model/paths.ts for the paths.
 */
import { describe, expect, it } from 'vitest';
import { tokenMachine } from '../../machines/lifecycle/machine.js';
import { LifecyclePathError, lifecyclePaths, type LifecyclePath } from '../../testing/index.js';
import { TIMERS } from '../../testing/model/machine.js';
import { knownBugOf } from './known-bugs.js';

/** Every state the manager can rest in, and every transition of the machine, for both settings. */
const models = [true, false].map((backgroundRefresh) => ({
  backgroundRefresh,
  paths: [...lifecyclePaths({ backgroundRefresh }), ...lifecyclePaths({ backgroundRefresh, cover: 'transitions' })],
}));
console.log(
  `token machine model: ${[true, false]
    .map((b) => `backgroundRefresh ${String(b)}: ${lifecyclePaths({ backgroundRefresh: b }).length} state + ${lifecyclePaths({ backgroundRefresh: b, cover: 'transitions' }).length} transition paths`)
    .join('; ')}`,
);

/**
 * Transitions the manager cannot take, with the reason. Each entry is `<state>|<event type>`.
 * Empty: every transition of the model is reached through the manager. One is reached through a side
 * door: the manager never sends CHECK itself (nothing in machines/manager/manager.ts does), so the driver
 * sends it to the credential's actor, which the manager exposes as `manager.actor(key)`.
 */
const UNREACHABLE: Readonly<Record<string, string>> = {};

/** `evaluating` is left by `always` transitions in the same macrostep: no snapshot ever rests there. */
const TRANSIENT_STATES = new Set(['evaluating']);

function leafStates(): string[] {
  const out: string[] = [];
  const walk = (states: Record<string, { states?: Record<string, unknown> }> | undefined, prefix: string): void => {
    for (const [name, node] of Object.entries(states ?? {})) {
      const path = prefix ? `${prefix}.${name}` : name;
      out.push(path);
      walk(node.states as never, path);
    }
  };
  walk(tokenMachine.config.states as never, '');
  return out;
}

/** Every (leaf state, event type) the machine handles, read from its config (root `on` applies everywhere). */
function definedTransitions(): string[] {
  type Node = { on?: Record<string, unknown>; states?: Record<string, Node> };
  const out: string[] = [];
  const walk = (node: Node, path: string[], inherited: string[]): void => {
    const events = [...inherited, ...Object.keys(node.on ?? {})];
    const children = Object.entries(node.states ?? {});
    if (children.length === 0) {
      const leaf = path.join('.');
      if (TRANSIENT_STATES.has(leaf)) return;
      const timers = (TIMERS.get(leaf) ?? []).map((t) => t.type);
      const invoked = leaf === 'refreshing' ? ['xstate.done.actor.refresh', 'xstate.error.actor.refresh'] : [];
      for (const type of [...events, ...timers, ...invoked]) out.push(`${leaf}|${type}`);
      return;
    }
    for (const [name, child] of children) walk(child, [...path, name], events);
  };
  walk(tokenMachine.config as unknown as Node, [], []);
  return out.sort();
}

/** Runs a path on a fresh harness; the mismatch it found, if any. */
async function mismatchOf(path: LifecyclePath): Promise<string | undefined> {
  try {
    const harness = await path.run();
    await harness.dispose();
    return undefined;
  } catch (error) {
    if (error instanceof LifecyclePathError) return error.message;
    throw error;
  }
}

for (const model of models) {
  describe(`generated paths, backgroundRefresh ${String(model.backgroundRefresh)}`, () => {
    for (const path of model.paths) {
      const bug = knownBugOf(path);
      const test = bug ? it.fails : it;
      test(`${bug ? `[known bug ${bug}] ` : ''}${path.name}`, async () => {
        expect(await mismatchOf(path)).toBeUndefined();
      });
    }
  });
}

describe('coverage of the generated paths', () => {
  // Only paths that run to their end against the manager count (a known bug stops a path early).
  const steps = models.flatMap((m) => m.paths.filter((p) => !knownBugOf(p)).flatMap((p) => p.steps));

  it('reaches every state and sub-state, each checked against the manager', () => {
    const seen = new Set<string>();
    for (const step of steps.filter((s) => s.rests)) {
      const parts = step.to.split('.');
      for (let i = 1; i <= parts.length; i++) seen.add(parts.slice(0, i).join('.'));
    }
    const expected = leafStates().filter((s) => !TRANSIENT_STATES.has(s));
    expect(expected.filter((s) => !seen.has(s))).toEqual([]);
  });

  it('takes every transition (source state + event type) of the model', () => {
    const taken = new Set(steps.map((s) => `${s.from}|${s.event}`));
    expect(taken.has('valid|WAIT')).toBe(true); // the model-only event is generated too
    const missing = definedTransitions().filter((t) => !taken.has(t) && !(t in UNREACHABLE));
    expect(missing).toEqual([]);
    // An exclusion that is covered after all is stale.
    expect(Object.keys(UNREACHABLE).filter((t) => taken.has(t))).toEqual([]);
  });
});

describe('the generated tests can fail', () => {
  it('detects a broken guard', async () => {
    // The model side only: a machine that never sees a refresh as needed. The manager is unchanged.
    const machine = tokenMachine.provide({ guards: { isRefreshNeeded: () => false } });
    // Paths that expose a known manager bug mismatch anyway: they prove nothing here.
    const paths = [...lifecyclePaths({ machine }), ...lifecyclePaths({ machine, cover: 'transitions' })].filter((path) => !knownBugOf(path));
    let mismatches = 0;
    for (const path of paths) if (await mismatchOf(path)) mismatches++;
    expect(mismatches).toBeGreaterThan(0);
  });
});
