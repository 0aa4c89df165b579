/**
 * Paths through the token machine's model, from `xstate/graph`'s `createTestModel`: the shortest path
 * to every (abstract) state, plus a transition cover: for each distinct (source state, event label,
 * target state) of the adjacency map, the shortest path to the source followed by that transition.
 * Simple paths are not used: the graph is dense (LOADED and UNLOAD leave every state), and
 * `getSimplePaths` did not finish in 4 minutes on this model (63 states, ~1000 edges), nor in 60 s on
 * a reduced one (24 states, 120 edges).
 */
import type { AnyMachineSnapshot, AnyStateMachine } from 'xstate';
import { createTestModel } from 'xstate/graph';
import { tokenMachine } from '../../machines/lifecycle/machine.js';
import { isAfterEvent, type ModelEvent } from './events.js';
import { createModelMachine, isTransient, leafOf, modelInput, serializeModelState } from './machine.js';
import { modelEvents } from './palette.js';

type Step = { readonly state: AnyMachineSnapshot; readonly event: { readonly type: string } };

/** One step of a generated path: the model event (by label) and the leaf states it goes between. */
export interface GeneratedStep {
  readonly label: string;
  readonly type: string;
  readonly from: string;
  readonly to: string;
  /** False for a timer step that lands in a state left at once (nothing can observe it). */
  readonly checked: boolean;
  /** The manager rests in `to` after the step (no zero-delay timer leaves it). */
  readonly rests: boolean;
}

/** A generated path as the driver needs it: event labels and the states the model predicts. */
export interface GeneratedPath {
  readonly name: string;
  readonly steps: readonly GeneratedStep[];
}

export interface ModelPaths {
  readonly machine: AnyStateMachine;
  readonly backgroundRefresh: boolean;
  readonly states: number;
  /** xstate/graph's shortest paths, without the ones that are a prefix of another. */
  readonly shortest: GeneratedPath[];
  /** A transition cover: every (state, event label, target) of the adjacency map, at the end of a shortest path. */
  readonly cover: GeneratedPath[];
  /** The shortest path to every state the manager can rest in (not left at once by a zero-delay timer). */
  readonly toEveryState: GeneratedPath[];
}

function toGenerated(kind: string, steps: readonly Step[]): GeneratedPath {
  const out = steps.slice(1).map((step, i) => ({
    label: (step.event as ModelEvent).label,
    type: step.event.type,
    from: leafOf((steps[i] as Step).state.value),
    to: leafOf(step.state.value),
    // A caller's action shows its target even when a zero-delay timer leaves it; a timer's does not.
    checked: !isAfterEvent(step.event) || !isTransient(step.state),
    rests: !isTransient(step.state),
  }));
  return { name: `${kind}: ${out.map((s) => s.label).join(' → ') || '(initial)'}`, steps: out };
}

export function generatePaths(backgroundRefresh: boolean, source: AnyStateMachine = tokenMachine): ModelPaths {
  const machine = createModelMachine(source);
  const offered = new WeakSet<object>();
  const model = createTestModel(machine, {
    events: (snapshot: AnyMachineSnapshot) => {
      const events = modelEvents(snapshot);
      for (const e of events) offered.add(e);
      return events as never;
    },
    // createTestModel adds a bare `{ type }` for every event type a state handles that the list above
    // lacks (e.g. a timer that is not the next one to fire): never a possible event here.
    filterEvents: (_snapshot: AnyMachineSnapshot, event: object) => offered.has(event),
    serializeState: (snapshot: AnyMachineSnapshot) => serializeModelState(snapshot),
    input: modelInput(backgroundRefresh),
  } as never);

  const shortestPaths = model.getShortestPaths() as Array<{ steps: Step[] }>;
  const toEvery = model.getShortestPaths({ allowDuplicatePaths: true } as never) as Array<{ state: AnyMachineSnapshot; steps: Step[] }>;
  const pathTo = new Map(toEvery.map((p) => [serializeModelState(p.state), p.steps]));
  const adjacency = model.getAdjacencyMap() as Record<string, { state: AnyMachineSnapshot; transitions: Record<string, Step> }>;
  const cover = new Map<string, Step[]>();
  for (const [key, { state, transitions }] of Object.entries(adjacency)) {
    const prefix = pathTo.get(key);
    if (!prefix) throw new Error(`no path to ${key}`);
    for (const next of Object.values(transitions)) {
      const id = `${leafOf(state.value)}|${(next.event as ModelEvent).label}|${leafOf(next.state.value)}`;
      const steps = [...prefix, { state: next.state, event: next.event }];
      const known = cover.get(id);
      if (!known || known.length > steps.length) cover.set(id, steps);
    }
  }
  return {
    machine,
    backgroundRefresh,
    states: Object.keys(adjacency).length,
    shortest: shortestPaths.map((p) => toGenerated('shortest', p.steps)),
    cover: [...cover.values()].map((steps) => toGenerated('transition', steps)),
    toEveryState: toEvery.filter((p) => !isTransient(p.state)).map((p) => toGenerated('state', p.steps)),
  };
}
