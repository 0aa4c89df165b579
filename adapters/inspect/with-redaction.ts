import type { InspectionEvent, Observer } from 'xstate';
import { InvalidConfigError } from '../../machines/lifecycle/errors.js';
import { redact } from './redact.js';

/** What XState's `inspect` option (and the manager's) accepts. */
export type InspectionObserver = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/**
 * Any XState inspector: a function, an observer `{ next }`, or an object carrying one in `inspect`
 * (what `@statelyai/inspect`'s `createBrowserInspector()`, `createWebSocketInspector()`,
 * `createSkyInspector()` and `createInspector(adapter)` return).
 */
export type InspectorLike = InspectionObserver | { readonly inspect: InspectionObserver };

function fromObserver(candidate: unknown): ((event: InspectionEvent) => void) | undefined {
  if (typeof candidate === 'function') return candidate as (event: InspectionEvent) => void;
  if (typeof candidate !== 'object' || candidate === null) return undefined;
  const observer = candidate as Observer<InspectionEvent>;
  return typeof observer.next === 'function' ? (event) => observer.next?.(event) : undefined;
}

function toNext(inspector: InspectorLike): (event: InspectionEvent) => void {
  const nested = typeof inspector === 'object' && inspector !== null && 'inspect' in inspector ? inspector.inspect : undefined;
  const next = fromObserver(nested ?? inspector);
  // E.g. `createBrowserInspector()` where there is no window returns an adapter, not an inspector.
  if (!next) throw new InvalidConfigError('withRedaction needs a function, an observer with next(), or an object with an inspect observer');
  return next;
}

/**
 * Wraps an inspector so that it only ever sees redacted deep copies of inspection events (see
 * `redact`): pass the result as the manager's (or `createActor`'s) `inspect` option. The lifecycle
 * machine holds no token values by design (R13); this is a second belt, which also covers machines
 * of your own. Redaction cannot be switched off here: to see raw events, pass an inspector directly.
 *
 * An event that cannot be copied is dropped, never passed on raw; an inspector that throws does not
 * disturb the actor (XState calls inspectors synchronously inside its transitions).
 */
export function withRedaction(inspector: InspectorLike): (event: InspectionEvent) => void {
  const next = toNext(inspector);
  return (event) => {
    let copy: InspectionEvent;
    try {
      copy = redact(event) as InspectionEvent;
    } catch {
      return;
    }
    try {
      next(copy);
    } catch {
      // The inspector's failure is its own; the lifecycle goes on.
    }
  };
}
