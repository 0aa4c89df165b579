#!/usr/bin/env node
/**
 * Bundles the `token-lifecycle` CLI (adapters/cli/main.ts) into one CommonJS file,
 * dist/bin/token-lifecycle.cjs, the package's `bin`. Why a bundle: start-up. The offline
 * `token get` must stay within 2.5× a bare `node -e 0` (issue 4); measured on the 2-core CI box,
 * the unbundled ESM output of tsc costs ~1.8× bare Node in CPU time (ESM loader, ~30 module files)
 * and the CJS bundle ~1.3× (see docs/cli.md, "Start-up"). Code the offline path does not run
 * (XState, ky, the manager) is in the file but only initialised when a command needs it.
 *
 * Usage: node scripts/bundle-cli.mjs [--outfile PATH]   (npm run build runs it after tsc)
 */
import { chmod } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outfileArg = process.argv.indexOf('--outfile');
const outfile = resolve(outfileArg > 0 ? process.argv[outfileArg + 1] : resolve(root, 'dist/bin/token-lifecycle.cjs'));

await build({
  entryPoints: [resolve(root, 'adapters/cli/main.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // ioredis is an optional peer dependency: required at run time, only for --store redis.
  external: ['ioredis'],
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
});
await chmod(outfile, 0o755);
