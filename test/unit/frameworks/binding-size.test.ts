/**
 * Each framework binding's own cost (issue 19): minified + gzip, what it adds beyond the core and its
 * framework, which the app pays anyway (both left out of the bundle), stays ≤ 1.5 KB. Deterministic:
 * the same source gives the same bytes.
 */
import { gzipSync } from 'node:zlib';
import { dirname, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');
const frameworks = resolve(root, 'adapters/frameworks');
const BUDGET = 1536;

/** Leaves out everything that is not the binding itself: the framework and the core's modules. */
const bindingOnly: Plugin = {
  name: 'binding-only',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      if (!args.path.startsWith('.')) return { path: args.path, external: true };
      const target = resolve(dirname(args.importer), args.path);
      return target.startsWith(frameworks) ? undefined : { path: target, external: true };
    });
  },
};

async function ownBytes(entry: string): Promise<{ gzip: number; inputs: string[] }> {
  const result = await build({
    entryPoints: [resolve(frameworks, entry)],
    bundle: true,
    minify: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    metafile: true,
    plugins: [bindingOnly],
    logLevel: 'silent',
  });
  const text = result.outputFiles[0]?.text ?? '';
  return { gzip: gzipSync(text).length, inputs: Object.keys(result.metafile.inputs) };
}

describe('framework bindings: own size, min+gzip', () => {
  it.each(['react/index.ts', 'vue/index.ts'])('%s ≤ 1.5 KB', async (entry) => {
    const { gzip, inputs } = await ownBytes(entry);
    console.log(`${entry}: ${gzip} B min+gzip`);
    // It measured the binding (not an empty bundle) and nothing of the core.
    expect(inputs.some((input) => input.includes('frameworks/'))).toBe(true);
    expect(inputs.filter((input) => input.includes('machines/'))).toEqual([]);
    expect(gzip).toBeGreaterThan(200);
    expect(gzip).toBeLessThanOrEqual(BUDGET);
  });
});
