// The small part of oidc-provider 9's API the examples and the test harness use (the package ships
// no types). It lives under examples/ so that both tsconfig.json and tsconfig.build.json see it.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface KoaContext {
    readonly path: string;
    readonly method: string;
    readonly req: IncomingMessage;
    readonly res: ServerResponse;
    status: number;
    body: unknown;
    respond?: boolean;
    set(name: string, value: string): void;
    readonly oidc?: { readonly params?: Readonly<Record<string, unknown>> };
  }

  export type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

  export interface ClientMetadata {
    client_id: string;
    client_secret?: string;
    token_endpoint_auth_method?: string;
    grant_types?: string[];
    response_types?: string[];
    redirect_uris?: string[];
    [field: string]: unknown;
  }

  export interface Client {
    readonly clientId: string;
    grantTypeAllowed(grant: string): boolean;
  }

  export interface GrantInstance {
    addOIDCScope(scope: string): void;
    save(): Promise<string>;
  }

  export interface TokenInstance {
    readonly grantId?: string;
    readonly jti: string;
    readonly accountId?: string;
    readonly isExpired?: boolean;
    /** Seconds left. */
    readonly remainingTTL?: number;
    save(): Promise<string>;
    destroy(): Promise<void>;
  }

  export interface TokenModel {
    new (payload: Record<string, unknown>): TokenInstance;
    find(value: string, options?: { ignoreExpiration?: boolean }): Promise<TokenInstance | undefined>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export interface Configuration {
    clients?: ClientMetadata[];
    [setting: string]: unknown;
  }

  export default class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    use(middleware: Middleware): this;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    on(event: string, listener: (...args: unknown[]) => void): this;
    readonly Grant: {
      new (payload: { clientId: string; accountId: string }): GrantInstance;
      adapter: { destroy(id: string): Promise<void> };
    };
    readonly Client: { find(id: string): Promise<Client | undefined> };
    /** Adds a grant type to the token endpoint (the handler answers through `ctx.body` / `ctx.status`). */
    registerGrantType(name: string, handler: (ctx: KoaContext) => Promise<void>, params?: string | string[], dupes?: string | string[]): void;
    readonly RefreshToken: TokenModel;
    readonly AccessToken: TokenModel;
    readonly ClientCredentials: TokenModel;
  }
}
