/** The manager's event stream (DESIGN §4 `subscribe`): listeners, and the `state` event's shape. */
import type { Callbacks } from './callbacks.js';
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

export function createEventHub(callbacks: Callbacks): EventHub {
  const listeners = new Set<TokenEventListener>();

  function emit(event: TokenEvent): void {
    if (listeners.size === 0) return;
    // A listener's failure (a throw, or a rejection of an async one) is its own: reported, and the lifecycle goes on.
    const context = { callback: 'listener', key: event.key, event: event.type } as const;
    for (const listener of listeners) callbacks.invoke(listener, context, () => listener(event));
  }

  function subscribe(listener: TokenEventListener): () => void {
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }

  function emitStateChange(c: Credential, next: StateSnapshot, previous: StateSnapshot, at: number): void {
    if (listeners.size === 0) return; // every refresh passes here twice or thrice: no event built for nobody
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
