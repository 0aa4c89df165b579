/**
 * The browser example's offline diagram is the machine's own: its states and transitions are read
 * from the Mermaid text built from tokenMachine (machines/lifecycle/diagram.ts), and the current
 * state is the one lit.
 */
import { describe, expect, it } from 'vitest';
import { tokenMachine } from '../../../machines/index.js';
import { machineDiagram, renderDiagramSvg, renderTransitionList } from '../../../examples/browser/machine-diagram.js';

describe('the browser example\'s machine diagram', () => {
  const diagram = machineDiagram();

  it('has the machine\'s top-level states and degraded\'s sub-states', () => {
    expect(diagram.states).toEqual(Object.keys(tokenMachine.root.states));
    for (const state of ['idle', 'valid', 'nearExpiry', 'refreshing', 'degraded', 'reauthRequired']) expect(diagram.states).toContain(state);
    expect(diagram.subStates).toEqual({ degraded: ['retrying', 'rejected', 'expired'] });
  });

  it('joins the states the machine\'s transitions join, with their labels', () => {
    const pairs = diagram.edges.map((e) => `${e.from}>${e.to}`);
    expect(pairs).toContain('refreshing>degraded');
    expect(pairs).toContain('degraded>reauthRequired');
    expect(pairs).toContain('any state>idle');
    // No transition leads from idle straight to refreshing in this machine: not drawn either.
    expect(pairs).not.toContain('idle>refreshing');
    const labels = diagram.edges.flatMap((e) => e.labels).join('\n');
    expect(labels).toContain('after untilRefreshWindow');
    expect(diagram.edges.reduce((n, e) => n + e.labels.length, 0)).toBe(diagram.mermaid.split('\n').filter((l) => l.includes(' --> ') && !l.includes('[*]')).length);
  });

  it('lights the current state and sub-state, and only those', () => {
    const svg = renderDiagramSvg(diagram, 'degraded', 'rejected');
    expect(svg.match(/class="state current"/g)).toHaveLength(1);
    expect(svg).toContain('<g class="state current" data-state-node="degraded">');
    expect(svg).toContain('<g class="sub current" data-state-node="degraded.rejected">');
    expect(svg).toContain('<g class="sub" data-state-node="degraded.retrying">');
    const table = renderTransitionList(diagram, 'degraded');
    expect(table.indexOf('<tr class="lit"><td>degraded</td>')).toBeGreaterThan(-1);
  });
});
