/**
 * token-lifecycle/testing is its own entry point: package.json maps it, the core and the adapters
 * never reach it (it is not in the main bundle), and it bundles for the browser with no Node
 * built-in and no test runner (vitest, jest and node:test users all import it).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { exports: Record<string, { import?: string; types?: string }> };

async function inputsOf(entry: string): Promise<{ inputs: string[]; leftOpen: string[] }> {
  const result = await build({
    stdin: { contents: `export * from './${entry}';`, resolveDir: root, sourcefile: 'entry.ts', loader: 'ts' },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    metafile: true,
    logLevel: 'silent',
  });
  const output = Object.values((result.metafile as Metafile).outputs)[0];
  return { inputs: Object.keys(output?.inputs ?? {}), leftOpen: (output?.imports ?? []).map((i) => i.path) };
}

describe('the token-lifecycle/testing entry point', () => {
  it('is mapped in package.json exports to the built kit', () => {
    expect(pkg.exports['./testing']).toEqual({ types: './dist/testing/index.d.ts', import: './dist/testing/index.js' });
  });

  it('bundles for the browser with xstate/graph, no Node built-in and no test runner', async () => {
    const { inputs, leftOpen } = await inputsOf('testing/index.js');
    expect(leftOpen).toEqual([]);
    expect(inputs.some((i) => /node_modules\/xstate\/.*graph/.test(i))).toBe(true);
    expect(inputs.filter((i) => /(^|\/)node_modules\/(vitest|@vitest|jest|@jest|chai)\//.test(i) || i.startsWith('node:'))).toEqual([]);
  });

  it.each(Object.entries(pkg.exports).filter(([name]) => name !== './testing' && name !== './package.json'))(
    '%s never reaches the kit',
    async (_name, target) => {
      const source = (target.import as string).replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts');
      const result = await build({
        entryPoints: [resolve(root, source)],
        bundle: true,
        write: false,
        format: 'esm',
        platform: 'node',
        packages: 'external',
        metafile: true,
        logLevel: 'silent',
      });
      const inputs = Object.keys(result.metafile.inputs);
      expect(inputs.length).toBeGreaterThan(1);
      expect(inputs.filter((i) => i.startsWith('testing/'))).toEqual([]);
    },
  );
});
