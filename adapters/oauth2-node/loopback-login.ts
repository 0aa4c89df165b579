/**
 * `loopbackLogin(options)`: authorization code + PKCE S256 with a loopback redirect, for native apps
 * and CLIs (RFC 8252 §7.3, RFC 7636). Node only (node:http): exported from
 * `token-lifecycle/adapters/oauth2/node`, never from the browser-safe `/adapters/oauth2` (R16).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  InvalidConfigError,
  LoginFailedError,
  LoginTimeoutError,
  oauthError,
  asLoginError,
} from '../../machines/lifecycle/errors.js';
import { parseDuration } from '../../machines/lifecycle/duration.js';
import type { Duration } from '../../machines/lifecycle/types.js';
import { authorizationUrl } from '../oauth2/authorization-url.js';
import { loginClient, type LoginClientOptions, type LoginTokenResponse } from '../oauth2/login-client.js';
import { createPkce, createState, stateMatches } from '../oauth2/pkce.js';

export interface LoopbackLoginOptions extends LoginClientOptions {
  /**
   * Called with the authorization URL once the listener is up: open it in a browser (when one can
   * be opened) and show it to the user (when not, they copy it).
   */
  onAuthorizationUrl(url: string): void | Promise<void>;
  /** Authorization endpoint; default: discovered (`authorization_endpoint`). */
  authorizationUrl?: string;
  /** How long to wait for the browser to come back (default 5 minutes). */
  waitTimeout?: Duration;
  /** Path of the redirect URI (default `/callback`): `http://127.0.0.1:<random port><path>`. */
  redirectPath?: string;
  /** More authorization request parameters (e.g. `{ prompt: 'consent' }`); not the ones set here. */
  authorizationParams?: Record<string, string>;
}

const DEFAULT_WAIT_MS = 5 * 60_000;
const RESERVED = new Set(['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'dpop_jkt']);

interface Callback {
  readonly params: URLSearchParams;
  readonly respond: (ok: boolean) => void;
}

/**
 * Resolves to the token response. Rejects with `access_denied` (the user refused), the server's
 * other error codes, `login_timeout`, `login_failed`, or the signal's reason when aborted. The
 * listener serves one redirect (with the right `state`) and closes, whatever the outcome.
 */
export async function loopbackLogin(options: LoopbackLoginOptions): Promise<LoginTokenResponse> {
  if (typeof options?.onAuthorizationUrl !== 'function') throw new InvalidConfigError('loopbackLogin needs onAuthorizationUrl');
  const waitMs = options.waitTimeout === undefined ? DEFAULT_WAIT_MS : parseDuration(options.waitTimeout, 'waitTimeout');
  const path = options.redirectPath ?? '/callback';
  if (!path.startsWith('/')) throw new InvalidConfigError('redirectPath must start with /');
  for (const name of Object.keys(options.authorizationParams ?? {})) {
    if (RESERVED.has(name)) throw new InvalidConfigError(`authorizationParams may not set ${name}: the login sets it`);
  }
  const client = loginClient(options);
  const { signal } = options;
  signal?.throwIfAborted();
  const authorizationEndpoint = await client.endpointUrl('authorization_endpoint', options.authorizationUrl, signal);

  const pkce = await createPkce();
  const state = createState();
  const listener = await listen(path, state);
  try {
    const redirectUri = `http://127.0.0.1:${listener.port}${path}`;
    const url = await authorizationUrl(authorizationEndpoint, { ...options, redirectUri, state, pkce });

    await options.onAuthorizationUrl(url.href);
    const callback = await listener.next(waitMs, signal);
    try {
      const tokens = await exchange(client, callback.params, redirectUri, pkce.verifier, signal);
      callback.respond(true);
      return tokens;
    } catch (error) {
      callback.respond(false);
      throw error;
    }
  } finally {
    listener.close();
  }
}

async function exchange(
  client: ReturnType<typeof loginClient>,
  params: URLSearchParams,
  redirectUri: string,
  verifier: string,
  signal: AbortSignal | undefined,
): Promise<LoginTokenResponse> {
  const error = params.get('error');
  if (error !== null) {
    // RFC 6749 §4.1.2.1: the error code only; the description is the server's text, not shown.
    throw asLoginError(oauthError(/^[\x20-\x21\x23-\x5B\x5D-\x7E]{1,64}$/.test(error) ? error : 'invalid_request', { retryable: false }));
  }
  const code = params.get('code');
  if (!code) throw new LoginFailedError('the redirect carried no authorization code');
  return client.requestToken(
    new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }),
    signal,
  );
}

interface Listener {
  readonly port: number;
  /** The first redirect with the right state; rejects on timeout or abort. */
  next(ms: number, signal: AbortSignal | undefined): Promise<Callback>;
  close(): void;
}

const PAGE = (title: string, text: string): string =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head>` +
  `<body style="font-family:sans-serif;margin:3em"><h1>${title}</h1><p>${text}</p></body></html>`;

/** An HTTP listener on 127.0.0.1, random port (RFC 8252 §7.3, §8.3: the IP literal, not `localhost`). */
async function listen(path: string, state: string): Promise<Listener> {
  let deliver: ((callback: Callback) => void) | undefined;
  // A redirect that comes before `next()` is called waits here.
  let early: Callback | undefined;
  let delivered = false;
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    response.setHeader('connection', 'close');
    response.setHeader('cache-control', 'no-store');
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (request.method !== 'GET' || url.pathname !== path) return page(response, 404, 'Not found', 'Nothing here.');
    // RFC 6749 §10.12: only the redirect carrying our state counts; anything else is refused and
    // the login goes on waiting for the real one.
    if (delivered || !stateMatches(state, url.searchParams.get('state'))) {
      return page(response, 400, 'Login not accepted', 'This request does not belong to the login in progress.');
    }
    delivered = true;
    const callback: Callback = {
      params: url.searchParams,
      respond: (ok) =>
        ok
          ? page(response, 200, 'Logged in', 'You are logged in. You can close this window and return to the terminal.')
          : page(response, 400, 'Login failed', 'The login did not complete. The terminal says why.'),
    };
    if (deliver) deliver(callback);
    else early = callback;
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const close = (): void => {
    server.close();
    server.closeIdleConnections();
  };
  return {
    port: (server.address() as AddressInfo).port,
    close,
    next(ms, signal) {
      return new Promise<Callback>((resolve, reject) => {
        const timer = setTimeout(() => finish(() => reject(new LoginTimeoutError(ms))), ms);
        const onAbort = (): void => finish(() => reject(signal?.reason));
        const finish = (settle: () => void): void => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          deliver = undefined;
          settle();
        };
        if (signal?.aborted) return onAbort();
        if (early) return finish(() => resolve(early as Callback));
        signal?.addEventListener('abort', onAbort, { once: true });
        deliver = (callback) => finish(() => resolve(callback));
      });
    },
  };
}

function page(response: ServerResponse, status: number, title: string, text: string): void {
  response.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  response.end(PAGE(title, text));
}
