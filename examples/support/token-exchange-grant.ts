/**
 * RFC 8693 token exchange in the test authorization server (oidc-provider has no such grant built
 * in: it is added with `provider.registerGrantType`). The subject must be an access token the server
 * issued and that is still active; the issued token is a new access token (oidc-provider's
 * ClientCredentials model, so its lifetime is `ttl.ClientCredentials`). Each exchange is recorded
 * with a fingerprint of its subject (never the value), for counting exchanges per parent token.
 */
import { createHash } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { KoaContext } from 'oidc-provider';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const PARAMETERS = ['audience', 'resource', 'scope', 'requested_token_type', 'subject_token', 'subject_token_type', 'actor_token', 'actor_token_type'];

export interface ExchangeRecord {
  /** `sha256:…` of the subject token. */
  readonly subject: string;
  readonly audience: readonly string[];
  readonly outcome: 'issued' | 'invalid_grant' | 'invalid_request';
}

export interface ExchangeGrant {
  readonly exchanges: readonly ExchangeRecord[];
  /** How many exchanges issued a token. */
  readonly issued: number;
}

export function fingerprintOf(token: string): string {
  return `sha256:${createHash('sha256').update(token).digest('hex').slice(0, 12)}`;
}

interface ExchangeContext extends KoaContext {
  readonly oidc: { readonly params: Readonly<Record<string, unknown>>; readonly client: unknown };
}

function refuse(ctx: KoaContext, error: string, description: string): void {
  ctx.status = 400;
  ctx.body = { error, error_description: description };
}

export function registerTokenExchange(provider: Provider): ExchangeGrant {
  const exchanges: ExchangeRecord[] = [];
  provider.registerGrantType(
    TOKEN_EXCHANGE_GRANT,
    async (context) => {
      const ctx = context as ExchangeContext;
      const { params, client } = ctx.oidc;
      const subject = typeof params.subject_token === 'string' ? params.subject_token : '';
      const audienceParam = params.audience;
      const audience = Array.isArray(audienceParam) ? audienceParam.map(String) : typeof audienceParam === 'string' ? [audienceParam] : [];
      const record = (outcome: ExchangeRecord['outcome']): void => {
        exchanges.push({ subject: fingerprintOf(subject), audience, outcome });
      };
      if (params.subject_token_type !== ACCESS_TOKEN_TYPE || subject === '') {
        record('invalid_request');
        return refuse(ctx, 'invalid_request', 'subject_token must be an access token');
      }
      const found = await provider.AccessToken.find(subject);
      if (!found) {
        record('invalid_grant');
        return refuse(ctx, 'invalid_grant', 'the subject token is not active');
      }
      const scope = typeof params.scope === 'string' ? params.scope : undefined;
      const token = new provider.ClientCredentials({ client, ...(scope ? { scope } : {}) }) as unknown as { save(): Promise<string>; expiration: number };
      const value = await token.save();
      record('issued');
      ctx.body = {
        access_token: value,
        issued_token_type: ACCESS_TOKEN_TYPE,
        token_type: 'Bearer',
        expires_in: token.expiration,
        ...(scope ? { scope } : {}),
      };
    },
    PARAMETERS,
    ['audience', 'resource'],
  );
  return {
    exchanges,
    get issued() {
      return exchanges.filter((e) => e.outcome === 'issued').length;
    },
  };
}
