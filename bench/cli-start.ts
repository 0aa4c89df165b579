/**
 * Start-up of the CLI's offline path: the median wall time of `token-lifecycle token get` (a stored
 * token far from expiry: no network, no manager) against a bare `node -e 0` measured in the same run,
 * interleaved so that machine load hits both alike. Goal: at most 2.5× bare Node (issue 4). The
 * same runs' CPU time (user + system of the whole child process, bootstrap included, read through a
 * one-line `--require` hook on both sides) is reported too: on a loaded machine it is the steadier
 * figure, since wall time there is mostly waiting for a core.
 *
 * Runs the built bin next to this file (dist/bin/token-lifecycle.cjs, the esbuild bundle of
 * adapters/cli/bundle.mjs): `npm run build` first. The full run also times the unbundled tsc output
 * (dist/adapters/cli/main.js), the figure behind the choice of a bundle (docs/cli.md).
 * On its own: `node dist/bench/cli-start.js [--quick]`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fileStorage } from '../adapters/storage/file/index.js';

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline: number;
  ratio: number;
  goal?: string;
}

const GOAL = 'ratio <= 2.5';
const BIN = fileURLToPath(new URL('../bin/token-lifecycle.cjs', import.meta.url));
const UNBUNDLED = fileURLToPath(new URL('../adapters/cli/main.js', import.meta.url));
/** Reports the child's CPU time on fd 3 as it exits (`process.cpuUsage()` counts from process start). */
const CPU_HOOK = "process.on('exit',()=>{try{require('fs').writeSync(3,JSON.stringify(process.cpuUsage()))}catch{}});\n";

interface Sample {
  readonly wallMs: number;
  readonly cpuMs: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const round = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;

export default async function run(opts: { quick: boolean }): Promise<BenchResult[]> {
  if (!existsSync(BIN)) throw new Error(`cli-start: ${BIN} is missing; run \`npm run build\` first`);
  const dir = await mkdtemp(join(tmpdir(), 'tl-bench-cli-'));
  try {
    const path = join(dir, 'tokens.json');
    const hook = join(dir, 'cpu-hook.cjs');
    await writeFile(hook, CPU_HOOK);
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
    // Only what the command needs: no inherited setting (an ISSUER, a threshold) can change the path taken.
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, TOKEN_STORE_PATH: path };

    const sample = (args: string[], expectToken: boolean): Sample => {
      const started = performance.now();
      const child = spawnSync(process.execPath, ['--require', hook, ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
      const wallMs = performance.now() - started;
      if (expectToken && (child.status !== 0 || child.stdout !== `${accessToken}\n`)) {
        throw new Error(`cli-start: token get failed (exit ${child.status})`);
      }
      const cpu = JSON.parse(String(child.output[3] ?? '{}')) as { user?: number; system?: number };
      return { wallMs, cpuMs: ((cpu.user ?? Number.NaN) + (cpu.system ?? Number.NaN)) / 1000 };
    };

    const variants: Array<{ label: string; args: string[]; judged: boolean }> = [{ label: 'token get (offline)', args: [BIN, 'token', 'get'], judged: true }];
    if (!opts.quick && existsSync(UNBUNDLED)) {
      variants.push({ label: 'token get, unbundled tsc output', args: [UNBUNDLED, 'token', 'get'], judged: false });
    }
    const bare: Sample[] = [];
    const samples = variants.map(() => [] as Sample[]);
    const round_ = (record: boolean, reverse: boolean): void => {
      const order = [-1, ...variants.keys()];
      for (const i of reverse ? order.reverse() : order) {
        const variant = variants[i];
        const s = variant ? sample(variant.args, true) : sample(['-e', '0'], false);
        if (record) (variant ? (samples[i] as Sample[]) : bare).push(s);
      }
    };
    // Warm-up (page cache), then rounds in alternating order so that load hits every side alike.
    for (let i = 0; i < 2; i++) round_(false, false);
    const rounds = opts.quick ? 9 : 31;
    for (let i = 0; i < rounds; i++) round_(true, i % 2 === 1);

    const results: BenchResult[] = [];
    for (const [i, variant] of variants.entries()) {
      for (const clock of ['wall', 'cpu'] as const) {
        const pick = (s: Sample): number => (clock === 'wall' ? s.wallMs : s.cpuMs);
        const value = median((samples[i] as Sample[]).map(pick));
        const baseline = median(bare.map(pick));
        results.push({
          name: `cli-start: ${variant.label}, ${clock === 'wall' ? 'wall' : 'CPU'} time vs node -e 0`,
          value: round(value, 1),
          unit: 'ms',
          baseline: round(baseline, 1),
          ratio: round(value / baseline, 2),
          // The figure is wall time; CPU time is reported for loaded machines.
          goal: variant.judged && clock === 'wall' ? GOAL : 'info',
        });
      }
    }
    return results;
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
