/**
 * A multi-user service (node:http) that calls an API on behalf of its users: each user's tokens live
 * in PostgreSQL, sealed (AES-256-GCM), one manager for all of them, OpenTelemetry metrics on
 * /metrics. Routes:
 *   PUT  /users/:id/tokens   after the user's login: the token response as the server sent it
 *   GET  /users/:id/me       the API's /me for that user, through authFetch (refresh, 401 retry)
 *   GET  /users/:id/status   the credential's lifecycle status (no token in it)
 *   GET  /metrics            Prometheus text
 * No route ever answers a token. Errors answer their code (`reauth_required` → 401: log in again).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { createTokenManager, openTelemetry, sealedStorage, TokenLifecycleError, type SealingKey, type TokenManager } from '../../index.js';
import { authFetch } from '../../adapters/http/index.js';
import { oauth2Endpoint } from '../../adapters/oauth2/index.js';
import { postgresStorage, type PostgresStorage } from '../../adapters/storage/postgres/index.js';
import { PrometheusText } from './prometheus.js';

export interface ServiceOptions {
  databaseUrl: string;
  schema?: string;
  /** Sealing keys: the first seals, all open (rotation). */
  sealingKeys: SealingKey[];
  /** The authorization server (discovery) and this service's client. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The API called on the users' behalf. */
  apiUrl: string;
  port?: number;
  /** Told the error code when loading the stored users at start-up failed (default: ignored). */
  onStartError?: (code: string) => void;
}

export interface Service {
  readonly url: string;
  readonly manager: TokenManager;
  close(): Promise<void>;
}

const USER_ROUTE = /^\/users\/([\w.@-]{1,128})\/(tokens|me|status)$/;

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(type === 'application/json' ? JSON.stringify(body) : String(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 64_000) throw new Error('body too large');
  }
  return JSON.parse(text);
}

/** Typed errors answer their code only (never a message that could carry detail). */
function sendError(res: ServerResponse, error: unknown): void {
  if (error instanceof TokenLifecycleError) {
    const status = error.code === 'reauth_required' || error.code === 'not_found' ? 401 : error.retryable ? 503 : 502;
    return send(res, status, { error: error.code, ...(error.reason ? { reason: error.reason } : {}) });
  }
  send(res, 400, { error: 'bad_request' });
}

export async function startService(options: ServiceOptions): Promise<Service> {
  const reader = new PrometheusText();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const store: PostgresStorage = postgresStorage({ connectionString: options.databaseUrl, schema: options.schema });
  await store.migrate();
  const manager = createTokenManager({
    endpoint: oauth2Endpoint({ issuer: options.issuer, clientId: options.clientId, clientSecret: options.clientSecret }),
    storage: sealedStorage(store, { keys: options.sealingKeys }),
    telemetry: openTelemetry({ meter: meterProvider.getMeter('service-example') }),
  });
  // Loads every stored user (keys()) and arms background refresh. A record that does not load
  // (say `storage_sealed`: a sealing key missing from the list) must not keep the service down:
  // it is reported, and each user still loads on first use, answering their own error.
  await manager.start().catch((error: unknown) => {
    options.onStartError?.(error instanceof TokenLifecycleError ? error.code : 'unknown');
  });

  const server = createServer((req, res) => {
    void route(req, res).catch((error: unknown) => sendError(res, error));
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method === 'GET' && path === '/metrics') return send(res, 200, await reader.scrape(), 'text/plain; version=0.0.4');
    const match = USER_ROUTE.exec(path);
    if (match === null) return send(res, 404, { error: 'not_found' });
    const [, user, what] = match as unknown as [string, string, string];
    if (what === 'tokens' && req.method === 'PUT') {
      const stored = await manager.setToken(user, (await readJson(req)) as Record<string, unknown>);
      return send(res, 201, { user, expiresAt: stored.expiresAt ?? null });
    }
    if (what === 'status' && req.method === 'GET') return send(res, 200, manager.status(user));
    if (what === 'me' && req.method === 'GET') {
      const api = await authFetch(manager, { key: user })(options.apiUrl);
      return send(res, api.status, await api.json().catch(() => null));
    }
    send(res, 405, { error: 'method_not_allowed' });
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    manager,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await manager.stop();
      await store.close();
      await meterProvider.shutdown();
    },
  };
}
