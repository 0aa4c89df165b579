/**
 * R22: derived credentials (`manager.derive(key, { from, audience, resource, scope })`). A derived
 * credential runs the same lifecycle machine as any other; what differs is how it renews, chosen here
 * once per run by the credential's kind (`runner`): a credential with a `derived` link is renewed by
 * exchange-runner.ts (RFC 8693, its parent's access token as subject), every other by refresh-runner.ts.
 *
 * Following the parent: whenever the parent's access token changes (its refresh, a login, an
 * adoption from storage) each child is re-exchanged once; a parent token already tried is never
 * tried again (success or not), so a herd, a retry or several changes in flight make one exchange per
 * token. The parent in `reauthRequired` takes its children there (reason `parent_reauth_required`),
 * and a new parent token (setToken) brings them back. Removing a parent removes its children first.
 */
import type { Actors, RefreshRunner } from './actors.js';
import type { DeriveOptions, DerivedCredentialsPlugin, RemoveOptions, TokenEvent, TokenManager } from './api-types.js';
import { createCredential, isRefreshing, setRecord, type Credential, type Derivation } from './credential.js';
import { InvalidConfigError } from '../lifecycle/errors.js';
import { createExchangeRunner, PARENT_REAUTH_REQUIRED } from './exchange-runner.js';
import { isExpired } from '../lifecycle/refresh-policy.js';
import * as rules from '../lifecycle/machine-rules.js';
import type { ManagerCore } from './runtime.js';
import type { TokenRecord, TokenResponse, TokenSet } from '../lifecycle/types.js';

/** What derive.ts needs of the rest of the manager, bound once the parts exist (`attach`). */
interface DeriveParts {
  readonly actors: Actors;
  readonly loadFor: (key: string, signal: AbortSignal | undefined) => Promise<Credential>;
  readonly subscribe: (listener: (event: TokenEvent) => void) => () => void;
  /** The manager's own methods, before `attach` wrapped them. */
  readonly manager: Pick<TokenManager, 'getToken' | 'setToken' | 'remove' | 'stop'>;
}

function checkList(value: unknown, name: string): void {
  if (value === undefined) return;
  const values = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(values) || values.length === 0 || values.some((v) => typeof v !== 'string' || v.length === 0)) {
    throw new InvalidConfigError(`derive ${name} must be a non-empty string or a list of them`);
  }
}

function checkOptions(key: unknown, options: DeriveOptions): void {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidConfigError('derive needs a non-empty string key');
  if (typeof options !== 'object' || options === null) throw new InvalidConfigError('derive needs options: { from }');
  if (typeof options.from !== 'string' || options.from.length === 0) throw new InvalidConfigError('derive needs from: the parent credential key');
  if (options.from === key) throw new InvalidConfigError('a credential cannot be derived from itself');
  checkList(options.audience, 'audience');
  checkList(options.resource, 'resource');
  if (options.scope !== undefined && typeof options.scope !== 'string') throw new InvalidConfigError('derive scope must be a string');
}

function sameList(a: string | readonly string[] | undefined, b: string | readonly string[] | undefined): boolean {
  return JSON.stringify(typeof a === 'string' ? [a] : a) === JSON.stringify(typeof b === 'string' ? [b] : b);
}

function sameDerivation(d: Derivation, options: DeriveOptions): boolean {
  return d.from === options.from && d.scope === options.scope && sameList(d.audience, options.audience) && sameList(d.resource, options.resource);
}

function derivationOf(options: DeriveOptions): Derivation {
  return {
    from: options.from,
    ...(options.audience === undefined ? {} : { audience: typeof options.audience === 'string' ? options.audience : [...options.audience] }),
    ...(options.resource === undefined ? {} : { resource: typeof options.resource === 'string' ? options.resource : [...options.resource] }),
    ...(options.scope === undefined ? {} : { scope: options.scope }),
    attempted: undefined,
  };
}

/** The plug-in's inside (manager.ts builds the derivations with it); its type stays opaque to apps. */
export interface DerivedCredentialsFactory extends DerivedCredentialsPlugin {
  create(core: ManagerCore, refresh: RefreshRunner): Derivations;
}

export type Derivations = ReturnType<typeof createDerivations>;

/**
 * R22: `createTokenManager({ ..., derivedCredentials: derivedCredentials() })` turns on
 * `manager.derive()`. A plug-in: an app that never imports it does not bundle derived credentials
 * (docs/decisions.md, "Optional features are plug-ins").
 */
export function derivedCredentials(): DerivedCredentialsPlugin {
  const factory: DerivedCredentialsFactory = { plugin: 'derivedCredentials', create: createDerivations };
  return factory;
}

export function createDerivations(core: ManagerCore, refresh: RefreshRunner) {
  const { credentials, now, settings } = core;
  /** Parent key → its children's keys. */
  const children = new Map<string, Set<string>>();
  let parts: DeriveParts | undefined;
  let unsubscribe: (() => void) | undefined;

  const exchange = createExchangeRunner(core, (key) => (parts as DeriveParts).manager.getToken(key));

  /** The one place the renewal is chosen: by the credential's kind, never by a flag in the machine. */
  const runner: RefreshRunner = {
    // Everything else (stop()'s lock handling) is the refresh runner's own.
    ...refresh,
    run(c, input) {
      if (c.derived) {
        const run = exchange.run(c, input);
        // Its parent may have changed while it ran: looked at once it has settled.
        const settled = (): void => queueMicrotask(() => follow(c));
        run.then(settled, settled);
        return run;
      }
      const run = refresh.run(c, input);
      if (children.has(c.key)) run.then(() => parentChanged(c.key), () => undefined);
      return run;
    },
  };

  /** Takes `derive` over, and wraps `setToken`, `remove` and `stop` (manager.ts, once its parts exist). */
  function attach(manager: TokenManager, actors: Actors, loadFor: DeriveParts['loadFor'], subscribe: DeriveParts['subscribe']): void {
    const { getToken, setToken: set, remove: drop, stop: end } = manager;
    parts = { actors, loadFor, subscribe, manager: { getToken, setToken: set, remove: drop, stop: end } };
    manager.derive = derive;
    manager.setToken = setToken;
    manager.remove = (key = 'default', options) => remove(key, options);
    manager.stop = () => {
      stop();
      return end();
    };
  }

  /** Started with the first derivation: a manager without one pays nothing (no listener, no hook). */
  function startFollowing(): void {
    if (unsubscribe) return;
    core.onAdmitted = (c) => {
      if (children.has(c.key)) parentChanged(c.key);
    };
    unsubscribe = (parts as DeriveParts).subscribe((event) => {
      if (event.type === 'state' && children.has(event.key)) parentChanged(event.key);
    });
  }

  /** Parents to look at, once each, on a later microtask: never inside the manager's event delivery or an actor's step. */
  const changed = new Set<string>();
  function parentChanged(parentKey: string): void {
    if (changed.size === 0) queueMicrotask(followChanged);
    changed.add(parentKey);
  }

  function followChanged(): void {
    const parents = [...changed];
    changed.clear();
    for (const parentKey of parents) {
      for (const key of children.get(parentKey) ?? []) {
        const c = credentials.get(key);
        if (c?.derived && !c.removed) follow(c);
      }
    }
  }

  /** Brings one child in line with its parent: reauth together, or one exchange for a new parent token. */
  function follow(c: Credential): void {
    const derivation = c.derived;
    if (!derivation || c.removed || core.stopped || !parts) return;
    const parent = credentials.get(derivation.from);
    if (!parent || parent.removed) return;
    if (parent.state === 'reauthRequired') return toReauth(c);
    const record = parent.record;
    const at = now();
    if (!record || record.accessToken.length === 0 || isExpired(record, at)) return;
    if (record.accessToken === derivation.attempted || c.state === 'refreshing') return;
    if (c.record?.rejection !== undefined) {
      // Rejected (or waiting for its parent's login): a new parent token is worth one more exchange.
      reset(c, c.record.rejection === PARENT_REAUTH_REQUIRED ? undefined : c.record);
    } else {
      // A retry is pending: it will exchange the parent's current token anyway (one exchange, not two).
      const context = parts.actors.contextOf(c);
      if (context && rules.isRetryPending(context, at)) return;
    }
    // Read through a call: the reset above may have started the exchange already.
    if (!isRefreshing(c)) parts.actors.requestRefresh(c, true, now());
  }

  /** A fresh record for the child: its usable token kept (if any), rejection and retry cleared. */
  function reset(c: Credential, keepFrom: TokenRecord | undefined): void {
    const usable = keepFrom && keepFrom.accessToken.length > 0 && !isExpired(keepFrom, now());
    if (usable) {
      const { rejection: _r, retryAt: _t, ...rest } = keepFrom;
      admitRecord(c, { ...rest, version: (c.record?.version ?? 0) + 1 });
    } else admitRecord(c, tokenless(c));
  }

  function toReauth(c: Credential): void {
    if (c.record?.rejection === PARENT_REAUTH_REQUIRED && c.state === 'reauthRequired') return;
    admitRecord(c, tokenless(c, PARENT_REAUTH_REQUIRED));
  }

  /** The child's next record without a token: it waits for an exchange, or (`rejection`) for its parent. */
  function tokenless(c: Credential, rejection?: string): TokenRecord {
    return {
      accessToken: '',
      tokenType: c.record?.tokenType ?? 'Bearer',
      obtainedAt: now(),
      ...(rejection === undefined ? {} : { rejection }),
      version: (c.record?.version ?? 0) + 1,
    };
  }

  function admitRecord(c: Credential, record: TokenRecord): void {
    setRecord(c, record);
    c.storedVersion = record.version; // memory only: nothing to write (stop() finds nothing pending)
    c.reauthAnnounced = false;
    c.lastFailure = undefined;
    (parts as DeriveParts).actors.admit(c);
  }

  function link(c: Credential): void {
    const from = (c.derived as Derivation).from;
    let keys = children.get(from);
    if (!keys) children.set(from, (keys = new Set()));
    keys.add(c.key);
  }

  function unlink(c: Credential): void {
    const from = c.derived?.from;
    const keys = from === undefined ? undefined : children.get(from);
    keys?.delete(c.key);
    if (from !== undefined && keys?.size === 0) children.delete(from);
  }

  /** Whether deriving `key` from `from` would close a loop (a chain of derivations back to `key`). */
  function wouldLoop(key: string, from: string): boolean {
    for (let at: string | undefined = from, steps = 0; at !== undefined && steps <= credentials.size; steps++) {
      if (at === key) return true;
      at = credentials.get(at)?.derived?.from;
    }
    return false;
  }

  async function derive(key: string, options: DeriveOptions): Promise<TokenSet> {
    core.assertRunning();
    checkOptions(key, options);
    if (typeof settings.endpoint.tokenExchange !== 'function') {
      throw new InvalidConfigError('derive needs an endpoint with tokenExchange (RFC 8693), such as oauth2Endpoint');
    }
    if (wouldLoop(key, options.from)) throw new InvalidConfigError(`deriving ${key} from ${options.from} would make a loop`);
    const p = parts as DeriveParts;
    const existing = credentials.get(key);
    if (existing?.derived && !existing.removed) {
      if (sameDerivation(existing.derived, options)) return p.manager.getToken(key);
      // New options: a new derivation, exchanged now; the old token is not served for the new audience.
      unlink(existing);
      existing.derived = derivationOf(options);
      link(existing);
      reset(existing, undefined);
      follow(existing);
      return p.manager.getToken(key);
    }
    if (existing?.loaded && !existing.removed) throw new InvalidConfigError(`${key} holds a credential that is not derived: remove it first`);
    if ((await settings.storage.get(key)) !== undefined) throw new InvalidConfigError(`${key} holds a stored credential: remove it first`);
    // The parent must exist (not_found otherwise); loading it also starts its lifecycle here.
    const parent = await p.loadFor(options.from, undefined);
    core.assertRunning();
    const raced = credentials.get(key);
    if (raced?.derived && !raced.removed) return derive(key, options);
    const c = raced ?? createCredential(key);
    c.derived = derivationOf(options);
    c.loaded = true;
    c.removed = false;
    credentials.set(key, c);
    link(c);
    startFollowing();
    if (parent.state === 'reauthRequired') toReauth(c);
    else reset(c, undefined);
    return p.manager.getToken(key);
  }

  /** `setToken` on a derived key is refused: its token comes from its parent. */
  function setToken(key: string, tokens: TokenResponse | TokenSet): Promise<TokenSet> {
    const c = credentials.get(key);
    if (c?.derived && !c.removed) return Promise.reject(new InvalidConfigError(`${key} is derived from ${c.derived.from}: its token comes by exchange`));
    return (parts as DeriveParts).manager.setToken(key, tokens);
  }

  /** `remove`: a parent's children go first (each revoked as asked), then the credential itself. */
  async function remove(key: string, options?: RemoveOptions): Promise<void> {
    const p = parts as DeriveParts;
    for (const child of [...(children.get(key) ?? [])]) await remove(child, options);
    const c = credentials.get(key);
    await p.manager.remove(key, options);
    if (c?.derived) unlink(c);
  }

  function stop(): void {
    unsubscribe?.();
    unsubscribe = undefined;
    core.onAdmitted = undefined;
  }

  return { runner, attach };
}
