#!/usr/bin/env node
/**
 * Bundles the `token-lifecycle` CLI into two CommonJS files next to each other:
 *   dist/bin/token-lifecycle.cjs           the bin (adapters/cli/main.ts): argument parsing and the
 *                                          offline `token get`;
 *   dist/bin/token-lifecycle-commands.cjs  everything else (adapters/cli/cold.ts): storage
 *                                          adapters, the manager (XState), the endpoint,
 *                                          required only when a command needs it.
 * Why: start-up. The offline `token get` must stay within 2.5× a bare `node -e 0` (issue 4). Measured
 * on the 2-core CI box (docs/cli.md, "Start-up"): tsc's unbundled ESM output ~3× bare Node (ESM
 * loader, ~30 module files), one CJS bundle of everything ~2×, the split bin ~1.6×.
 *
 * Usage: node adapters/cli/bundle.mjs [--outfile PATH]   (npm run build runs it after tsc; the
 * commands file goes next to PATH)
 */
import { chmod } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const COMMANDS_FILE = 'token-lifecycle-commands.cjs';
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const outfileArg = process.argv.indexOf('--outfile');
const outfile = resolve(outfileArg > 0 ? process.argv[outfileArg + 1] : join(root, 'dist/bin/token-lifecycle.cjs'));

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Optional peer dependencies, required at run time only when asked for: ioredis (--store redis),
  // @napi-rs/keyring (--store keychain; a native module, which no bundle can hold).
  external: ['ioredis', '@napi-rs/keyring'],
  legalComments: 'none',
  logLevel: 'warning',
};

/** In the bin, adapters/cli/load-cold.ts requires the commands file next to it instead of bundling cold.ts. */
const coldAsSibling = {
  name: 'cold-as-sibling',
  setup(b) {
    b.onLoad({ filter: /[\\/]adapters[\\/]cli[\\/]load-cold\.ts$/ }, () => ({
      contents: `export function loadCold() { return Promise.resolve().then(() => require('./${COMMANDS_FILE}')); }`,
      loader: 'js',
    }));
    b.onResolve({ filter: /^\.\/token-lifecycle-commands\.cjs$/ }, (args) => ({ path: args.path, external: true }));
  },
};

await Promise.all([
  build({ ...common, entryPoints: [join(root, 'adapters/cli/main.ts')], outfile, plugins: [coldAsSibling] }),
  build({ ...common, entryPoints: [join(root, 'adapters/cli/cold.ts')], outfile: join(dirname(outfile), COMMANDS_FILE) }),
]);
await chmod(outfile, 0o755);
