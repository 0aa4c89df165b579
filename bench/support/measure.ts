/**
 * Side-by-side throughput: each contender is a loop of `n` iterations (so loop overhead is the same
 * for all), calibrated to a sample length, warmed up, then sampled in interleaved rounds with the
 * order rotated; the figure is the best sample's ops/s. Interleaving keeps background load from
 * favouring one side, and the best sample is the one least disturbed by it (cache and CPU sharing
 * with other processes on a 2-core machine): a median moved by ±30 % between runs here, the best by
 * a few per cent.
 */
export type Loop = (n: number) => unknown;

export interface Contender {
  readonly name: string;
  readonly loop: Loop;
}

export interface SampleOptions {
  /** Target length of one sample. */
  readonly sampleMs: number;
  readonly rounds: number;
  readonly warmupMs: number;
}

/**
 * What a sample's duration is: process CPU time (user + system, all threads) by default, so other
 * processes on a shared 2-core machine do not stretch it (wall time there varied 2x between samples,
 * CPU time by 2-3 %); on an idle machine the two agree for these CPU-bound loopback loops.
 * `BENCH_CLOCK=wall` (the runner's `--wall`) measures wall time instead.
 */
export const CLOCK: 'cpu' | 'wall' = process.env.BENCH_CLOCK === 'wall' ? 'wall' : 'cpu';

/** Starts a stopwatch on the configured clock; the returned function reads elapsed ms. */
export function stopwatch(): () => number {
  if (CLOCK === 'wall') {
    const start = process.hrtime.bigint();
    return () => Number(process.hrtime.bigint() - start) / 1e6;
  }
  const start = process.cpuUsage();
  return () => {
    const d = process.cpuUsage(start);
    return (d.user + d.system) / 1000;
  };
}

/** A unit labelled with the clock: `ops/s` → `ops/cpu-s`, `µs/req` → `cpu µs/req`. */
export function timeUnit(unit: string): string {
  if (CLOCK === 'wall') return unit;
  return unit === 'ops/s' ? 'ops/cpu-s' : `cpu ${unit}`;
}

/** Keeps results observable so the optimiser cannot drop the work. */
export let sink: unknown;
export function consume(value: unknown): void {
  sink = value;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function timed(loop: Loop, n: number): Promise<number> {
  const elapsed = stopwatch();
  const result = loop(n);
  if (result instanceof Promise) await result;
  return elapsed();
}

async function calibrate(loop: Loop, sampleMs: number): Promise<number> {
  let n = 1_000;
  for (;;) {
    const ms = await timed(loop, n);
    if (ms >= sampleMs / 4 || n >= 1e9) return Math.max(1, Math.round((n * sampleMs) / Math.max(ms, 0.001)));
    n *= 4;
  }
}

/** Best-sample ops/s per contender, by name. */
export async function compareOps(contenders: readonly Contender[], options: SampleOptions): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for (const c of contenders) {
    const warmUntil = performance.now() + options.warmupMs;
    while (performance.now() < warmUntil) await timed(c.loop, 10_000);
  }
  for (const c of contenders) sizes.set(c.name, await calibrate(c.loop, options.sampleMs));
  const samples = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < options.rounds; round++) {
    for (let i = 0; i < contenders.length; i++) {
      const c = contenders[(i + round) % contenders.length] as Contender;
      const n = sizes.get(c.name) as number;
      samples.get(c.name)?.push(n / ((await timed(c.loop, n)) / 1000));
    }
  }
  return new Map([...samples].map(([name, values]) => [name, Math.max(...values)]));
}

/**
 * Each round's order of the contenders, shuffled (a fixed seed, so runs repeat): a rotated order
 * keeps every contender behind the same predecessor, whose leftover garbage and cold caches it then
 * always pays for (seen: the figure of a contender moved by 0.06 with who ran before it).
 */
function roundOrder<T>(contenders: readonly T[]): () => T[] {
  let seed = 0x2545f491;
  const random = (): number => {
    // xorshift32: small, fast and good enough to shuffle a handful of names.
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  return () => {
    const order = [...contenders];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j] as T, order[i] as T];
    }
    return order;
  };
}

/**
 * Mean time per operation (µs) for async operations run one after another (requests), interleaved:
 * each round runs `perRound` operations of every contender, order shuffled; the best round counts
 * (the least disturbed by other processes, as in `compareOps`).
 */
export async function compareLatency(
  contenders: ReadonlyArray<{ readonly name: string; readonly op: () => Promise<unknown> }>,
  options: { readonly warmup: number; readonly rounds: number; readonly perRound: number },
): Promise<Map<string, number>> {
  for (const c of contenders) for (let i = 0; i < options.warmup; i++) await c.op();
  const samples = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  const order = roundOrder(contenders);
  for (let round = 0; round < options.rounds; round++) {
    for (const c of order()) {
      const elapsed = stopwatch();
      for (let k = 0; k < options.perRound; k++) await c.op();
      samples.get(c.name)?.push((elapsed() * 1000) / options.perRound);
    }
  }
  return new Map([...samples].map(([name, values]) => [name, Math.min(...values)]));
}

export function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('run node with --expose-gc for heap figures');
  // Several passes: weak maps and finalisation can need more than one.
  for (let i = 0; i < 4; i++) collect();
}

/**
 * `compareLatency` on both clocks at once: each round's operations are timed by wall clock and by
 * process CPU time; the best round of each counts.
 */
export async function compareLatencyBoth(
  contenders: ReadonlyArray<{ readonly name: string; readonly op: () => Promise<unknown> }>,
  options: { readonly warmup: number; readonly rounds: number; readonly perRound: number },
): Promise<{ wall: Map<string, number>; cpu: Map<string, number> }> {
  for (const c of contenders) for (let i = 0; i < options.warmup; i++) await c.op();
  const wall = new Map<string, number>(contenders.map((c) => [c.name, Infinity]));
  const cpu = new Map<string, number>(contenders.map((c) => [c.name, Infinity]));
  const order = roundOrder(contenders);
  for (let round = 0; round < options.rounds; round++) {
    for (const c of order()) {
      const wallStart = process.hrtime.bigint();
      const cpuStart = process.cpuUsage();
      for (let k = 0; k < options.perRound; k++) await c.op();
      const cpuUsed = process.cpuUsage(cpuStart);
      const wallUs = Number(process.hrtime.bigint() - wallStart) / 1e3 / options.perRound;
      const cpuUs = (cpuUsed.user + cpuUsed.system) / options.perRound;
      wall.set(c.name, Math.min(wall.get(c.name) as number, wallUs));
      cpu.set(c.name, Math.min(cpu.get(c.name) as number, cpuUs));
    }
  }
  return { wall, cpu };
}
