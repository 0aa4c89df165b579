/**
 * Inspection events hold live actors (`actorRef`, `sourceRef`, a snapshot's `children`). A redacted
 * event must not lead back into them (their context, system, parent...), so each is replaced by a
 * data-only stand-in with the fields inspectors read (`@statelyai/inspect` reads `id`, `sessionId`,
 * `_parent.sessionId`, `logic.config` and `getSnapshot()`); its snapshot and definition are
 * redacted copies, and it cannot be sent events.
 */

const STAND_IN = Symbol.for('token-lifecycle.actorStandIn');

/** What an inspector sees of an actor. Satisfies XState's `ActorRefLike`. */
export interface ActorStandIn {
  readonly id: string;
  readonly sessionId: string;
  readonly systemId?: string;
  /** The logic's name when the actor was invoked by name (e.g. `refreshTokens`). */
  readonly src?: string;
  readonly _parent: ActorStandIn | undefined;
  /** The machine's definition (redacted copy), for inspectors that draw it. */
  readonly logic: { readonly config: unknown } | undefined;
  /** Inspectors watch; they do not drive: events sent here are dropped. */
  send(event: unknown): void;
  /** A redacted copy of the actor's current snapshot. */
  getSnapshot(): unknown;
  toJSON(): { readonly id: string; readonly sessionId: string };
}

interface LiveActorLike {
  readonly sessionId: string;
  readonly id?: unknown;
  readonly systemId?: unknown;
  readonly src?: unknown;
  readonly _parent?: unknown;
  readonly logic?: { readonly config?: unknown };
  getSnapshot(): unknown;
  send(event: never): void;
}

export function isStandIn(value: object): value is ActorStandIn {
  return (value as { [STAND_IN]?: unknown })[STAND_IN] === true;
}

/** Duck-typed like XState's own `ActorRefLike` (works across XState copies and versions). */
export function isActorRefLike(value: object): value is LiveActorLike {
  const v = value as Partial<Record<'sessionId' | 'send' | 'getSnapshot', unknown>>;
  return typeof v.sessionId === 'string' && typeof v.send === 'function' && typeof v.getSnapshot === 'function';
}

const standIns = new WeakMap<object, ActorStandIn>();
const configs = new WeakMap<object, unknown>();

export function standInFor(live: LiveActorLike, copy: (value: unknown) => unknown): ActorStandIn {
  const cached = standIns.get(live);
  if (cached) return cached;
  const sessionId = live.sessionId;
  const id = typeof live.id === 'string' ? live.id : sessionId;
  const parent = live._parent;
  const config = live.logic?.config;
  const standIn: ActorStandIn = Object.freeze({
    [STAND_IN]: true,
    id,
    sessionId,
    ...(typeof live.systemId === 'string' ? { systemId: live.systemId } : {}),
    ...(typeof live.src === 'string' ? { src: live.src } : {}),
    // Lazy: most events never read them, and a definition is worth copying once per machine.
    get _parent(): ActorStandIn | undefined {
      return typeof parent === 'object' && parent !== null && isActorRefLike(parent) ? standInFor(parent, copy) : undefined;
    },
    get logic(): { readonly config: unknown } | undefined {
      if (typeof config !== 'object' || config === null) return undefined;
      if (!configs.has(config)) configs.set(config, copy(config));
      return { config: configs.get(config) };
    },
    send(): void {},
    getSnapshot(): unknown {
      return copy(live.getSnapshot());
    },
    toJSON() {
      return { id, sessionId };
    },
  });
  standIns.set(live, standIn);
  return standIn;
}
