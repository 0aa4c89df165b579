#!/usr/bin/env node
/**
 * The `token-lifecycle` bin (bundled into dist/bin/token-lifecycle.cjs by scripts/bundle-cli.mjs,
 * hence no top-level await). Exit codes: docs/cli.md. Output is flushed before exiting; the exit is
 * explicit so that nothing left open (a keep-alive socket) delays a script.
 */
import { processIo } from './io.js';
import { runCli } from './program.js';

function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => (stream.writableLength === 0 ? resolve() : stream.write('', () => resolve())));
}

void runCli(process.argv.slice(2), {
  io: processIo,
  stdin: { isTTY: process.stdin.isTTY === true, read: () => process.stdin },
}).then(async (code) => {
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
});
