/**
 * The live view of one credential: the machine diagram with the current state lit (from the typed
 * actor's snapshot), time to refresh and to expiry (from `status()`), and the last events. Tokens
 * appear as fingerprints only. Everything here is offline: no inspector service, no network.
 */
import type { TokenActor, TokenEvent, TokenManager } from '../../index.js';
import { credentialTree } from './credential-tree.js';
import { machineDiagram, renderDiagramSvg, renderTransitionList } from './machine-diagram.js';

const diagram = machineDiagram();
const MAX_EVENTS = 12;

export interface CredentialView {
  /** Adds an event line (newest first). */
  event(event: TokenEvent, note?: string): void;
  /** Shows the fingerprint of the access token being served. */
  serving(fingerprint: string | undefined): void;
  /** Redraws times and state; called on every actor snapshot and on a ticker. */
  render(): void;
  /** Ends the view's subscription to the actor (a framework component's unmount). */
  dispose(): void;
  /** Where the views of credentials derived from this one go (R22: shown nested under their parent). */
  readonly children: HTMLElement;
}

function seconds(ms: number | undefined, past = 'now'): string {
  if (ms === undefined) return '—';
  return ms <= 0 ? past : `${(ms / 1000).toFixed(1)} s`;
}

/** `{ degraded: 'retrying' }` → ['degraded', 'retrying']; `'valid'` → ['valid']. */
function stateOf(value: unknown): [string, string | undefined] {
  if (typeof value === 'string') return [value, undefined];
  const [top, sub] = Object.entries(value as Record<string, unknown>)[0] ?? ['idle', undefined];
  return [top, typeof sub === 'string' ? sub : undefined];
}

function describe(event: TokenEvent): string {
  switch (event.type) {
    case 'state':
      return `state ${event.previous.state}${event.previous.detail ? `.${event.previous.detail}` : ''} → ${event.state}${event.detail ? `.${event.detail}` : ''}`;
    case 'refreshed':
      return `refreshed${event.rotated ? ' (refresh token rotated)' : ''}`;
    case 'refresh_failed':
      return `refresh failed: ${event.code}${event.retryable ? ' (will retry)' : ' (permanent)'}`;
    case 'reauth_required':
      return `re-authentication required: ${event.reason}`;
    case 'storage_failed':
      return `storage failed: ${event.code}`;
  }
}

export function mountCredentialView(root: HTMLElement, manager: TokenManager, key: string): CredentialView {
  root.dataset.credential = key;
  root.innerHTML = `
    <h2>credential <code>${key}</code></h2>
    <p class="derived-from" data-testid="derived-from" hidden>derived from <code></code></p>
    <div class="summary">
      <div>state <strong data-testid="state"></strong></div>
      <div>refresh in <strong data-testid="refresh-in"></strong></div>
      <div>expires in <strong data-testid="expires-in"></strong></div>
      <div>serving <code data-testid="serving">—</code></div>
    </div>
    <div class="diagram" data-testid="diagram"></div>
    <details><summary>transitions (from the machine)</summary><div data-testid="transitions"></div></details>
    <details><summary>Mermaid source (paste into mermaid.live or docs/machine.md)</summary><pre>${diagram.mermaid.replace(/</g, '&lt;')}</pre></details>
    <h3>last events</h3>
    <ol class="events" data-testid="events"></ol>
    <div class="children" data-testid="children"></div>`;
  const q = (id: string): HTMLElement => root.querySelector(`[data-testid="${id}"]`) as HTMLElement;
  // The typed actor (ActorRefFrom<typeof tokenMachine>): snapshot.value is the machine's own state value.
  const actor: TokenActor = manager.actor(key);
  let drawn = '';
  let served: string | undefined;

  function render(): void {
    const [state, detail] = stateOf(actor.getSnapshot().value);
    const status = manager.status(key);
    const label = detail ? `${state}.${detail}` : state;
    // R22: a derived credential names its parent (status().parent), idle or not.
    const derivedFrom = q('derived-from');
    derivedFrom.hidden = status.parent === undefined;
    (derivedFrom.querySelector('code') as HTMLElement).textContent = status.parent ?? '';
    if (status.parent === undefined) delete root.dataset.parent;
    else root.dataset.parent = status.parent;
    root.dataset.state = state;
    root.dataset.detail = detail ?? '';
    q('state').textContent = label;
    q('refresh-in').textContent = seconds(status.timeUntilRefresh);
    q('expires-in').textContent = seconds(status.timeUntilExpiry, 'expired');
    // Nothing usable is served in these states, whatever was served before.
    q('serving').textContent = state === 'reauthRequired' || state === 'idle' ? '—' : (served ?? '—');
    if (drawn !== label) {
      drawn = label;
      q('diagram').innerHTML = renderDiagramSvg(diagram, state, detail);
      q('transitions').innerHTML = renderTransitionList(diagram, state);
    }
  }
  const subscription = actor.subscribe(() => render());

  return {
    render,
    dispose: () => subscription.unsubscribe(),
    children: q('children'),
    serving(fingerprint) {
      served = fingerprint;
      render();
    },
    event(event, note) {
      const item = document.createElement('li');
      item.textContent = `${new Date(event.at).toISOString().slice(11, 23)} ${describe(event)}${note ? ` — ${note}` : ''}`;
      item.dataset.type = event.type;
      const list = q('events');
      list.prepend(item);
      while (list.children.length > MAX_EVENTS) list.lastElementChild?.remove();
    },
  };
}

/** Mounts `key`'s view in a new element inside `container` (a parent view's `children`, or the page). */
export function mountCredentialViewIn(container: HTMLElement, manager: TokenManager, key: string): CredentialView {
  const element = document.createElement('section');
  element.className = 'credential';
  container.append(element);
  return mountCredentialView(element, manager, key);
}

/**
 * The live views of several credentials as a tree (R22): each derived credential's view nested in
 * its parent's (`children`), as `credentialTree` orders them from `status()`. Keyed by credential.
 */
export function mountCredentialTree(root: HTMLElement, manager: TokenManager, keys: readonly string[]): Map<string, CredentialView> {
  const links = keys.map((key) => {
    const parent = manager.status(key).parent;
    return parent === undefined ? { key } : { key, parent };
  });
  const views = new Map<string, CredentialView>();
  for (const row of credentialTree(links)) {
    const parentView = row.depth > 0 && row.parent !== undefined ? views.get(row.parent) : undefined;
    views.set(row.key, mountCredentialViewIn(parentView?.children ?? root, manager, row.key));
  }
  return views;
}
