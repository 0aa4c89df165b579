/**
 * Smoke test of `npm run demo`: runs the compiled demo (`node dist/examples/demo.js --fast`) as a
 * child process, as users do after `npm ci`. dist/ is rebuilt first only when a source is newer.
 *
 * No token value may appear in the output (R13). The child's tokens are unknown here, so the check
 * is by shape: oidc-provider's opaque tokens are 43 base64url characters and its ID tokens are JWTs
 * (`eyJ...`); no run of 24+ base64url characters and no `eyJ` may appear anywhere in the output.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const demo = join(root, 'dist', 'examples', 'demo.js');
const SOURCES = ['index.ts', 'machines', 'adapters', 'examples'];

async function newestSource(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) return path.endsWith('.ts') ? info.mtimeMs : 0;
  const entries = await readdir(path);
  const times = await Promise.all(entries.map((entry) => newestSource(join(path, entry))));
  return Math.max(0, ...times);
}

async function isStale(): Promise<boolean> {
  const built = await stat(demo).then((s) => s.mtimeMs, () => 0);
  const times = await Promise.all(SOURCES.map((source) => newestSource(join(root, source))));
  return Math.max(...times) > built;
}

describe('npm run demo', () => {
  beforeAll(async () => {
    if (!(await isStale())) return;
    // Only the demo's import graph is compiled (about half the time of the full build), with the
    // build's own options, into the same dist/ paths. tsc emits even when some other file has a type
    // error; `npm test` type-checks separately, so only the demo's own run decides here.
    const dir = await mkdtemp(join(tmpdir(), 'tl-demo-build-'));
    const config = join(dir, 'tsconfig.json');
    await writeFile(config, JSON.stringify({
      extends: join(root, 'tsconfig.build.json'),
      compilerOptions: { rootDir: root, outDir: join(root, 'dist'), typeRoots: [join(root, 'node_modules', '@types')] },
      include: [],
      files: [join(root, 'examples', 'demo.ts')],
    }));
    try {
      await run(join(root, 'node_modules', '.bin', 'tsc'), ['-p', config], { cwd: root }).catch(() => undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('tells the lifecycle story with --fast, exits 0 by itself, and prints no token value', async () => {
    const started = Date.now();
    const { stdout, stderr } = await run(process.execPath, [demo, '--fast'], { cwd: root, timeout: 40_000 }).catch(
      (error: { code?: unknown; stdout?: string; stderr?: string }) => {
        throw new Error(`demo failed (exit ${String(error.code)}):\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
      },
    );
    const elapsed = Date.now() - started;
    const output = stdout + stderr;

    expect(stderr).toBe('');
    expect(stdout).toMatch(/logged in \(authorization_code \+ PKCE\)/);
    expect(stdout).toMatch(/-> valid/);
    expect(stdout).toMatch(/-> refreshing/);
    expect(stdout).toMatch(/refreshed: new access token/);
    expect(stdout).toMatch(/-> degraded \(retrying\)/);
    expect(stdout).toMatch(/getToken\(\) still serves #[0-9a-f]{6} \(the old token, still valid\)/);
    expect(stdout).toMatch(/degraded \(retrying\) -> refreshing[\s\S]*recovered: serving a new token #[0-9a-f]{6}/);
    expect(stdout).toMatch(/the server revokes the grant[\s\S]*-> degraded \(rejected\)[\s\S]*still serves #[0-9a-f]{6} until it expires/);
    expect(stdout).toMatch(/degraded \(rejected\) -> reauthRequired[\s\S]*getToken\(\) now rejects with reauth_required \(reason invalid_grant\)/);
    expect(stdout).toMatch(/done: /);
    expect(output).not.toMatch(/[A-Za-z0-9_-]{24,}/);
    expect(output).not.toMatch(/eyJ/);
    // --fast: the story takes about 9 s; 15 s is the promise (process start included).
    expect(elapsed).toBeLessThan(25_000);
  }, 60_000);
});
