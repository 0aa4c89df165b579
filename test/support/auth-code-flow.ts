import { createHash, randomBytes } from 'node:crypto';

/**
 * The realistic way to a first refresh token (~80 ms): authorization_code + PKCE (RFC 7636) driven
 * through oidc-provider's devInteractions pages, with `fetch(..., { redirect: 'manual' })` and a tiny
 * cookie jar (recipes/oidc-provider.md). The demo uses it; tests mostly mint through the model API.
 */
export interface AuthCodeOptions {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  /** How the client authenticates at /token (default: basic with a secret, none without). */
  authMethod?: 'client_secret_basic' | 'client_secret_post' | 'none';
  redirectUri?: string;
  /** Default `openid offline_access`; `offline_access` needs `prompt=consent`, which is always sent. */
  scope?: string;
  /** The account that logs in (any name works with devInteractions). */
  login?: string;
}

/** The raw token endpoint response (RFC 6749 §5.1). */
export type TokenEndpointResponse = Record<string, unknown>;

const base64url = (bytes: Buffer): string => bytes.toString('base64url');

class CookieJar {
  readonly #cookies = new Map<string, string>();

  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

export async function obtainTokensViaAuthCode(options: AuthCodeOptions): Promise<TokenEndpointResponse> {
  const redirectUri = options.redirectUri ?? 'http://127.0.0.1:1/cb';
  const verifier = base64url(randomBytes(32));
  const challenge = base64url(createHash('sha256').update(verifier).digest());
  const state = base64url(randomBytes(12));
  const jar = new CookieJar();

  const authorize = new URL(`${options.issuer}/auth`);
  authorize.search = new URLSearchParams({
    client_id: options.clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: options.scope ?? 'openid offline_access',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    prompt: 'consent',
  }).toString();

  const request = async (url: URL, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    headers.set('cookie', jar.header());
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    jar.store(response);
    return response;
  };

  let url = authorize;
  for (let step = 0; step < 12; step += 1) {
    if (url.href.startsWith(redirectUri)) return exchange(options, url, state, verifier, redirectUri);
    const response = await request(url);
    const location = response.headers.get('location');
    if (location) {
      await response.body?.cancel();
      url = new URL(location, url);
      continue;
    }
    const page = await response.text();
    const prompt = /name="prompt" value="(login|consent)"/.exec(page)?.[1];
    if (!prompt) throw new Error(`unexpected page at ${url.pathname} (HTTP ${response.status})`);
    const form = prompt === 'login'
      ? new URLSearchParams({ prompt, login: options.login ?? 'alice', password: 'x' })
      : new URLSearchParams({ prompt });
    const submitted = await request(url, { method: 'POST', body: form });
    const next = submitted.headers.get('location');
    await submitted.body?.cancel();
    if (!next) throw new Error(`interaction ${prompt} did not redirect (HTTP ${submitted.status})`);
    url = new URL(next, url);
  }
  throw new Error('authorization did not reach the redirect URI');
}

async function exchange(
  options: AuthCodeOptions,
  callback: URL,
  state: string,
  verifier: string,
  redirectUri: string,
): Promise<TokenEndpointResponse> {
  const code = callback.searchParams.get('code');
  if (callback.searchParams.get('state') !== state) throw new Error('state mismatch');
  if (!code) throw new Error(`no code: ${callback.searchParams.get('error') ?? 'unknown error'}`);
  const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
  const headers = new Headers({ accept: 'application/json' });
  const method = options.authMethod ?? (options.clientSecret ? 'client_secret_basic' : 'none');
  if (method === 'client_secret_basic') {
    // RFC 6749 §2.3.1: form-urlencode id and secret before base64.
    const encode = (value: string): string => new URLSearchParams([['', value]]).toString().slice(1);
    const pair = `${encode(options.clientId)}:${encode(options.clientSecret ?? '')}`;
    headers.set('authorization', `Basic ${Buffer.from(pair).toString('base64')}`);
  } else {
    body.set('client_id', options.clientId);
    if (method === 'client_secret_post') body.set('client_secret', options.clientSecret ?? '');
  }
  const response = await fetch(`${options.issuer}/token`, { method: 'POST', headers, body });
  const json = (await response.json()) as TokenEndpointResponse;
  if (!response.ok) throw new Error(`code exchange failed: HTTP ${response.status} ${String(json.error)}`);
  return json;
}
