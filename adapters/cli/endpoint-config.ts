/**
 * Turns the endpoint settings into `oauth2Endpoint` options, reading the client secret file on
 * demand (only commands that talk to the server need it; `--client-secret-file` keeps the secret out
 * of `ps`). Errors name the flag or file, never the secret.
 */
import { readFile } from 'node:fs/promises';
import { InvalidConfigError } from '../../machines/lifecycle/errors.js';
import type { OAuth2EndpointOptions } from '../oauth2/options.js';
import type { EndpointSettings } from './settings.js';

const MAX_SECRET_BYTES = 64 * 1024;

async function readSecretFile(path: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new InvalidConfigError(`cannot read the client secret file ${path} (${code})`);
  }
  if (bytes.length > MAX_SECRET_BYTES) throw new InvalidConfigError(`the client secret file ${path} is too large`);
  // One trailing newline (as editors and `echo` leave it) is not part of the secret.
  const secret = bytes.toString('utf8').replace(/\r?\n$/, '');
  if (secret === '') throw new InvalidConfigError(`the client secret file ${path} is empty`);
  return secret;
}

export async function endpointOptions(settings: EndpointSettings, why: string): Promise<OAuth2EndpointOptions> {
  if (settings.issuer === undefined && settings.tokenUrl === undefined) {
    throw new InvalidConfigError(`${why} needs the token server: set --issuer (ISSUER) or --token-url (TOKEN_URL)`);
  }
  if (settings.clientId === undefined) throw new InvalidConfigError(`${why} needs --client-id (CLIENT_ID)`);
  const { secret } = settings;
  const clientSecret = secret.kind === 'value' ? secret.value : secret.kind === 'file' ? await readSecretFile(secret.path) : undefined;
  return {
    clientId: settings.clientId,
    ...(settings.issuer === undefined ? {} : { issuer: settings.issuer }),
    ...(settings.tokenUrl === undefined ? {} : { tokenUrl: settings.tokenUrl }),
    ...(settings.revocationUrl === undefined ? {} : { revocationUrl: settings.revocationUrl }),
    ...(clientSecret === undefined ? {} : { clientSecret }),
  };
}
