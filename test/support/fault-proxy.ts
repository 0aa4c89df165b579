/**
 * A fault-injecting HTTP proxy on loopback, between a client (the manager's `oauth2Endpoint`) and a
 * real authorization server (oidc-provider). Faults that the server-side middleware of
 * fault-injection.ts cannot express live here: refused connections, resets, stalls, truncated bodies,
 * and real server answers that are rewritten, held back or lost on the way back.
 *
 * Requests pass through unchanged, Host header included (oidc-provider builds URLs from it); each
 * answer is buffered whole, then sent on or faulted. Faults are queued per path and apply in order.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type ProxyFault =
  /** Answer with this, without contacting the server (an object body is sent as JSON). */
  | { readonly kind: 'respond'; readonly status: number; readonly body?: unknown; readonly headers?: Readonly<Record<string, string>> }
  /** Drop the connection (TCP RST). `request`: before the server sees anything; `response`: after the headers and part of a body the proxy made up. */
  | { readonly kind: 'reset'; readonly at: 'request' | 'response' }
  /** Never answer (`headers`), or send the headers and part of a body, then nothing (`body`). The server never sees the request. */
  | { readonly kind: 'stall'; readonly at: 'headers' | 'body' }
  /** A 200 whose JSON body is cut short, without contacting the server. */
  | { readonly kind: 'truncate' }
  /** Forward; the server's JSON answer is transformed before it goes back (e.g. `access_token` removed). */
  | { readonly kind: 'rewrite'; readonly transform: (body: Record<string, unknown>) => Record<string, unknown> }
  /** Forward at once; hold the server's answer back for `ms`. */
  | { readonly kind: 'delay'; readonly ms: number }
  /** Forward; the server processes the request, and its answer is lost (RST instead). */
  | { readonly kind: 'lose-response' };

export interface FaultProxy {
  /** `http://127.0.0.1:<port>` of the proxy. */
  readonly url: string;
  readonly port: number;
  /** Requests that reached the proxy, per path. */
  readonly received: Readonly<Record<string, number>>;
  /** Requests forwarded to the server, per path. */
  readonly forwarded: Readonly<Record<string, number>>;
  /** Queues `fault` for the next `times` requests to `path` (exact match, e.g. `/token`). */
  inject(path: string, fault: ProxyFault, times?: number): void;
  clearFaults(): void;
  /** Stops listening and drops open connections: new connections are refused (ECONNREFUSED). */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  stop(): Promise<void>;
}

interface Queued {
  readonly fault: ProxyFault;
  left: number;
}

interface Upstream {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

// Per-connection framing is recomputed for every answer the proxy sends.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'proxy-connection', 'upgrade']);

function readBody(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** A TCP RST where Node has it (`resetAndDestroy`), a plain close otherwise. */
function reset(socket: Socket): void {
  const withReset = socket as Socket & { resetAndDestroy?: () => void };
  if (typeof withReset.resetAndDestroy === 'function') withReset.resetAndDestroy();
  else socket.destroy();
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const faults = new Map<string, Queued[]>();
  const received = new Map<string, number>();
  const forwarded = new Map<string, number>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const server = createServer();
  const bump = (map: Map<string, number>, path: string): void => void map.set(path, (map.get(path) ?? 0) + 1);

  function pop(path: string): ProxyFault | undefined {
    const queue = faults.get(path);
    const head = queue?.[0];
    if (!queue || !head) return undefined;
    if (--head.left <= 0) queue.shift();
    return head.fault;
  }

  function forward(req: IncomingMessage, path: string, body: Buffer): Promise<Upstream> {
    bump(forwarded, path);
    return new Promise((resolve, reject) => {
      const out = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent: false },
        (res) => {
          readBody(res).then((data) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: data }), reject);
        },
      );
      out.on('error', reject);
      out.end(body);
    });
  }

  function send(res: ServerResponse, status: number, headers: IncomingHttpHeaders | Record<string, string>, body: Buffer | string): void {
    const clean: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name.toLowerCase())) clean[name] = value;
    }
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    res.writeHead(status, { ...clean, 'content-length': String(bytes.length) });
    res.end(bytes);
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://proxy').pathname;
    bump(received, path);
    const body = await readBody(req);
    const fault = pop(path);
    switch (fault?.kind) {
      case 'respond': {
        const json = typeof fault.body === 'object' && fault.body !== null;
        const text = fault.body === undefined ? '' : json ? JSON.stringify(fault.body) : String(fault.body);
        const type = json ? 'application/json' : 'text/html; charset=utf-8';
        return send(res, fault.status, { 'content-type': type, 'cache-control': 'no-store', ...fault.headers }, text);
      }
      case 'reset':
        if (fault.at === 'response') {
          // Headers promising 200 bytes, 16 of them, then the connection drops.
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': '200' });
          // Once the first bytes are out, so the client has the headers when the connection drops.
          res.write('{"access_token":', () => setTimeout(() => reset(req.socket), 20));
          return;
        }
        return reset(req.socket);
      case 'stall':
        if (fault.at === 'body') {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': '200' });
          res.write('{"access_token":');
        }
        return; // never finished; stop() drops the connection
      case 'truncate':
        return send(res, 200, { 'content-type': 'application/json' }, '{"access_token":"AT-cut","token_type":"Bea');
      default:
        break;
    }
    const answer = await forward(req, path, body);
    switch (fault?.kind) {
      case 'lose-response':
        return reset(req.socket);
      case 'delay':
        await sleep(fault.ms);
        return send(res, answer.status, answer.headers, answer.body);
      case 'rewrite': {
        const parsed = JSON.parse(answer.body.toString('utf8')) as Record<string, unknown>;
        return send(res, answer.status, answer.headers, JSON.stringify(fault.transform(parsed)));
      }
      default:
        return send(res, answer.status, answer.headers, answer.body);
    }
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch(() => {
      // The server is unreachable or answered garbage: say so as a gateway would.
      if (!res.headersSent) send(res, 502, { 'content-type': 'text/plain' }, 'bad gateway');
      else res.destroy();
    });
  });

  const port = await listen(server, 0);

  function close(): Promise<void> {
    return new Promise((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get received() {
      return Object.fromEntries(received);
    },
    get forwarded() {
      return Object.fromEntries(forwarded);
    },
    inject(path, fault, times = 1) {
      const queue = faults.get(path) ?? [];
      queue.push({ fault, left: times });
      faults.set(path, queue);
    },
    clearFaults() {
      faults.clear();
    },
    down: close,
    async up() {
      if (!server.listening) await listen(server, port);
    },
    async stop() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      faults.clear();
      await close();
    },
  };
}
