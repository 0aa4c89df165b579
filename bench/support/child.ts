/**
 * Runs one bench module in a fresh process (its own JIT state and heap, so one bench's optimised or
 * deoptimised code and garbage do not colour the next) and hands the figures back over IPC.
 * argv: <module file URL> [--quick]
 */
import type { BenchRun } from './figure.js';

const [moduleUrl, ...flags] = process.argv.slice(2);

async function main(): Promise<void> {
  if (!moduleUrl || !process.send) throw new Error('bench child: started without a module or IPC channel');
  const mod = (await import(moduleUrl)) as { default?: BenchRun };
  if (typeof mod.default !== 'function') throw new Error(`${moduleUrl} has no default export function`);
  const figures = await mod.default({ quick: flags.includes('--quick') });
  await new Promise<void>((resolve, reject) => process.send?.({ figures }, (error: Error | null) => (error ? reject(error) : resolve())));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
