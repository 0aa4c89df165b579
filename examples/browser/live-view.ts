/**
 * The live view of one credential: the machine diagram with the current state lit (from the typed
 * actor's snapshot), time to refresh and to expiry (from `status()`), and the last events. Tokens
 * appear as fingerprints only. Everything here is offline: no inspector service, no network.
 */
import type { TokenActor, TokenEvent, TokenManager } from '../../index.js';
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
    <ol class="events" data-testid="events"></ol>`;
  const q = (id: string): HTMLElement => root.querySelector(`[data-testid="${id}"]`) as HTMLElement;
  // The typed actor (ActorRefFrom<typeof tokenMachine>): snapshot.value is the machine's own state value.
  const actor: TokenActor = manager.actor(key);
  let drawn = '';
  let served: string | undefined;

  function render(): void {
    const [state, detail] = stateOf(actor.getSnapshot().value);
    const status = manager.status(key);
    const label = detail ? `${state}.${detail}` : state;
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
