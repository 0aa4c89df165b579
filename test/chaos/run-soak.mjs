// Bundles the soak (TypeScript, test tree) with esbuild and runs it: `npm run test:chaos -- --steps N`.
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Inside the repo so the bundle's bare imports (fast-check, xstate) resolve from node_modules.
const dir = fileURLToPath(new URL('../../node_modules/.cache/token-lifecycle-chaos/', import.meta.url));
mkdirSync(dir, { recursive: true });
const out = join(dir, 'soak.mjs');
await build({
  entryPoints: [fileURLToPath(new URL('./soak.ts', import.meta.url))],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: out,
  packages: 'external',
  logLevel: 'warning',
});
await import(pathToFileURL(out).href);
