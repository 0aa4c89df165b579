import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { and, assign, createMachine, fromPromise, not, or, setup, type AnyStateNode } from 'xstate';
import { describe, expect, it } from 'vitest';
import { DIAGRAM_END, DIAGRAM_START, spliceDiagram, toMermaid } from '../../../machines/lifecycle/diagram.js';
import { tokenMachine } from '../../../machines/lifecycle/machine.js';

const PAGE_PATH = fileURLToPath(new URL('../../../docs/machine.md', import.meta.url));
// Read inside the tests, and only where it exists: Stryker's sandbox leaves docs/ out (its ignorePatterns),
// and a read at load would fail the whole file there, leaving every diagram.ts mutant uncovered.
const hasPage = existsSync(PAGE_PATH);
const readPage = (): string => readFileSync(PAGE_PATH, 'utf8');
// Built inside each test, not at load: per-test coverage (Stryker) then sees which tests run it.
const machineDiagram = (): string => toMermaid(tokenMachine);

function stateNodes(node: AnyStateNode): AnyStateNode[] {
  return Object.values(node.states as Record<string, AnyStateNode>).flatMap((child) => [child, ...stateNodes(child)]);
}

describe('the machine diagram (docs/machine.md)', () => {
  it.skipIf(!hasPage)('is up to date with the machine', () => {
    const page = readPage();
    const diagram = machineDiagram();
    expect(spliceDiagram(page, diagram), 'docs/machine.md is stale: run `npm run docs:diagram`').toBe(page);
  });

  it('mentions every state, and draws every transition including the eventless ones', () => {
    const diagram = machineDiagram();
    const states = stateNodes(tokenMachine.root);
    expect(states.map((s) => s.key)).toEqual(expect.arrayContaining(['idle', 'evaluating', 'valid', 'nearExpiry', 'refreshing', 'degraded', 'retrying', 'rejected', 'expired', 'reauthRequired']));
    for (const state of states) {
      const id = state.path.join('_');
      expect(diagram, state.id).toMatch(new RegExp(`^\\s*(state "${state.key}" as ${id}|state ${id} \\{)$`, 'm'));
    }
    const transitions = [tokenMachine.root, ...states].flatMap((s) => [...[...s.transitions.values()].flat(), ...(s.always ?? [])]);
    const drawn = diagram.split('\n').filter((line) => / --> /.test(line) && !line.includes('[*]'));
    expect(drawn).toHaveLength(transitions.reduce((n, t) => n + (t.target?.length ?? 1), 0));
    for (const line of [
      'root_any_state --> evaluating : LOADED / adoptToken',
      'evaluating --> valid : always',
      'valid --> nearExpiry : after untilRefreshWindow',
      'nearExpiry --> refreshing : after untilRefreshAllowed [mayRefreshInBackground]',
      'refreshing --> evaluating : done / recordRefresh',
      'refreshing --> degraded_rejected : error [isRejectionWhileUsable] / recordFailure',
      'degraded_retrying --> degraded_expired : after untilExpiry',
    ]) {
      expect(diagram).toContain(`  ${line}\n`);
    }
  });

  it.skipIf(!hasPage)('has a legend explaining every named guard, delay, action and actor', () => {
    const page = readPage();
    const legend = page.slice(page.indexOf(DIAGRAM_END));
    const { guards, delays, actions, actors } = tokenMachine.implementations;
    for (const name of [...Object.keys(guards), ...Object.keys(delays), ...Object.keys(actions), ...Object.keys(actors)]) {
      expect(legend, `explain \`${name}\` in the legend of docs/machine.md`).toContain(`\`${name}\``);
    }
  });

  it('detects a stale page, and keeps the prose around the markers', () => {
    const diagram = machineDiagram();
    const page = spliceDiagram(`intro\n${DIAGRAM_START}\n${DIAGRAM_END}\noutro\n`, diagram);
    const stale = page.replace('evaluating --> valid : always\n', '');
    expect(stale).not.toBe(page);
    expect(spliceDiagram(stale, diagram)).toBe(page);
    expect(spliceDiagram(`intro\n${DIAGRAM_START}\nold\n${DIAGRAM_END}\noutro\n`, 'stateDiagram-v2\n')).toBe(
      `intro\n${DIAGRAM_START}\n\n\`\`\`mermaid\nstateDiagram-v2\n\`\`\`\n\n${DIAGRAM_END}\noutro\n`,
    );
    expect(() => spliceDiagram('no markers', diagram)).toThrow(/markers/);
  });

  it('renders numeric delays, final states, nested compounds, self-loops and inline guards', () => {
    const machine = setup({ guards: { ok: () => true } }).createMachine({
      id: 'demo',
      initial: 'a',
      states: {
        a: { after: { 1000: 'b' }, on: { PING: { target: 'a', reenter: true }, 'we;ird:': { guard: 'ok', target: 'c' } } },
        b: {
          initial: 'x',
          states: { x: { on: { GO: 'y' } }, y: { type: 'final' } },
          onDone: 'c',
        },
        c: { type: 'final' },
      },
    });
    const text = toMermaid(machine);
    expect(text).toContain('  a --> b : after 1000\n');
    expect(text).toContain('  a --> a : PING\n');
    expect(text).toContain('  a --> c : we ird [ok]\n');
    expect(text).toContain('  state b {\n    [*] --> b_x\n');
    expect(text).toContain('    b_x --> b_y : GO\n');
    expect(text).toContain('    b_y --> [*]\n');
    expect(text).toContain('  b --> c : done\n');
    expect(text).toContain('  c --> [*]\n');
    const inline = toMermaid(createMachine({ initial: 'p', states: { p: { on: { E: { guard: () => true, target: 'q' } } }, q: {} } }));
    expect(inline).toContain('p --> q : E [inline]');
  });

  it('draws the root pseudo-state and the invoked actor of the token machine', () => {
    const diagram = machineDiagram();
    expect(diagram).toContain('  state "any state" as root_any_state\n');
    expect(diagram).toContain('  root_any_state --> idle : UNLOAD / forgetToken\n');
    expect(diagram).toContain('  refreshing : invoke refreshTokens\n');
    expect(diagram.match(/ : invoke/g)).toHaveLength(1);
  });

  it('names guard combinators, wildcard events and inline actors', () => {
    const machine = setup({
      guards: { a: () => true, b: () => true },
      actors: { job: fromPromise(async () => 1) },
    }).createMachine({
      initial: 'p',
      states: {
        p: {
          invoke: [{ src: 'job' }, { src: fromPromise(async () => 2) }],
          on: {
            ALL: { guard: and(['a', or(['b', not('a')])]), target: 'q' },
            '*': 'q',
          },
        },
        q: {},
      },
    });
    const text = toMermaid(machine);
    expect(text).toContain('  p --> q : ALL [and(a, or(b, not(a)))]\n');
    expect(text).toContain('  p --> q : any event\n');
    expect(text).toContain('  p : invoke job, inline\n');
    expect(text).not.toContain('root_any_state');
  });

  it('names inline and object actions, draws targetless eventless transitions and nested self-loops in place', () => {
    const machine = setup({ actions: { named: () => {} } }).createMachine({
      context: { n: 0 },
      initial: 'outer',
      states: {
        outer: {
          initial: 'in-ner',
          states: {
            'in-ner': {
              always: { guard: ({ context }) => context.n > 1, actions: assign({ n: 0 }) },
              on: { TICK: { target: 'in-ner', reenter: true, actions: [assign({ n: ({ context }) => context.n + 1 }), { type: 'named' }] } },
            },
          },
        },
      },
    });
    const text = toMermaid(machine);
    expect(text).toContain('  state outer {\n    [*] --> outer_in_ner\n    state "in-ner" as outer_in_ner\n');
    expect(text).toContain('    outer_in_ner --> outer_in_ner : always [inline] / assign\n');
    expect(text).toContain('    outer_in_ner --> outer_in_ner : TICK / assign, named\n');
  });
});
