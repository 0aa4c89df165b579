/**
 * The events of the token machine's model: the machine's own (LOADED, CHECK, REFRESH, UNLOAD), the
 * internal ones the real actor raises for timers and the refresh actor (`xstate.after.*`,
 * `xstate.done.actor.refresh`, `xstate.error.actor.refresh`), and the model-only WAIT. Each carries
 * its time relative to the moment the current state was entered, and a label that names it
 * independently of concrete times.
 */
import type { TokenMeta } from '../../machines/lifecycle/machine-types.js';

export const DONE = 'xstate.done.actor.refresh';
export const ERROR = 'xstate.error.actor.refresh';
export const AFTER_PREFIX = 'xstate.after.';

export interface LoadedEvent {
  /** Names the event independently of the concrete times: paths are replayed by label. */
  readonly label: string;
  readonly type: 'LOADED';
  readonly now: number;
  readonly token: TokenMeta;
  /** Which palette entry: for reading paths, and for the driver to pick a way to load it. */
  readonly meta: string;
}
export interface CheckEvent {
  /** Names the event independently of the concrete times: paths are replayed by label. */
  readonly label: string;
  readonly type: 'CHECK';
  readonly now: number;
}
export interface RefreshEvent {
  /** Names the event independently of the concrete times: paths are replayed by label. */
  readonly label: string;
  readonly type: 'REFRESH';
  readonly now: number;
  readonly force: boolean;
}
export interface UnloadEvent {
  /** Names the event independently of the concrete times: paths are replayed by label. */
  readonly label: string;
  readonly type: 'UNLOAD';
  readonly now: number;
}
/**
 * Model only: time passes and nobody does anything. The real machine has no such event; in the model
 * it is a targetless root transition that only moves the time origin. It checks that the manager
 * changes nothing on its own before the next timer (no early refresh, R2/R11) and that a due timer
 * is not missing.
 */
export interface WaitEvent {
  /** Names the event independently of the concrete times: paths are replayed by label. */
  readonly label: string;
  readonly type: 'WAIT';
  readonly now: number;
}
export interface AfterEvent {
  /** Names the event independently of the concrete times: paths are replayed by label. */
  readonly label: string;
  readonly type: `xstate.after.${string}`;
  /** The delay the real actor computes on entering the state: the driver advances the clock by it. */
  readonly now: number;
  readonly delay: string;
}
export interface DoneEvent {
  /** Names the event independently of the concrete times: paths are replayed by label. */
  readonly label: string;
  readonly type: typeof DONE;
  readonly output: { readonly startedAt: number; readonly at: number; readonly token: TokenMeta };
}
export interface ErrorEvent {
  /** Names the event independently of the concrete times: paths are replayed by label. */
  readonly label: string;
  readonly type: typeof ERROR;
  readonly error: {
    readonly startedAt: number;
    readonly at: number;
    readonly kind: 'transient' | 'permanent';
    readonly code: string;
    readonly retryAt?: number;
    readonly token: TokenMeta;
  };
}
export type ModelEvent = LoadedEvent | CheckEvent | RefreshEvent | UnloadEvent | WaitEvent | AfterEvent | DoneEvent | ErrorEvent;

/** The time of a model event relative to the current state (0 = when it was entered). */
export function delayOf(event: { readonly type: string }): number {
  const e = event as { now?: number; output?: { at: number }; error?: { at: number } };
  return e.now ?? e.output?.at ?? e.error?.at ?? 0;
}

export function isAfterEvent(event: { readonly type: string }): event is AfterEvent {
  return event.type.startsWith(AFTER_PREFIX);
}
