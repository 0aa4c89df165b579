import { basicAuthorization, type ClientCredentials } from './client-auth.js';

/** How many token values from recent responses an endpoint remembers for redaction (a few rotations). */
const REMEMBERED = 6;

/**
 * The secrets an endpoint knows by value, for redacting what servers echo (R13; see
 * machines/lifecycle/server-text.ts): the client secret and its `Basic` credentials, the token a
 * request carries, and the token values of the last few token responses it received (a server may
 * quote an access token it issued, which this endpoint is never sent).
 */
export interface KnownSecrets {
  /** Everything known, plus the values a request is about to carry. */
  with(...values: ReadonlyArray<string | undefined>): string[];
  /** Notes the token values of a token response received. */
  remember(body: unknown): void;
}

export function knownSecrets(client: ClientCredentials): KnownSecrets {
  const fixed = client.clientSecret
    ? [client.clientSecret, basicAuthorization(client.clientId, client.clientSecret).slice('Basic '.length)]
    : [];
  const recent: string[] = [];
  return {
    with: (...values) => [...fixed, ...recent, ...values.filter((v): v is string => typeof v === 'string' && v.length > 0)],
    remember(body) {
      if (typeof body !== 'object' || body === null) return;
      for (const field of ['access_token', 'refresh_token', 'id_token']) {
        const value = (body as Record<string, unknown>)[field];
        if (typeof value !== 'string' || value.length === 0 || recent.includes(value)) continue;
        recent.push(value);
        if (recent.length > REMEMBERED) recent.shift();
      }
    },
  };
}
