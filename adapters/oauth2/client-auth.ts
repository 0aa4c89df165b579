/** Client authentication at the token and revocation endpoints (RFC 6749 §2.3, RFC 7523 §2.2, RFC 8705 §2). */
import type { ClientAssertionSigner } from './client-assertion.js';

const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export type ClientAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'client_secret_jwt'
  | 'private_key_jwt'
  | 'tls_client_auth'
  | 'self_signed_tls_client_auth'
  | 'none';

export interface ClientCredentials {
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly authMethod: ClientAuthMethod;
  /** For `private_key_jwt` and `client_secret_jwt`: signs a fresh assertion per request. */
  readonly assertion?: ClientAssertionSigner;
}

/** Where an assertion's `aud` comes from: the token endpoint URL and, when configured, the issuer. */
export interface AssertionAudiences {
  readonly tokenEndpoint: () => Promise<URL>;
  readonly issuer?: string;
}

/** The `application/x-www-form-urlencoded` serialisation of one value (space as `+`, RFC 6749 Appendix B). */
export function formUrlEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/**
 * `Authorization: Basic` for client_secret_basic: id and secret are form-urlencoded *before* base64
 * (RFC 6749 §2.3.1), so a secret containing `:`, `+`, `/` or `%` survives. The result is ASCII, so
 * `btoa` is safe (and works in browsers too).
 */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  return `Basic ${btoa(`${formUrlEncode(clientId)}:${formUrlEncode(clientSecret)}`)}`;
}

/** Each client's `Basic` value, encoded on its first request and reused while its id and secret are the same. */
const basicOf = new WeakMap<ClientCredentials, { readonly id: string; readonly secret: string; readonly value: string }>();
function cachedBasic(client: ClientCredentials): string {
  const id = client.clientId;
  const secret = client.clientSecret ?? '';
  const cached = basicOf.get(client);
  if (cached !== undefined && cached.id === id && cached.secret === secret) return cached.value;
  const value = basicAuthorization(id, secret);
  basicOf.set(client, { id, secret, value });
  return value;
}

/**
 * Adds the client's credentials to a request: a header (basic) or body parameters (post, none, and
 * the signed assertions of RFC 7523 §2.2). Returns the assertion sent, if any, so an error can blank
 * it out.
 */
export async function applyClientAuth(
  client: ClientCredentials,
  body: URLSearchParams,
  headers: Headers,
  audiences?: AssertionAudiences,
): Promise<string | undefined> {
  switch (client.authMethod) {
    case 'client_secret_basic':
      headers.set('authorization', cachedBasic(client));
      return undefined;
    case 'client_secret_post':
      // RFC 6749 §2.3.1: both in the request body.
      body.set('client_id', client.clientId);
      body.set('client_secret', client.clientSecret ?? '');
      return undefined;
    // A public client identifies itself with client_id only (RFC 6749 §3.2.1); so does one whose TLS
    // certificate authenticates it (RFC 8705 §2).
    case 'none':
    case 'tls_client_auth':
    case 'self_signed_tls_client_auth':
      body.set('client_id', client.clientId);
      return undefined;
    case 'client_secret_jwt':
    case 'private_key_jwt': {
      if (!client.assertion || !audiences) throw new TypeError(`${client.authMethod} needs an assertion signer and its audience`);
      const audience =
        client.assertion.audience === 'issuer' && audiences.issuer !== undefined ? audiences.issuer : (await audiences.tokenEndpoint()).href;
      const assertion = await client.assertion.sign(audience);
      body.set('client_id', client.clientId);
      body.set('client_assertion_type', CLIENT_ASSERTION_TYPE);
      body.set('client_assertion', assertion);
      return assertion;
    }
  }
}
