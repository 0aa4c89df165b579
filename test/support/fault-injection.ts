import type { IncomingMessage } from 'node:http';
import type { KoaContext, Middleware } from 'oidc-provider';

/**
 * One injected fault, served instead of (or before) the real provider's answer for one request.
 * - `status`/`body`/`headers`: answer with these (an object body is sent as JSON);
 * - `delayMs` alone: wait, then let the provider answer (a slow server);
 * - `delayMs` with a status: wait, then answer with the fault;
 * - `hangBody`: send the headers and part of a body, then stall (never finish);
 * - `reset`: destroy the connection without an answer;
 * - `times`: how many requests it applies to (default 1).
 */
export interface Fault {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  hangBody?: boolean;
  reset?: boolean;
  times?: number;
}

/** Requests seen per path (and per grant at /token), faulted ones included. */
export interface RequestCounts {
  /** Both discovery locations. */
  readonly discovery: number;
  /** All requests to /token. */
  readonly token: number;
  readonly tokenByGrant: Readonly<Record<string, number>>;
  readonly revocation: number;
  readonly byPath: Readonly<Record<string, number>>;
  reset(): void;
}

const DISCOVERY = /^\/\.well-known\/(?:oauth-authorization-server|openid-configuration)(?:\/|$)/;

/** A queue of faults per path and request counters, as a Koa middleware for `provider.use()`. */
export class FaultInjector {
  readonly #faults = new Map<string, Fault[]>();
  readonly #byPath = new Map<string, number>();
  readonly #byGrant = new Map<string, number>();
  readonly #timers = new Set<{ timer: NodeJS.Timeout; done: () => void }>();
  readonly counts: RequestCounts;

  constructor() {
    const self = this;
    this.counts = {
      get discovery() {
        return [...self.#byPath].filter(([path]) => DISCOVERY.test(path)).reduce((sum, [, n]) => sum + n, 0);
      },
      get token() {
        return self.#byPath.get('/token') ?? 0;
      },
      get tokenByGrant() {
        return Object.fromEntries(self.#byGrant);
      },
      get revocation() {
        return self.#byPath.get('/token/revocation') ?? 0;
      },
      get byPath() {
        return Object.fromEntries(self.#byPath);
      },
      reset() {
        self.#byPath.clear();
        self.#byGrant.clear();
      },
    };
  }

  /** Queues a fault for `path` (exact match, e.g. `/token`); faults for one path apply in order. */
  inject(path: string, fault: Fault): void {
    const queue = this.#faults.get(path) ?? [];
    queue.push({ ...fault, times: fault.times ?? 1 });
    this.#faults.set(path, queue);
  }

  clearFaults(): void {
    this.#faults.clear();
  }

  /** Ends pending delays at once (the server is stopping). */
  cancelDelays(): void {
    for (const entry of this.#timers) {
      clearTimeout(entry.timer);
      entry.done();
    }
    this.#timers.clear();
  }

  readonly middleware: Middleware = async (ctx, next) => {
    const fault = this.#pop(ctx.path);
    const passThrough = !fault || (!fault.reset && !fault.hangBody && fault.status === undefined && fault.body === undefined);
    if (passThrough) {
      if (fault?.delayMs) await this.#sleep(fault.delayMs);
      try {
        await next();
      } finally {
        this.#count(ctx.path, ctx.oidc?.params?.grant_type);
      }
      return;
    }
    // The provider never sees this request: read its grant_type ourselves for the counters.
    const grant = ctx.path === '/token' ? await readGrantType(ctx.req) : undefined;
    this.#count(ctx.path, grant);
    if (fault.delayMs) await this.#sleep(fault.delayMs);
    if (fault.reset) {
      ctx.respond = false;
      ctx.req.socket.destroy();
      return;
    }
    if (fault.hangBody) return hang(ctx, fault);
    respond(ctx, fault);
  };

  #pop(path: string): Fault | undefined {
    const queue = this.#faults.get(path);
    const fault = queue?.[0];
    if (!queue || !fault) return undefined;
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) queue.shift();
    return fault;
  }

  #count(path: string, grant: unknown): void {
    this.#byPath.set(path, (this.#byPath.get(path) ?? 0) + 1);
    if (path === '/token' && typeof grant === 'string') this.#byGrant.set(grant, (this.#byGrant.get(grant) ?? 0) + 1);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = { timer: setTimeout(() => finish(), ms), done: resolve };
      const finish = (): void => {
        this.#timers.delete(entry);
        resolve();
      };
      this.#timers.add(entry);
    });
  }
}

function respond(ctx: KoaContext, fault: Fault): void {
  ctx.status = fault.status ?? 200;
  for (const [name, value] of Object.entries(fault.headers ?? {})) ctx.set(name, value);
  ctx.body = fault.body ?? '';
}

/** Headers and a first chunk, then nothing: the client's body read stalls. */
function hang(ctx: KoaContext, fault: Fault): void {
  ctx.respond = false;
  ctx.res.writeHead(fault.status ?? 200, { 'content-type': 'application/json', ...fault.headers });
  ctx.res.write('{"access_token":');
}

async function readGrantType(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('grant_type') ?? undefined;
}
