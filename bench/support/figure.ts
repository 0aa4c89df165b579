/**
 * The shape every bench module returns (DESIGN §6): one entry per figure, `ratio` = value / baseline
 * measured in the same run. `goal` is a human string the runner can also judge: `ratio >= 0.4`,
 * `ratio <= 1.05`, `value <= 1536`, `value == 1`; anything else (e.g. `info`) is reported unjudged.
 */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline: number;
  readonly ratio: number;
  readonly goal: string;
}

export interface BenchOptions {
  readonly quick: boolean;
}

export type BenchRun = (opts: BenchOptions) => Promise<Figure[]>;

/** A figure with its ratio computed here, so every module rounds the same way. */
export function figure(name: string, value: number, unit: string, baseline: number, goal: string): Figure {
  return { name, value: round(value), unit, baseline: round(baseline), ratio: round(baseline === 0 ? Number.NaN : value / baseline, 4), goal };
}

function round(x: number, digits = 6): number {
  if (!Number.isFinite(x)) return x;
  const magnitude = Math.abs(x) >= 1 ? Math.max(0, digits - Math.floor(Math.log10(Math.abs(x))) - 1) : digits;
  return Number(x.toFixed(Math.min(magnitude, 12)));
}

const GOAL = /^\s*(ratio|value)\s*(>=|<=|==|<|>)\s*(-?[\d.]+(?:e-?\d+)?)\s*$/i;

/** PASS/FAIL for a judgeable goal, undefined for an informational one. */
export function verdict(f: Figure): boolean | undefined {
  const match = GOAL.exec(f.goal);
  if (!match) return undefined;
  const subject = match[1]?.toLowerCase() === 'ratio' ? f.ratio : f.value;
  const target = Number(match[3]);
  if (!Number.isFinite(subject)) return false;
  switch (match[2]) {
    case '>=':
      return subject >= target;
    case '<=':
      return subject <= target;
    case '<':
      return subject < target;
    case '>':
      return subject > target;
    default:
      return subject === target;
  }
}
