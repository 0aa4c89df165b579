/**
 * The long chaos soak: `npm run test:chaos -- --steps N [--seed S]`. Prints faults by kind, then one
 * line `chaos: N steps, F faults, R refreshes, V violations`; exits 1 when V > 0.
 */
import fc from 'fast-check';
import { chaosAction } from './chaos-arbitraries.js';
import { runChaos } from './chaos-engine.js';

function flag(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} needs a number`);
  return value;
}

export async function soak(): Promise<number> {
  const target = flag('steps', 10_000);
  const seed = flag('seed', Date.now() % 2 ** 31);
  const faults = new Map<string, number>();
  let steps = 0;
  let refreshes = 0;
  let sequences = 0;
  const violations: string[] = [];
  const generator = fc.array(chaosAction, { minLength: 50, maxLength: 50 });
  const started = Date.now();
  let run = 0;
  while (steps < target) {
    const batch = fc.sample(generator, { numRuns: 20, seed: seed + run++ });
    for (const actions of batch) {
      if (steps >= target) break;
      const result = await runChaos(actions);
      sequences++;
      steps += result.steps;
      refreshes += result.refreshes;
      for (const [kind, count] of result.faults) faults.set(kind, (faults.get(kind) ?? 0) + count);
      for (const violation of result.violations) {
        violations.push(violation);
        if (violations.length <= 5) console.error(`violation: ${violation}\n  sequence: ${JSON.stringify(actions)}`);
      }
    }
  }
  const faultTotal = [...faults.values()].reduce((a, b) => a + b, 0);
  console.log(`seed ${seed}, ${sequences} sequences in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  for (const [kind, count] of [...faults].sort()) console.log(`  fault ${kind}: ${count}`);
  const kinds = new Map<string, number>();
  for (const v of violations) kinds.set(v, (kinds.get(v) ?? 0) + 1);
  for (const [kind, count] of kinds) console.log(`  violation ${kind}: ${count}`);
  console.log(`chaos: ${steps} steps, ${faultTotal} faults, ${refreshes} refreshes, ${violations.length} violations`);
  return violations.length === 0 ? 0 : 1;
}

process.exitCode = await soak();
