/**
 * `lifecyclePaths()`: ways to put a real manager into each lifecycle state, generated from the
 * lifecycle machine itself with `xstate/graph` (see model/), each by events that can really happen
 * (setToken, getToken, refresh, remove, time passing, the endpoint's answers, another process's
 * write). `path.run()` drives a harness through one and checks the manager at every step.
 */
import type { AnyStateMachine } from 'xstate';
import { tokenMachine, type TokenMachine } from '../machines/lifecycle/machine.js';
import type { TokenManager, TokenManagerOptions, TokenState, TokenStateDetail } from '../index.js';
import { describeStates, describeStep } from './describe.js';
import { drivePath } from './driver.js';
import { lifecycleHarness, type LifecycleHarness } from './harness.js';
import { generatePaths, type GeneratedPath, type ModelPaths } from './model/paths.js';

/** A state a path can end in: a top-level state, or `degraded` with its sub-state. */
export type LifecycleTarget = Exclude<TokenState, 'degraded'> | `degraded.${TokenStateDetail}`;

export interface LifecyclePathStep {
  /** What happens, in words (`getToken() at the refresh moment`, `the refresh fails (503), retry in 30 s`). */
  readonly description: string;
  /** The step's stable label in the model (`REFRESH@refreshAt`, `error:transient@now:retry@+30s`). */
  readonly label: string;
  /** The machine event it amounts to (`LOADED`, `REFRESH`, `xstate.after.untilExpiry.token.valid`, ...). */
  readonly event: string;
  readonly from: LifecycleTarget;
  readonly to: LifecycleTarget;
  /**
   * True when the manager rests in `to` after the step (`onStep` is called); false when it only
   * passes through it (a zero-delay timer leaves it at once, as `nearExpiry` when the refresh
   * window opens with background refresh on).
   */
  readonly rests: boolean;
}

export interface LifecyclePathRunOptions {
  /** The key to drive when `run` makes the harness (default `'default'`). */
  readonly key?: string;
  /** Called after every step the manager rests in, with the state it is in: assert the app there. */
  readonly onStep?: (step: LifecyclePathStep, harness: LifecycleHarness) => void | Promise<void>;
}

export interface LifecyclePath {
  /** Unique: the states, then the steps (a test title). */
  readonly name: string;
  /** The states it goes through, passing ones too: `valid → nearExpiry → refreshing → degraded (retrying)`. */
  readonly description: string;
  /** Where it ends (the manager's `status().state` and `.detail` there). */
  readonly target: { readonly state: TokenState; readonly detail?: TokenStateDetail };
  readonly steps: readonly LifecyclePathStep[];
  readonly backgroundRefresh: boolean;
  /**
   * Drives a fresh harness through the steps and resolves to it, its manager in the target state
   * (a request in flight when the target is `refreshing`: `harness.endpoint.answer()` answers it).
   * Given a function, it makes the harness with it as `createManager`. Rejects with a
   * `LifecyclePathError` naming the step where the manager departs from the machine.
   */
  run(on?: LifecycleHarness | ((options: TokenManagerOptions) => TokenManager), options?: LifecyclePathRunOptions): Promise<LifecycleHarness>;
}

export interface LifecyclePathsOptions {
  /** R3: whether timers start refreshes (default true); the harness must match. */
  readonly backgroundRefresh?: boolean;
  /**
   * `'states'` (default): the shortest path to every state the manager can rest in, as the machine
   * distinguishes them (with or without refresh token, which moments are still ahead, ...).
   * `'transitions'`: a path through every transition of the machine (many more).
   */
  readonly cover?: 'states' | 'transitions';
  /** Keep only the paths ending in these states (`'degraded'` takes every sub-state). */
  readonly targets?: ReadonlyArray<TokenState | LifecycleTarget>;
  /** The machine to generate from: `tokenMachine` (default) or a `tokenMachine.provide()` variant. */
  readonly machine?: TokenMachine;
}

const generated = new Map<AnyStateMachine, Map<boolean, ModelPaths>>();

/** The model paths of a machine, generated once per machine and setting. */
export function modelPathsOf(machine: AnyStateMachine, backgroundRefresh: boolean): ModelPaths {
  let bySetting = generated.get(machine);
  if (!bySetting) generated.set(machine, (bySetting = new Map()));
  let paths = bySetting.get(backgroundRefresh);
  if (!paths) bySetting.set(backgroundRefresh, (paths = generatePaths(backgroundRefresh, machine)));
  return paths;
}

function targetOf(path: GeneratedPath): LifecycleTarget {
  return (path.steps[path.steps.length - 1]?.to ?? 'idle') as LifecycleTarget;
}

function toLifecyclePath(model: ModelPaths, path: GeneratedPath): LifecyclePath {
  const steps: LifecyclePathStep[] = path.steps.map((step) => ({
    description: describeStep(step.label),
    label: step.label,
    event: step.type,
    from: step.from as LifecycleTarget,
    to: step.to as LifecycleTarget,
    rests: step.rests,
  }));
  const [state, detail] = targetOf(path).split('.') as [TokenState, TokenStateDetail | undefined];
  const description = describeStates(path);
  const events = steps.map((s) => s.description).join(', ');
  const { backgroundRefresh } = model;
  return {
    name: events ? `${description} (${events})` : `${description} (nothing loaded)`,
    description,
    target: detail === undefined ? { state } : { state, detail },
    steps,
    backgroundRefresh,
    async run(on, options = {}) {
      const harness =
        typeof on === 'function' || on === undefined
          ? lifecycleHarness({ backgroundRefresh, ...(on ? { createManager: on } : {}), ...(options.key ? { key: options.key } : {}) })
          : on;
      if (harness.backgroundRefresh !== backgroundRefresh) {
        throw new TypeError(`this path was generated with backgroundRefresh ${String(backgroundRefresh)}; the harness has ${String(harness.backgroundRefresh)}`);
      }
      const observe = options.onStep;
      await drivePath(model.machine, path, harness, observe && ((_step, i) => observe(steps[i] as LifecyclePathStep, harness)));
      return harness;
    },
  };
}

const KNOWN_TARGETS: readonly string[] = [
  'idle',
  'valid',
  'nearExpiry',
  'refreshing',
  'degraded',
  'degraded.retrying',
  'degraded.rejected',
  'degraded.expired',
  'reauthRequired',
];

function matches(target: LifecycleTarget, wanted: ReadonlyArray<string>): boolean {
  return wanted.some((w) => w === target || target.startsWith(`${w}.`));
}

/** Paths that put a real manager into every lifecycle state (see `LifecyclePathsOptions`). */
export function lifecyclePaths(options: LifecyclePathsOptions = {}): LifecyclePath[] {
  if (options.cover !== undefined && options.cover !== 'states' && options.cover !== 'transitions') {
    throw new TypeError(`cover must be 'states' or 'transitions', got ${String(options.cover)}`);
  }
  const unknown = (options.targets ?? []).filter((t) => !KNOWN_TARGETS.includes(t));
  if (unknown.length > 0) throw new TypeError(`unknown target state ${unknown.join(', ')} (one of ${KNOWN_TARGETS.join(', ')})`);
  const model = modelPathsOf((options.machine ?? tokenMachine) as AnyStateMachine, options.backgroundRefresh ?? true);
  const chosen = options.cover === 'transitions' ? model.cover : model.toEveryState;
  const kept = options.targets ? chosen.filter((p) => matches(targetOf(p), options.targets as ReadonlyArray<string>)) : chosen;
  return kept.map((p) => toLifecyclePath(model, p));
}

