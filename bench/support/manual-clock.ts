import type { Clock } from '../../machines/lifecycle/types.js';

/**
 * A clock whose time the bench sets, and whose timers never fire: the benches that use it drive
 * every step themselves (no background refresh, wake-up or retry can interfere with the figure).
 */
export class ManualClock implements Clock {
  constructor(public time: number) {}
  now(): number {
    return this.time;
  }
  setTimeout(): unknown {
    return {};
  }
  clearTimeout(): void {}
}

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export const nextMacrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
