/**
 * What the React and Vue examples expose on `window.exampleProbe` for their tests and the devtools
 * console: how many manager listeners and actor observers the page holds, and the app's unmount,
 * so "unmounting leaves nothing behind" can be checked from outside.
 */
import type { TokenEventListener, TokenManager } from '../../index.js';

export interface ExampleProbe {
  /** Live `manager.subscribe` listeners (subscribed and not yet ended). */
  listeners(): number;
  /** Observers on the credential's actor (the manager keeps its own; the live view adds one). */
  actorObservers(key: string): number;
  /** Unmounts the app (React root / Vue app). */
  unmount(): void;
}

declare global {
  interface Window {
    exampleProbe?: ExampleProbe;
  }
}

/** Wraps `manager.subscribe` to count live listeners; returns the same manager. */
export function countListeners(manager: TokenManager): { manager: TokenManager; listeners(): number } {
  let live = 0;
  const subscribe = manager.subscribe.bind(manager);
  manager.subscribe = (listener: TokenEventListener) => {
    const off = subscribe(listener);
    live++;
    let ended = false;
    return () => {
      if (!ended) live--;
      ended = true;
      off();
    };
  };
  return { manager, listeners: () => live };
}

/** XState keeps an actor's observers in a Set it does not type publicly. */
export function actorObservers(manager: TokenManager, key: string): number {
  return (manager.actor(key) as unknown as { observers?: Set<unknown> }).observers?.size ?? -1;
}
