/**
 * A login without a browser: authorization_code + PKCE (RFC 7636) driven through oidc-provider's
 * devInteractions pages with `fetch(..., { redirect: 'manual' })` and a tiny cookie jar
 * (cookie-fetch.ts). Resolves to the raw token response (RFC 6749 §5.1), which `setToken` accepts as
 * is. Loopback servers only (the demo's, and the tests' through test/support/auth-code-flow.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { cookieFetch } from './cookie-fetch.js';

export interface LoginOptions {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  /** How the client authenticates at /token (default: basic with a secret, none without). */
  authMethod?: 'client_secret_basic' | 'client_secret_post' | 'none';
  redirectUri: string;
  /** Default `openid offline_access`: `offline_access` asks for a refresh token. */
  scope?: string;
  /** The account that logs in (default `demo`; devInteractions takes any name, and ignores the password). */
  login?: string;
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before base64. */
function basicAuth(clientId: string, clientSecret: string): string {
  const encode = (value: string): string => new URLSearchParams([['', value]]).toString().slice(1);
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

export async function loginWithAuthCode(options: LoginOptions): Promise<Record<string, unknown>> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(12).toString('base64url');
  const request = cookieFetch();

  let url = new URL(`${options.issuer}/auth`);
  url.search = new URLSearchParams({
    client_id: options.clientId,
    response_type: 'code',
    redirect_uri: options.redirectUri,
    scope: options.scope ?? 'openid offline_access',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    // oidc-provider drops offline_access (no refresh token) unless consent is prompted.
    prompt: 'consent',
  }).toString();

  for (let step = 0; step < 12; step += 1) {
    if (url.href.startsWith(options.redirectUri)) return exchangeCode(options, url, state, verifier);
    const response = await request(url);
    const location = response.headers.get('location');
    if (location) {
      await response.body?.cancel();
      url = new URL(location, url);
      continue;
    }
    // A devInteractions page: log in, then grant consent.
    const prompt = /name="prompt" value="(login|consent)"/.exec(await response.text())?.[1];
    if (!prompt) throw new Error(`unexpected page at ${url.pathname} (HTTP ${response.status})`);
    const form = new URLSearchParams(prompt === 'login' ? { prompt, login: options.login ?? 'demo', password: 'demo' } : { prompt });
    const submitted = await request(url, { method: 'POST', body: form });
    const next = submitted.headers.get('location');
    await submitted.body?.cancel();
    if (!next) throw new Error(`the ${prompt} step did not redirect (HTTP ${submitted.status})`);
    url = new URL(next, url);
  }
  throw new Error('the authorization flow did not reach the redirect URI');
}

async function exchangeCode(options: LoginOptions, callback: URL, state: string, verifier: string): Promise<Record<string, unknown>> {
  // RFC 6749 §10.12: the state must come back unchanged.
  if (callback.searchParams.get('state') !== state) throw new Error('state mismatch');
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`no authorization code (${callback.searchParams.get('error') ?? 'unknown error'})`);
  const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: options.redirectUri, code_verifier: verifier });
  const headers = new Headers({ accept: 'application/json' });
  const method = options.authMethod ?? (options.clientSecret ? 'client_secret_basic' : 'none');
  if (method === 'client_secret_basic') {
    headers.set('authorization', basicAuth(options.clientId, options.clientSecret ?? ''));
  } else {
    // RFC 6749 §2.3.1 (client_secret_post) and public clients (§2.1): the id goes in the body.
    body.set('client_id', options.clientId);
    if (method === 'client_secret_post') body.set('client_secret', options.clientSecret ?? '');
  }
  const response = await fetch(`${options.issuer}/token`, { method: 'POST', headers, body });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`code exchange failed: HTTP ${response.status} ${String(json.error)}`);
  return json;
}
