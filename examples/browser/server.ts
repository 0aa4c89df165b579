/**
 * The browser example, served on loopback next to a real authorization server (oidc-provider):
 *
 *   npm run example:browser                 # then open the printed URL in a browser
 *   node dist/examples/browser/server.js --ttl 10 --port 8080
 *
 * - the app (127.0.0.1, its own port): the page and its esbuild bundle (examples/browser/app.ts),
 *   `/config.json`, a protected API `/api/hello` (Bearer, checked against the server's tokens) and the
 *   demo's fault switches `/control/outage?on=1|0` and `/control/revoke`;
 * - oidc-provider (another port): a public client whose redirect URI is the app's origin, so its
 *   token and revocation endpoints answer the page's CORS requests; short access tokens (default 10 s),
 *   rotating refresh tokens, devInteractions for the login pages (any login, any password), and a
 *   token exchange grant (RFC 8693) for the page's derived credential.
 * Nothing leaves the machine. The test test/browser/live-view.test.ts starts it in-process.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import type { Middleware } from 'oidc-provider';
import { startLoopbackProvider, type LoopbackProvider } from '../support/auth-server.js';
import { registerTokenExchange, TOKEN_EXCHANGE_GRANT } from '../support/token-exchange-grant.js';

export const EXAMPLE_CLIENT_ID = 'browser-example';

export interface BrowserExampleOptions {
  /** Access token lifetime in seconds (default 10). */
  accessTokenTtl?: number;
  /** The app's port (default: any free one). */
  port?: number;
  /** Serve the fault switches (default true). */
  controls?: boolean;
  /**
   * Serve this directory (a Vite build of examples/react or examples/vue: index.html and its assets)
   * instead of the page bundled from examples/browser.
   */
  staticDir?: string;
}

export interface BrowserExample {
  /** The app's URL: open it in a browser. */
  readonly url: string;
  readonly issuer: string;
  /** Token endpoint requests seen by the server, by grant type. */
  readonly tokenRequests: Readonly<Record<string, number>>;
  /** Every token value the token endpoint answered with, so a test can check none reaches the page. */
  readonly issuedTokens: readonly string[];
  /** Token endpoint down (503 temporarily_unavailable) or back up. */
  setOutage(on: boolean): void;
  /** Revokes every grant the page obtained, server-side: its refresh token is then rejected. */
  revokeGrants(): Promise<number>;
  stop(): Promise<void>;
}

/** The repository root, from the source tree (examples/browser) or the build (dist/examples/browser). */
function repositoryRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return resolve(here, here.split(/[\\/]/).includes('dist') ? '../../..' : '../..');
}

async function bundlePage(root: string): Promise<string> {
  const result = await build({
    entryPoints: [join(root, 'examples/browser/app.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    logLevel: 'silent',
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error('esbuild produced no bundle');
  return file.text;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

/** Every file under `dir` by URL path, `index.html` also at `/`. */
function staticFiles(dir: string): Record<string, { type: string; body: string }> {
  const files: Record<string, { type: string; body: string }> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const url = `/${relative(dir, path).split(sep).join('/')}`;
    files[url] = { type: TYPES[extname(path)] ?? 'application/octet-stream', body: readFileSync(path, 'utf8') };
  }
  const index = files['/index.html'];
  if (index) files['/'] = index;
  return files;
}

async function examplePage(root: string): Promise<Record<string, { type: string; body: string }>> {
  return {
    '/': { type: 'text/html; charset=utf-8', body: readFileSync(join(root, 'examples/browser/index.html'), 'utf8') },
    '/style.css': { type: 'text/css', body: readFileSync(join(root, 'examples/browser/style.css'), 'utf8') },
    '/app.js': { type: 'text/javascript; charset=utf-8', body: await bundlePage(root) },
  };
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => done((server.address() as AddressInfo).port));
  });
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers }).end(body);
}

export async function startBrowserExample(options: BrowserExampleOptions = {}): Promise<BrowserExample> {
  const files = options.staticDir ? staticFiles(options.staticDir) : await examplePage(repositoryRoot());
  const controls = options.controls ?? true;
  let provider: LoopbackProvider | undefined;
  let outage = false;
  const grants = new Set<string>();
  const tokenRequests: Record<string, number> = {};
  const issuedTokens: string[] = [];

  const app = createServer((req: IncomingMessage, res: ServerResponse) => {
    void route(req, res).catch(() => send(res, 500, 'text/plain', 'internal error'));
  });
  const appPort = await listen(app, options.port ?? 0);
  const origin = `http://127.0.0.1:${appPort}`;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', origin).pathname;
    const file = files[path];
    if (req.method === 'GET' && file) return send(res, 200, file.type, file.body);
    if (req.method === 'GET' && path === '/config.json') {
      return send(res, 200, 'application/json', JSON.stringify({ issuer: provider?.issuer, clientId: EXAMPLE_CLIENT_ID, apiUrl: `${origin}/api/hello`, controls }));
    }
    if (req.method === 'GET' && path === '/api/hello') return api(req, res);
    if (controls && req.method === 'POST' && path === '/control/outage') {
      outage = new URL(req.url ?? '/', origin).searchParams.get('on') === '1';
      return send(res, 200, 'text/plain', outage ? 'token endpoint down (503)' : 'token endpoint up');
    }
    if (controls && req.method === 'POST' && path === '/control/revoke') {
      return send(res, 200, 'text/plain', `revoked ${await revokeGrants()} grant(s) at the server`);
    }
    send(res, 404, 'text/plain', 'not found');
  }

  /** The protected resource: a Bearer token the server issued and has not revoked, else 401 (RFC 6750). */
  async function api(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const token = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const found = token && provider ? await provider.provider.AccessToken.find(token) : undefined;
    if (!found || found.isExpired) {
      return send(res, 401, 'application/json', JSON.stringify({ error: 'invalid_token' }), { 'www-authenticate': 'Bearer error="invalid_token"' });
    }
    send(res, 200, 'application/json', JSON.stringify({ hello: found.accountId, expiresIn: found.remainingTTL }));
  }

  const observe: Middleware = async (ctx, next) => {
    if (ctx.path === '/token' && ctx.method === 'POST') {
      if (outage) {
        ctx.status = 503;
        ctx.set('access-control-allow-origin', origin);
        ctx.body = { error: 'temporarily_unavailable' };
        return;
      }
    }
    await next();
    if (ctx.path === '/token' && ctx.method === 'POST') {
      const grant = String((ctx as { oidc?: { params?: { grant_type?: unknown } } }).oidc?.params?.grant_type ?? 'unknown');
      tokenRequests[grant] = (tokenRequests[grant] ?? 0) + 1;
      const body = ctx.body as Record<string, unknown> | undefined;
      for (const name of ['access_token', 'refresh_token', 'id_token']) {
        const value = body?.[name];
        if (typeof value === 'string') issuedTokens.push(value);
      }
      const refreshToken = body?.refresh_token;
      if (ctx.status === 200 && typeof refreshToken === 'string' && provider) {
        const stored = await provider.provider.RefreshToken.find(refreshToken);
        if (stored?.grantId) grants.add(stored.grantId);
      }
    }
  };

  provider = await startLoopbackProvider({
    clients: [
      {
        client_id: EXAMPLE_CLIENT_ID,
        token_endpoint_auth_method: 'none',
        // The page derives a narrower credential for its API by token exchange (R22, RFC 8693).
        grant_types: ['authorization_code', 'refresh_token', TOKEN_EXCHANGE_GRANT],
        response_types: ['code'],
        // oidc-provider's client-based CORS: a public client may call the token endpoint from its
        // redirect URI's origin, the app's.
        redirect_uris: [`${origin}/`],
      },
    ],
    scopes: ['openid', 'offline_access'],
    cookieKey: 'browser-example-only',
    ttl: { AccessToken: options.accessTokenTtl ?? 10, IdToken: 3600 },
    middleware: observe,
  });
  const issuer = provider.issuer;
  registerTokenExchange(provider.provider);

  async function revokeGrants(): Promise<number> {
    const model = provider?.provider;
    if (!model) return 0;
    const ids = [...grants];
    grants.clear();
    await Promise.all(
      ids.flatMap((id) => [model.RefreshToken.revokeByGrantId(id), model.AccessToken.revokeByGrantId(id), model.Grant.adapter.destroy(id)]),
    );
    return ids.length;
  }

  return {
    url: `${origin}/`,
    issuer,
    tokenRequests,
    issuedTokens,
    setOutage(on) {
      outage = on;
    },
    revokeGrants,
    async stop() {
      await provider?.stop();
      await new Promise<void>((done) => {
        app.closeAllConnections();
        app.close(() => done());
      });
    },
  };
}

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const example = await startBrowserExample({
    accessTokenTtl: Number(argument('--ttl') ?? 10),
    port: Number(argument('--port') ?? 0),
  });
  console.log(`browser example: ${example.url}  (authorization server ${example.issuer}; Ctrl-C stops)`);
  process.once('SIGINT', () => void example.stop().then(() => process.exit(0)));
}
