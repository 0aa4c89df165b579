/**
 * Start-up of the CLI's offline path: the median wall time of `token-lifecycle token get` (a stored
 * token far from expiry: no network, no manager) against a bare `node -e 0` measured in the same run,
 * interleaved so that machine load hits both alike. Goal: at most 2.5× bare Node (issue 4).
 *
 * Runs the built bin next to this file (dist/bin/token-lifecycle.cjs, the esbuild bundle of
 * scripts/bundle-cli.mjs): `npm run build` first. The full run also times the unbundled tsc output
 * (dist/adapters/cli/main.js), the figure behind the choice of a bundle (docs/cli.md).
 * On its own: `node dist/bench/cli-start.js [--quick]`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fileStorage } from '../adapters/file/index.js';

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline: number;
  ratio: number;
  goal?: string;
}

const GOAL_RATIO = 2.5;
const BIN = fileURLToPath(new URL('../bin/token-lifecycle.cjs', import.meta.url));
const UNBUNDLED = fileURLToPath(new URL('../adapters/cli/main.js', import.meta.url));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Wall time of one child process, in ms; `check` sees its output. */
function timed(args: string[], env: NodeJS.ProcessEnv, check?: (stdout: string, status: number | null) => void): number {
  const started = performance.now();
  const child = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
  const elapsed = performance.now() - started;
  check?.(child.stdout, child.status);
  return elapsed;
}

export default async function run(opts: { quick: boolean }): Promise<BenchResult[]> {
  if (!existsSync(BIN)) throw new Error(`cli-start: ${BIN} is missing; run \`npm run build\` first`);
  const dir = await mkdtemp(join(tmpdir(), 'tl-bench-cli-'));
  try {
    const path = join(dir, 'tokens.json');
    const now = Date.now();
    const accessToken = 'bench-access-token';
    await fileStorage({ path }).set('default', {
      accessToken,
      tokenType: 'Bearer',
      obtainedAt: now,
      expiresAt: now + 24 * 3_600_000,
      refreshToken: 'bench-refresh-token',
      version: 1,
    });
    // Only what the command needs: no inherited settings (an ISSUER, a threshold) can change the path taken.
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, TOKEN_STORE_PATH: path };
    const check = (stdout: string, status: number | null): void => {
      if (status !== 0 || stdout !== `${accessToken}\n`) throw new Error(`cli-start: token get failed (exit ${status})`);
    };
    const variants: Array<{ name: string; args: string[]; goal?: string }> = [
      { name: 'cli-start: token get (offline) vs node -e 0', args: [BIN, 'token', 'get'], goal: `ratio <= ${GOAL_RATIO}` },
    ];
    if (!opts.quick && existsSync(UNBUNDLED)) {
      variants.push({ name: 'cli-start: token get, unbundled tsc output (for comparison)', args: [UNBUNDLED, 'token', 'get'] });
    }

    const rounds = opts.quick ? 9 : 31;
    const bare: number[] = [];
    const times = variants.map(() => [] as number[]);
    const runAll = (record: boolean, reverse: boolean): void => {
      const order = [-1, ...variants.keys()];
      for (const i of reverse ? order.reverse() : order) {
        const variant = variants[i];
        const ms = variant ? timed(variant.args, env, check) : timed(['-e', '0'], env);
        if (record) (variant ? (times[i] as number[]) : bare).push(ms);
      }
    };
    // Warm-up (file system and page caches), then rounds in alternating order so that load and
    // caches hit every side alike.
    for (let i = 0; i < 2; i++) runAll(false, false);
    for (let i = 0; i < rounds; i++) runAll(true, i % 2 === 1);

    const baseline = median(bare);
    const round = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;
    return variants.map((variant, i) => {
      const value = median(times[i] as number[]);
      return {
        name: variant.name,
        value: round(value, 1),
        unit: 'ms',
        baseline: round(baseline, 1),
        ratio: round(value / baseline, 2),
        ...(variant.goal ? { goal: variant.goal } : {}),
      };
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await run({ quick: process.argv.includes('--quick') });
  for (const r of results) {
    console.log(`${r.name}: ${r.value} ${r.unit} (baseline ${r.baseline} ${r.unit}, ratio ${r.ratio}; goal ${r.goal ?? '-'})`);
  }
}
