/**
 * The user's callbacks (subscribe() listeners, `onReauthRequired`, the inspector) run inside the
 * manager's lifecycle, in someone else's process. Any of them may be sync or async; a throw or a
 * rejection never escapes to the process (no unhandled rejection) and never disturbs the lifecycle:
 * it goes, once, to the one channel for it, the `onError(error, context)` option. Without one, the
 * first failure of each callback becomes a single process warning naming what failed, never the
 * error's message (a callback's error may quote anything it touched) nor the key.
 * Browser-safe: no Node built-in; `process.emitWarning` is used only where it exists.
 */
import type { InspectionEvent, Observer } from 'xstate';
import type { CallbackErrorContext, CallbackErrorHandler } from './api-types.js';

export type Inspector = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

export interface Callbacks {
  /**
   * Runs `run` (which calls one user callback); a throw, or the rejection of what it returns, is
   * reported. `owner` is the callback (or observer) itself: the default warning is given once per owner.
   */
  invoke(owner: object, context: CallbackErrorContext, run: () => unknown): void;
  /** The inspector, guarded the same way, as XState's `inspect` option takes it. */
  guardInspector(inspect: Inspector): Inspector;
}

const WARNING = { type: 'TokenLifecycleWarning', code: 'TOKEN_LIFECYCLE_CALLBACK_FAILED' } as const;

const DESCRIBE: Record<CallbackErrorContext['callback'], string> = {
  listener: 'a subscribe() listener',
  onReauthRequired: 'the onReauthRequired callback',
  inspect: 'the inspector (inspect option)',
  onError: 'the onError callback',
};

function kindOf(error: unknown): string {
  if (error instanceof Error) return error.name;
  return error === null ? 'null' : typeof error;
}

type WarningEmitter = (message: string, options: { type: string; code: string }) => void;

/** Node's process warning where there is one (a `warning` event the host can catch), else console.warn. */
export function emitWarning(message: string): void {
  const proc = (globalThis as { process?: { emitWarning?: WarningEmitter } }).process;
  if (typeof proc?.emitWarning === 'function') proc.emitWarning(message, WARNING);
  else console.warn(`${WARNING.type}: ${message}`);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

export function createCallbacks(onError: CallbackErrorHandler | undefined, warn: (message: string) => void = emitWarning): Callbacks {
  const warned = new WeakSet<object>();

  function warnOnce(owner: object, error: unknown, context: CallbackErrorContext): void {
    if (warned.has(owner)) return;
    warned.add(owner);
    const on = context.event === undefined ? '' : ` on a '${context.event}' event`;
    warn(
      `token-lifecycle: ${DESCRIBE[context.callback]} failed (${kindOf(error)})${on}; the token lifecycle goes on. ` +
        'Later failures of this callback are not reported again: pass onError to createTokenManager to handle each one.',
    );
  }

  function report(owner: object, error: unknown, context: CallbackErrorContext): void {
    if (!onError) {
      warnOnce(owner, error, context);
      return;
    }
    // The reporter itself may fail: that is told once by a warning, and goes no further.
    const failed = (reportError: unknown): void => warnOnce(onError, reportError, { callback: 'onError' });
    try {
      const result: unknown = onError(error, context);
      if (isThenable(result)) result.then(undefined, failed);
    } catch (reportError) {
      failed(reportError);
    }
  }

  function invoke(owner: object, context: CallbackErrorContext, run: () => unknown): void {
    try {
      const result = run();
      if (isThenable(result)) result.then(undefined, (error: unknown) => report(owner, error, context));
    } catch (error) {
      report(owner, error, context);
    }
  }

  function guardInspector(inspect: Inspector): Inspector {
    const context: CallbackErrorContext = { callback: 'inspect' };
    if (typeof inspect === 'function') return (event) => invoke(inspect, context, () => inspect(event));
    return {
      next: (event) => invoke(inspect, context, () => inspect.next?.(event)),
      error: (error) => invoke(inspect, context, () => inspect.error?.(error)),
      complete: () => invoke(inspect, context, () => inspect.complete?.()),
    };
  }

  return { invoke, guardInspector };
}
