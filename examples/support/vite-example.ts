/**
 * The React and Vue examples: built by Vite (its JS API, production mode unless asked) into a
 * directory, then served by the browser example's server (examples/browser/server.ts) next to
 * oidc-provider on loopback.
 *
 *   npm run example:react      # or example:vue; --ttl 10 --port 8080 as for example:browser
 *
 * The test (test/browser/framework-examples.test.ts) builds the same way into a
 * temporary directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startBrowserExample, type BrowserExample, type BrowserExampleOptions } from '../browser/server.js';

export type FrameworkExample = 'react' | 'vue';

export interface ViteBuildOptions {
  /** `production` (default) or `development` (React's StrictMode double-invokes effects only there). */
  mode?: 'production' | 'development';
  /** Where the build goes (default: a new temporary directory). */
  outDir?: string;
}

/** The repository root, from the source tree (examples/support) or the build (dist/examples/support). */
function repositoryRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return resolve(here, here.split(/[\\/]/).includes('dist') ? '../../..' : '../..');
}

/** Builds examples/<name> with Vite; resolves to the output directory (index.html and assets/). */
export async function buildViteExample(name: FrameworkExample, options: ViteBuildOptions = {}): Promise<string> {
  const { build } = await import('vite');
  const mode = options.mode ?? 'production';
  const outDir = options.outDir ?? mkdtempSync(join(tmpdir(), `token-lifecycle-${name}-`));
  await build({
    configFile: false,
    root: join(repositoryRoot(), 'examples', name),
    mode,
    logLevel: 'warn',
    define: {
      // Vite sets NODE_ENV=production for any build mode; React's development build needs it said.
      ...(mode === 'development' ? { 'process.env.NODE_ENV': '"development"' } : {}),
      // Vue's esm-bundler build asks for its feature flags (what @vitejs/plugin-vue would define).
      __VUE_OPTIONS_API__: 'false',
      __VUE_PROD_DEVTOOLS__: 'false',
      __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
    },
    build: { outDir, emptyOutDir: true, minify: mode === 'production', reportCompressedSize: false, chunkSizeWarningLimit: 2048 },
  });
  return outDir;
}

export interface RunningViteExample extends BrowserExample {
  readonly outDir: string;
}

/** Builds the example and serves it with oidc-provider; `stop()` also removes a temporary build. */
export async function startViteExample(
  name: FrameworkExample,
  options: BrowserExampleOptions & ViteBuildOptions = {},
): Promise<RunningViteExample> {
  const outDir = await buildViteExample(name, options);
  const example = await startBrowserExample({ ...options, staticDir: outDir });
  return {
    ...example,
    outDir,
    async stop() {
      await example.stop();
      if (!options.outDir) rmSync(outDir, { recursive: true, force: true });
    },
  };
}

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const name = process.argv[2] === 'vue' ? 'vue' : 'react';
  const example = await startViteExample(name, {
    accessTokenTtl: Number(argument('--ttl') ?? 10),
    port: Number(argument('--port') ?? 0),
  });
  console.log(`${name} example: ${example.url}  (authorization server ${example.issuer}; Ctrl-C stops)`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void example.stop().then(() => process.exit(0)));
}
