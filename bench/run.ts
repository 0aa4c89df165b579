/**
 * `npm run bench [-- --quick] [--json [FILE]] [--only a,b]`: runs every bench module, each in a fresh
 * child process (`--expose-gc`), and prints one table of figures with their same-run baselines and
 * ratios. A module that is not there (another engineer's, not written yet) is skipped with a note.
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { verdict, type Figure } from './support/figure.js';

/** In run order: the cheap, noise-sensitive ones first. */
const MODULES = ['hot-path', 'herd', 'wrapper-overhead', 'refresh-overhead', 'scale', 'churn', 'postgres-scale', 'cli-start', 'fleet', 'peers'] as const;
const DEFAULT_JSON = 'bench-results.json';

interface Args {
  quick: boolean;
  wall: boolean;
  json: string | undefined;
  only: string[] | undefined;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { quick: false, wall: false, json: undefined, only: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--quick') args.quick = true;
    else if (arg === '--wall') args.wall = true;
    else if (arg === '--json') {
      const next = argv[i + 1];
      args.json = next !== undefined && !next.startsWith('--') ? (i++, next) : DEFAULT_JSON;
    } else if (arg.startsWith('--json=')) args.json = arg.slice('--json='.length) || DEFAULT_JSON;
    else if (arg === '--only') args.only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (arg.startsWith('--only=')) args.only = arg.slice('--only='.length).split(',').filter(Boolean);
    else if (arg === '--help' || arg === '-h') {
      console.log(`usage: npm run bench -- [--quick] [--wall] [--json [FILE]] [--only ${MODULES.join(',')}]`);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}`);
  }
  return args;
}

type Outcome = { figures: Figure[] } | { skipped: string } | { error: string };

function runModule(name: string, quick: boolean, wall: boolean): Promise<Outcome> {
  const moduleUrl = new URL(`./${name}.js`, import.meta.url);
  if (!existsSync(moduleUrl)) return Promise.resolve({ skipped: `bench/${name}.ts is not there (yet)` });
  const timeoutMs = quick ? 90_000 : 900_000;
  return new Promise((resolve) => {
    let figures: Figure[] | undefined;
    const child = fork(fileURLToPath(new URL('./support/child.js', import.meta.url)), [moduleUrl.href, ...(quick ? ['--quick'] : [])], {
      execArgv: ['--expose-gc'],
      env: { ...process.env, BENCH_CLOCK: wall ? 'wall' : 'cpu' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('message', (message: { figures?: Array<Partial<Figure>> }) => {
      figures = message.figures?.map(normalize);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (figures) resolve({ figures });
      else resolve({ error: signal ? `killed (${signal}) after ${timeoutMs / 1000} s` : `exited with code ${code ?? '?'}` });
    });
  });
}

/** Modules written by others may leave `goal` out: such a figure is informational. */
function normalize(f: Partial<Figure>): Figure {
  const value = Number(f.value);
  const baseline = Number(f.baseline);
  return {
    name: String(f.name ?? '?'),
    value,
    unit: String(f.unit ?? ''),
    baseline,
    ratio: typeof f.ratio === 'number' ? f.ratio : value / baseline,
    goal: typeof f.goal === 'string' && f.goal !== '' ? f.goal : 'info',
  };
}

const numberFormat = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 4 });
function fmt(x: number): string {
  return Number.isFinite(x) ? numberFormat.format(x) : String(x);
}

function printTable(rows: Figure[]): void {
  const cells = rows.map((f) => {
    const v = verdict(f);
    return [f.name, fmt(f.value), f.unit, fmt(f.baseline), fmt(f.ratio), f.goal, v === undefined ? '-' : v ? 'PASS' : 'FAIL'];
  });
  const header = ['figure', 'value', 'unit', 'baseline', 'ratio', 'goal', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: string[]): string =>
    c.map((cell, i) => (i === 0 || i === 2 || i === 5 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const unknown = args.only?.filter((n) => !(MODULES as readonly string[]).includes(n)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown bench module(s): ${unknown.join(', ')}`);
  const selected = MODULES.filter((m) => !args.only || args.only.includes(m));
  const cpus = os.cpus();
  console.log(
    `token-lifecycle bench${args.quick ? ' (quick)' : ''}: node ${process.version}, ${cpus.length} cores (${cpus[0]?.model.trim() ?? '?'}), ${os.platform()} ${os.arch()}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; timing: ${args.wall ? 'wall clock' : 'process CPU time (--wall for wall clock)'}`,
  );
  const started = performance.now();
  const all: Figure[] = [];
  const notes: string[] = [];
  let failedModules = 0;
  for (const name of selected) {
    const t0 = performance.now();
    const outcome = await runModule(name, args.quick, args.wall);
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    if ('figures' in outcome) {
      all.push(...outcome.figures);
      console.log(`  ${name}: ${outcome.figures.length} figure(s) in ${seconds} s`);
    } else if ('skipped' in outcome) {
      notes.push(`${name}: skipped, ${outcome.skipped}`);
      console.log(`  ${name}: skipped (${outcome.skipped})`);
    } else {
      failedModules++;
      notes.push(`${name}: ERROR, ${outcome.error}`);
      console.log(`  ${name}: ERROR (${outcome.error})`);
    }
  }
  console.log('');
  printTable(all);
  const failed = all.filter((f) => verdict(f) === false).length;
  console.log('');
  for (const note of notes) console.log(`note: ${note}`);
  console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} (figures are best-of interleaved samples; docs/performance.md)`);
  console.log(
    `${all.length} figures, ${failed} FAIL, ${failedModules} module error(s), ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  if (args.json) {
    await writeFile(args.json, `${JSON.stringify(all, null, 2)}\n`);
    console.log(`figures written to ${args.json}`);
  }
  if (failedModules > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 2;
});
