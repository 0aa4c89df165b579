/**
 * `npm run docs:diagram`: writes the lifecycle machine's Mermaid diagram into docs/machine.md,
 * between its markers; the prose around them (the legend) is kept as written.
 *
 *   node dist/examples/generate-diagram.js [--check] [path]
 *
 * `--check` writes nothing and exits 1 when the page is stale (test/unit/lifecycle/diagram.test.ts does the same).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { DIAGRAM_END, DIAGRAM_START, spliceDiagram, toMermaid } from '../machines/lifecycle/diagram.js';
import { tokenMachine } from '../machines/lifecycle/machine.js';

/** For a page that does not exist yet. */
const NEW_PAGE = `# The lifecycle machine\n\n${DIAGRAM_START}\n${DIAGRAM_END}\n`;

async function main(args: readonly string[]): Promise<number> {
  const check = args.includes('--check');
  // The compiled file lives in dist/examples/: two levels up is the repository.
  const path = args.find((a) => !a.startsWith('--')) ?? fileURLToPath(new URL('../../docs/machine.md', import.meta.url));
  const current = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  const next = spliceDiagram(current ?? NEW_PAGE, toMermaid(tokenMachine));
  if (next === current) {
    console.log(`${path} is up to date`);
    return 0;
  }
  if (check) {
    console.error(`${path} is stale: run \`npm run docs:diagram\``);
    return 1;
  }
  await writeFile(path, next);
  console.log(`wrote ${path}`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
