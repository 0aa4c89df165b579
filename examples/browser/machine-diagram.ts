/**
 * The lifecycle machine drawn offline: the Mermaid text that machines/lifecycle/diagram.ts builds
 * from the machine itself (the same text as docs/machine.md) is read back into its states and
 * transitions, and drawn as a small SVG: the six top-level states (degraded with its three
 * sub-states) and the transient `evaluating`, one arrow per pair of states that a transition joins, and the current state lit.
 * No Mermaid renderer, no network.
 */
import { tokenMachine } from '../../machines/index.js';
import { toMermaid } from '../../machines/lifecycle/diagram.js';

export interface DiagramEdge {
  /** Top-level state names (`any state` for transitions declared on the root). */
  readonly from: string;
  readonly to: string;
  /** `event [guard] / actions`, as in the Mermaid text. */
  readonly labels: string[];
}

export interface MachineDiagram {
  readonly mermaid: string;
  readonly states: string[];
  readonly subStates: Record<string, string[]>;
  readonly edges: DiagramEdge[];
}

/** `degraded_retrying` → `degraded`; `root_any_state` → `any state`. */
function topLevel(mermaidId: string): string {
  return mermaidId === 'root_any_state' ? 'any state' : (mermaidId.split('_')[0] ?? mermaidId);
}

/** States and transitions read from the Mermaid text of the machine. */
export function machineDiagram(): MachineDiagram {
  const mermaid = toMermaid(tokenMachine);
  const states: string[] = Object.keys(tokenMachine.root.states);
  const subStates: Record<string, string[]> = {};
  for (const name of states) {
    const children = Object.keys(tokenMachine.root.states[name]?.states ?? {});
    if (children.length > 0) subStates[name] = children;
  }
  const byPair = new Map<string, DiagramEdge>();
  for (const line of mermaid.split('\n')) {
    const match = /^\s*([A-Za-z0-9_]+) --> ([A-Za-z0-9_]+) : (.*)$/.exec(line);
    if (!match) continue;
    const [, source = '', target = '', label = ''] = match;
    const from = topLevel(source);
    const to = topLevel(target);
    const pair = `${from}>${to}`;
    const edge = byPair.get(pair) ?? { from, to, labels: [] };
    edge.labels.push(label);
    byPair.set(pair, edge);
  }
  return { mermaid, states, subStates, edges: [...byPair.values()] };
}

/**
 * Where each top-level state sits (SVG units): the happy path on top, the machine's transient
 * `evaluating` (eventless routing from the clock, never a resting state) in the middle, trouble below.
 */
const LAYOUT: Record<string, { x: number; y: number }> = {
  idle: { x: 20, y: 20 },
  valid: { x: 200, y: 20 },
  nearExpiry: { x: 380, y: 20 },
  refreshing: { x: 560, y: 20 },
  evaluating: { x: 290, y: 110 },
  degraded: { x: 470, y: 190 },
  reauthRequired: { x: 110, y: 190 },
};
const TRANSIENT = new Set(['evaluating']);
const BOX = { w: 140, h: 44 };
const DEGRADED_H = 120;

function centre(state: string): { x: number; y: number } {
  const p = LAYOUT[state] ?? { x: 0, y: 0 };
  return { x: p.x + BOX.w / 2, y: p.y + (state === 'degraded' ? DEGRADED_H : BOX.h) / 2 };
}

/** Where the line from `towards` to the centre of `state` meets its box's border (arrows end there). */
function border(state: string, towards: { x: number; y: number }): { x: number; y: number } {
  const c = centre(state);
  const halfH = (state === 'degraded' ? DEGRADED_H : BOX.h) / 2;
  const dx = towards.x - c.x;
  const dy = towards.y - c.y;
  const t = Math.min(dx === 0 ? Infinity : BOX.w / 2 / Math.abs(dx), dy === 0 ? Infinity : halfH / Math.abs(dy));
  return Number.isFinite(t) ? { x: c.x + dx * t, y: c.y + dy * t } : c;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The diagram as SVG markup, `current` (top-level) and `detail` (sub-state) highlighted. */
export function renderDiagramSvg(diagram: MachineDiagram, current: string, detail?: string): string {
  const parts: string[] = [
    '<svg class="machine" viewBox="0 0 720 330" role="img" aria-label="token lifecycle state machine">',
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>',
  ];
  for (const edge of diagram.edges) {
    if (edge.from === edge.to || !(edge.from in LAYOUT) || !(edge.to in LAYOUT)) continue;
    const a = centre(edge.from);
    const b = centre(edge.to);
    // Bend each direction to its own side, so A→B and B→A do not overlap.
    const mx = (a.x + b.x) / 2 + (b.y - a.y) * 0.15;
    const my = (a.y + b.y) / 2 - (b.x - a.x) * 0.15;
    const start = border(edge.from, { x: mx, y: my });
    const end = border(edge.to, { x: mx, y: my });
    const lit = edge.from === current ? ' lit' : '';
    const at = (n: number): string => n.toFixed(1);
    parts.push(
      `<path class="edge${lit}" d="M${at(start.x)},${at(start.y)} Q${at(mx)},${at(my)} ${at(end.x)},${at(end.y)}" marker-end="url(#arrow)">` +
        `<title>${escapeXml(`${edge.from} → ${edge.to}: ${edge.labels.join(' | ')}`)}</title></path>`,
    );
  }
  for (const state of diagram.states) {
    const p = LAYOUT[state];
    if (!p) continue;
    const height = state === 'degraded' ? DEGRADED_H : BOX.h;
    const cls = `state${TRANSIENT.has(state) ? ' transient' : ''}${state === current ? ' current' : ''}`;
    parts.push(`<g class="${cls}" data-state-node="${state}"><rect x="${p.x}" y="${p.y}" width="${BOX.w}" height="${height}" rx="8"/>`);
    parts.push(`<text x="${p.x + BOX.w / 2}" y="${p.y + 27}" text-anchor="middle">${state}</text>`);
    (diagram.subStates[state] ?? []).forEach((sub, i) => {
      const y = p.y + 40 + i * 25;
      const subCls = state === current && sub === detail ? 'sub current' : 'sub';
      parts.push(`<g class="${subCls}" data-state-node="${state}.${sub}"><rect x="${p.x + 12}" y="${y}" width="${BOX.w - 24}" height="20" rx="5"/>` +
        `<text x="${p.x + BOX.w / 2}" y="${y + 14}" text-anchor="middle">${sub}</text></g>`);
    });
    parts.push('</g>');
  }
  parts.push('</svg>');
  return parts.join('');
}

/** The transitions as a table: the ones leaving the current state first and marked. */
export function renderTransitionList(diagram: MachineDiagram, current: string): string {
  const rows = [...diagram.edges]
    .sort((x, y) => Number(y.from === current) - Number(x.from === current))
    .map((edge) => {
      const cls = edge.from === current || edge.from === 'any state' ? ' class="lit"' : '';
      return `<tr${cls}><td>${escapeXml(edge.from)}</td><td>→ ${escapeXml(edge.to)}</td><td>${edge.labels.map(escapeXml).join('<br>')}</td></tr>`;
    });
  return `<table class="transitions"><thead><tr><th>from</th><th>to</th><th>event [guard] / actions</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}
