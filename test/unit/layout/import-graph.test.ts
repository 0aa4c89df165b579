/**
 * The house's arrows (docs/architecture.md): dependencies point inwards and no runtime import forms a
 * cycle. Read from the source text: every relative `import … from` and `export … from` that is not
 * type-only (type imports vanish at run time and may point anywhere).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

const RUNTIME_IMPORT = /^\s*(?:import|export)\s+(?!type\b)(?:[^'"]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]/gm;

/** file (repo-relative) -> the files it imports at run time */
function runtimeGraph(dirs: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of dirs.flatMap((d) => sourceFiles(join(root, d)))) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(RUNTIME_IMPORT)].map((m) => {
      const target = resolve(dirname(file), (m[1] as string).replace(/\.js$/, '.ts'));
      return relative(root, target);
    });
    graph.set(relative(root, file), targets);
  }
  return graph;
}

function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  function visit(node: string): string[] | undefined {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'open') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  }
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

describe('the import graph', () => {
  const graph = runtimeGraph(['machines', 'adapters']);

  it('reads the source (the check would pass vacuously on an empty graph)', () => {
    expect(graph.get('machines/manager/manager.ts')).toContain('machines/manager/actors.ts');
    expect(graph.size).toBeGreaterThan(50);
  });

  it('has no runtime import cycle in machines/ or adapters/', () => {
    expect(findCycle(graph)).toBeUndefined();
  });

  it('finds a cycle when there is one', () => {
    expect(findCycle(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]]))).toEqual(['a', 'b', 'c', 'a']);
  });

  it('points inwards: lifecycle imports only lifecycle; machines never imports adapters', () => {
    for (const [file, targets] of graph) {
      if (file.startsWith('machines/lifecycle/')) {
        expect(targets.filter((t) => !t.startsWith('machines/lifecycle/')), file).toEqual([]);
      }
      if (file.startsWith('machines/')) {
        expect(targets.filter((t) => t.startsWith('adapters/')), file).toEqual([]);
      }
    }
  });
});
