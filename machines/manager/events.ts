/** The manager's event stream (DESIGN §4 `subscribe`): listeners, and the `state` event's shape. */
import type { Credential } from './credential.js';
import type { TokenEvent, TokenEventListener, TokenState, TokenStateDetail } from './api-types.js';

export interface StateSnapshot {
  readonly state: TokenState;
  readonly detail: TokenStateDetail | undefined;
}

export interface EventHub {
  emit(event: TokenEvent): void;
  subscribe(listener: TokenEventListener): () => void;
  emitStateChange(c: Credential, next: StateSnapshot, previous: StateSnapshot, at: number): void;
}

export function createEventHub(): EventHub {
  const listeners = new Set<TokenEventListener>();

  function emit(event: TokenEvent): void {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own; the lifecycle goes on.
      }
    }
  }

  function subscribe(listener: TokenEventListener): () => void {
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }

  function emitStateChange(c: Credential, next: StateSnapshot, previous: StateSnapshot, at: number): void {
    emit({
      type: 'state',
      key: c.key,
      at,
      state: next.state,
      ...(next.detail ? { detail: next.detail } : {}),
      previous: { state: previous.state, ...(previous.detail ? { detail: previous.detail } : {}) },
    });
  }

  return { emit, subscribe, emitStateChange };
}
