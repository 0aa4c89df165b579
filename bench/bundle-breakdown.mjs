// The browser app bundle (issue 13), module by module: `node bench/bundle-breakdown.mjs [--files]`.
// Same build as test/unit/layout/browser-bundle.test.ts (esbuild, browser, ESM, es2022, minified,
// gzip -9). A module's "marginal" cost is what the gzip of the whole bundle loses without that
// module's bytes (gzip does not add up per file; the marginals sum to about the total).
// APP='export { x } from ...' replaces the app's imports.
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const APP =
  process.env.APP ??
  `export { createTokenManager } from './index.js';
export { webStorage } from './adapters/storage/web/index.js';
export { authFetch } from './adapters/http/index.js';
export { oauth2Endpoint } from './adapters/oauth2/index.js';`;

async function bundle(external = []) {
  const result = await build({
    stdin: { contents: APP, resolveDir: root, sourcefile: 'browser-app.ts', loader: 'ts' },
    bundle: true, write: false, format: 'esm', platform: 'browser', target: 'es2022', minify: true,
    metafile: true, logLevel: 'silent', external,
  });
  return { bytes: Buffer.from(result.outputFiles[0].contents), metafile: result.metafile };
}

const gzip = (bytes) => gzipSync(bytes, { level: 9 }).byteLength;
const whole = await bundle();
const total = gzip(whole.bytes);
const withoutXstate = gzip((await bundle(['xstate'])).bytes);
console.log(`${whole.bytes.length} B minified, ${total} B min+gzip; xstate ${total - withoutXstate} B, ours ${withoutXstate} B`);

// esbuild writes the inputs in the order of the metafile's output inputs: slice the output by them.
const rows = [];
let offset = 0;
for (const [input, { bytesInOutput }] of Object.entries(Object.values(whole.metafile.outputs)[0].inputs)) {
  if (!bytesInOutput) continue;
  const rest = Buffer.concat([whole.bytes.subarray(0, offset), whole.bytes.subarray(offset + bytesInOutput)]);
  rows.push({ input: input.replace(/^.*node_modules\//, ''), minified: bytesInOutput, marginal: total - gzip(rest) });
  offset += bytesInOutput;
}
const folders = new Map();
for (const row of rows) {
  const folder = row.input.split('/').slice(0, -1).join('/');
  const sum = folders.get(folder) ?? { minified: 0, marginal: 0 };
  folders.set(folder, { minified: sum.minified + row.minified, marginal: sum.marginal + row.marginal });
}
const line = (name, { minified, marginal }) => `${String(minified).padStart(7)} ${String(marginal).padStart(6)}  ${name}`;
console.log('minified, marginal gzip, by folder:');
for (const [folder, sums] of [...folders].sort((a, b) => b[1].marginal - a[1].marginal)) console.log(line(folder, sums));
if (process.argv.includes('--files')) {
  console.log('by file:');
  for (const row of rows.sort((a, b) => b.marginal - a.marginal)) console.log(line(row.input, row));
}
