/**
 * What a manager holds, counted, for tests and benches that pin its memory under churn (issue 21).
 * Not exported by any entry point: it is no API, and it never exposes a credential or a token.
 */
export interface ManagerInternals {
  /** Credentials in the manager's map. */
  credentials(): number;
  /** Entries in the wake wheel's heap. */
  scheduledWakes(): number;
}

const registry = new WeakMap<object, ManagerInternals>();

export function registerInternals(manager: object, internals: ManagerInternals): void {
  registry.set(manager, internals);
}

export function internalsOf(manager: object): ManagerInternals | undefined {
  return registry.get(manager);
}
