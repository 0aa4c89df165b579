import type { ServerResponse } from 'node:http';
import { listen, readBody, type Loopback } from './loopback.js';
import { opaqueToken } from './tokens.js';

export const CLIENT_ID = 'bench-client';
export const CLIENT_SECRET = 'bench-secret';
export const BASIC = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;

export interface TokenServer extends Loopback {
  readonly tokenUrl: string;
  /** A refresh token the server will accept once (as after a login). */
  issue(): string;
  /** A refresh token accepted any number of times (for a client that ignores rotation: google-auth-library). */
  issueReusable(): string;
  /** Requests answered 200 / refused. */
  readonly counts: { ok: number; refused: number };
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before base64 (some clients encode `-` as `%2D`). */
function isBasicOfClient(header: string | undefined): boolean {
  if (header === BASIC) return true;
  if (!header?.startsWith('Basic ')) return false;
  const [id, secret] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
  const decode = (s: string | undefined): string => decodeURIComponent((s ?? '').replace(/\+/g, ' '));
  return decode(id) === CLIENT_ID && decode(secret) === CLIENT_SECRET;
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

/**
 * A loopback token endpoint (RFC 6749 §6): client_secret_basic or _post, the refresh_token grant, rotating
 * refresh tokens (each one accepted once, as oidc-provider does with rotation on).
 */
export async function tokenServer(): Promise<TokenServer> {
  const live = new Set<string>();
  const reusable = new Set<string>();
  const counts = { ok: 0, refused: 0 };
  const issue = (): string => {
    const token = opaqueToken();
    live.add(token);
    return token;
  };
  const server = await listen((request, response) => {
    void readBody(request).then((text) => {
      const params = new URLSearchParams(text);
      const refreshToken = params.get('refresh_token') ?? '';
      // client_secret_basic, or client_secret_post (google-auth-library sends the secret in the body).
      const authenticated =
        isBasicOfClient(request.headers.authorization) ||
        (request.headers.authorization === undefined && params.get('client_id') === CLIENT_ID && params.get('client_secret') === CLIENT_SECRET);
      if (request.method !== 'POST' || !authenticated || params.get('grant_type') !== 'refresh_token' || !(live.delete(refreshToken) || reusable.has(refreshToken))) {
        counts.refused++;
        send(response, 400, { error: 'invalid_grant' });
        return;
      }
      counts.ok++;
      send(response, 200, { access_token: opaqueToken(), token_type: 'Bearer', expires_in: 3600, refresh_token: issue(), scope: 'api' });
    });
  });
  const issueReusable = (): string => {
    const token = opaqueToken();
    reusable.add(token);
    return token;
  };
  return { ...server, tokenUrl: `${server.url}/token`, issue, issueReusable, counts };
}
