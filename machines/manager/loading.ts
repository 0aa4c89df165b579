/**
 * Credentials come into a manager from storage: on demand (one load per key however many callers ask)
 * and through the store's change feed (records other processes wrote).
 */
import type { Actors } from './actors.js';
import { createCredential, setRecord, type Credential } from './credential.js';
import { NotFoundError } from '../lifecycle/errors.js';
import { adoptStored } from './persistence.js';
import type { ManagerCore } from './runtime.js';

export interface Loading {
  /** The loaded credential; `not_found` when storage has no record and the endpoint cannot renew without one. */
  load(key: string): Promise<Credential>;
  /** Starts following the store's change feed (once; the caller has checked that the manager runs). */
  followStorage(): void;
  unfollowStorage(): void;
}

export function createLoading(core: ManagerCore, actors: Actors): Loading {
  const { credentials, settings } = core;
  const { storage, endpoint } = settings;
  const loading = new Map<string, Promise<Credential>>();
  let unsubscribeStorage: (() => void) | undefined;

  function followStorage(): void {
    if (unsubscribeStorage || !storage.subscribe) return;
    unsubscribeStorage = storage.subscribe((key) => {
      const c = credentials.get(key);
      // A refreshing credential re-reads storage under its lock; its result decides.
      if (!c || !c.loaded || core.stopped || c.state === 'refreshing') return;
      void adoptStored(core, c).then(
        (adopted) => {
          if (adopted) actors.announceRecord(c);
        },
        () => undefined, // unreadable now: the next refresh re-reads under the lock
      );
    });
  }

  function load(key: string): Promise<Credential> {
    const existing = credentials.get(key);
    if (existing?.loaded) return Promise.resolve(existing);
    let pending = loading.get(key);
    if (!pending) {
      pending = loadFromStorage(key).finally(() => loading.delete(key));
      loading.set(key, pending);
    }
    return pending;
  }

  async function loadFromStorage(key: string): Promise<Credential> {
    const stored = await storage.get(key);
    core.assertRunning();
    const existing = credentials.get(key);
    if (existing?.loaded) return existing;
    if (!stored && endpoint.canRenewWithoutRefreshToken !== true) throw new NotFoundError(key);
    const c = existing ?? createCredential(key);
    credentials.set(key, c);
    followStorage();
    c.loaded = true;
    c.removed = false;
    setRecord(c, stored);
    c.storedVersion = stored?.version ?? 0;
    actors.admit(c);
    return c;
  }

  return { load, followStorage, unfollowStorage: () => unsubscribeStorage?.() };
}
