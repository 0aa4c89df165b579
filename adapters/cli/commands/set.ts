/**
 * `token set`: stores a token response (RFC 6749 §5.1, as a login produces it) or a TokenSet read as
 * JSON from stdin, validated by the manager's `setToken` (R12). No request is sent. Prints a summary
 * without token values.
 */
import { InvalidTokenResponseError, TokenLifecycleError } from '../../../machines/lifecycle/errors.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { instant } from '../format.js';
import { fail, type CliIo } from '../io.js';
import type { CliSettings } from '../settings.js';
import { withStorage } from '../store.js';

const MAX_INPUT_BYTES = 1024 * 1024;

export interface SetInput {
  readonly isTTY: boolean;
  read(): AsyncIterable<Buffer | string>;
}

async function readInput(input: SetInput): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input.read()) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += bytes.length;
    if (size > MAX_INPUT_BYTES) throw new InvalidTokenResponseError('stdin is larger than 1 MiB');
    chunks.push(bytes);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') throw new InvalidTokenResponseError('stdin is empty: pipe the token response JSON into `token set`');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // V8's message quotes the input, which holds tokens: say only that it is not JSON (R13).
    throw new InvalidTokenResponseError('stdin is not valid JSON');
  }
}

const USAGE_HINT = 'pipe a token response, e.g. `echo \'{"access_token":"…","token_type":"Bearer","expires_in":3600,"refresh_token":"…"}\' | token-lifecycle token set`';

export async function setCommand(settings: CliSettings, input: SetInput, io: CliIo): Promise<ExitCode> {
  if (input.isTTY) {
    return fail(io, new InvalidTokenResponseError('nothing on stdin'), { exit: EXIT.usage, hint: USAGE_HINT });
  }
  let raw: unknown;
  try {
    raw = await readInput(input);
  } catch (error) {
    return fail(io, error, { exit: EXIT.usage, hint: USAGE_HINT });
  }
  return withStorage(settings.store, io, async (storage) => {
    try {
      const { offlineManager, stopQuietly } = await import('../managers.js');
      const tokens = offlineManager(settings, storage);
      let set;
      try {
        set = await tokens.setToken(settings.key, raw as Record<string, unknown>);
      } finally {
        await stopQuietly(tokens);
      }
      const expiry = set.expiresAt === undefined ? 'unknown expiry' : `expires ${instant(set.expiresAt, Date.now())}`;
      io.out(`stored the token for key ${JSON.stringify(settings.key)} in ${storage.description}: ${expiry}, refresh token: ${set.refreshToken ? 'yes' : 'no'}\n`);
      return EXIT.ok;
    } catch (error) {
      // Input that is not a valid token response is a usage error here, not a server hiccup.
      const bad = error instanceof TokenLifecycleError && error.code === 'invalid_token_response';
      return fail(io, error, bad ? { exit: EXIT.usage, hint: USAGE_HINT } : {});
    }
  });
}
