#!/usr/bin/env node
/**
 * The `token-lifecycle` bin (bundled into dist/bin/token-lifecycle.cjs by adapters/cli/bundle.mjs,
 * hence no top-level await). Exit codes: docs/cli.md. Output is flushed before exiting; the exit is
 * explicit so that nothing left open (a keep-alive socket) delays a script.
 */
import { EXIT } from './exit-codes.js';
import { processIo } from './io.js';
import { runCli } from './program.js';

function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => (stream.writableLength === 0 ? resolve() : stream.write('', () => resolve())));
}

// The library unrefs its timers (R11) so that it never keeps a process alive; but a command awaiting
// one (polling for another process's refresh lock) must not have the process exit under it with
// code 0 and no output. This handle keeps the process alive until the command has finished.
const alive = setInterval(() => undefined, 1 << 30);
// A reader that went away (`token-lifecycle token get | head -c0`) is not a crash worth a stack trace.
process.stdout.on('error', () => process.exit(EXIT.failure));

async function main(): Promise<void> {
  let code: number;
  try {
    code = await runCli(process.argv.slice(2), {
      io: processIo,
      stdin: { isTTY: process.stdin.isTTY === true, read: () => process.stdin },
      // `token get --login` waits for a person only when one can answer: stdin and stderr are terminals.
      interactive: process.stdin.isTTY === true && process.stderr.isTTY === true,
    });
  } catch {
    code = EXIT.failure; // runCli reports its own errors: this is the last resort for a bug in reporting
  }
  clearInterval(alive);
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}

void main();
