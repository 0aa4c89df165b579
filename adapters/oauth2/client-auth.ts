/** Client authentication at the token and revocation endpoints (RFC 6749 §2.3). */

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

export interface ClientCredentials {
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly authMethod: ClientAuthMethod;
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

/** Adds the client's credentials to a request: a header (basic) or body parameters (post, none). */
export function applyClientAuth(client: ClientCredentials, body: URLSearchParams, headers: Headers): void {
  switch (client.authMethod) {
    case 'client_secret_basic':
      headers.set('authorization', basicAuthorization(client.clientId, client.clientSecret ?? ''));
      return;
    case 'client_secret_post':
      // RFC 6749 §2.3.1: both in the request body.
      body.set('client_id', client.clientId);
      body.set('client_secret', client.clientSecret ?? '');
      return;
    case 'none':
      // A public client identifies itself with client_id only (RFC 6749 §3.2.1).
      body.set('client_id', client.clientId);
      return;
  }
}
