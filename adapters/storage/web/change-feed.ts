import type { StorageChangeListener } from '../../../machines/lifecycle/types.js';

export type ChangeFeedKind = 'broadcast-channel' | 'storage-event' | 'tab';

/** Tells other webStorage instances (other tabs, or the same tab) which key changed. */
export interface ChangeFeed {
  readonly kind: ChangeFeedKind;
  announce(key: string): void;
  listen(listener: StorageChangeListener): () => void;
  close(): void;
}

interface Message {
  key: string;
}

const isMessage = (value: unknown): value is Message => typeof value === 'object' && value !== null && typeof (value as Message).key === 'string';

/**
 * Shared areas: a BroadcastChannel named by the prefix (it reaches every other instance in the
 * origin, this tab's included, never the sender), or, without BroadcastChannel, the `storage` event
 * of a localStorage ping item (it reaches the other tabs only).
 */
export function sharedFeed(prefix: string): ChangeFeed {
  const name = `${prefix}:changes`;
  if (typeof BroadcastChannel === 'function') {
    const channel = new BroadcastChannel(name);
    return {
      kind: 'broadcast-channel',
      announce: (key) => channel.postMessage({ key } satisfies Message),
      listen(listener) {
        const onMessage = (event: MessageEvent<unknown>): void => {
          if (isMessage(event.data)) listener(event.data.key);
        };
        channel.addEventListener('message', onMessage);
        return () => channel.removeEventListener('message', onMessage);
      },
      close: () => channel.close(),
    };
  }
  return {
    kind: 'storage-event',
    announce(key) {
      try {
        // A unique value each time, or an identical write would not fire the event.
        localStorage.setItem(name, JSON.stringify({ key, n: `${Date.now()}-${Math.random()}` }));
      } catch {
        // No localStorage (or full): other tabs learn of the change when they next read.
      }
    },
    listen(listener) {
      const onStorage = (event: StorageEvent): void => {
        if (event.key !== name || event.newValue === null) return;
        try {
          const message = JSON.parse(event.newValue) as unknown;
          if (isMessage(message)) listener(message.key);
        } catch {
          // not ours
        }
      };
      globalThis.addEventListener?.('storage', onStorage);
      return () => globalThis.removeEventListener?.('storage', onStorage);
    },
    close() {},
  };
}

const tabListeners = /* @__PURE__ */ new Map<string, Set<(key: string, from: object) => void>>();

/** The session area: only this tab has the data, so only this tab's other instances need to hear. */
export function tabFeed(prefix: string): ChangeFeed {
  const self = {};
  const own = new Set<(key: string, from: object) => void>();
  const peers = (): Set<(key: string, from: object) => void> => {
    let set = tabListeners.get(prefix);
    if (!set) tabListeners.set(prefix, (set = new Set()));
    return set;
  };
  return {
    kind: 'tab',
    announce(key) {
      for (const deliver of [...peers()]) deliver(key, self);
    },
    listen(listener) {
      const deliver = (key: string, from: object): void => {
        if (from !== self) listener(key);
      };
      own.add(deliver);
      peers().add(deliver);
      return () => {
        own.delete(deliver);
        peers().delete(deliver);
      };
    },
    close() {
      for (const deliver of own) peers().delete(deliver);
      own.clear();
      if (peers().size === 0) tabListeners.delete(prefix);
    },
  };
}
