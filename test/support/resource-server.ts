/**
 * R10 through the HTTP adapters, as suites every adapter runs: a real loopback resource server, a real
 * manager on a simulated clock and the scripted token endpoint. Requests are counted at the server.
 *
 *   const t = httpContext();                              // fresh server, manager, endpoint per test
 *   describeR10('ky', t, () => kyClient(t, (m) => ({ hooks: kyHooks(m) })));
 *   describeKy('ky specifics', t, (m, o) => ({ hooks: kyHooks(m), ...o }));
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import ky, { HTTPError, TimeoutError, type Options } from 'ky';
import { SimulatedClock } from 'xstate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FetchLike } from '../../adapters/http/index.js';
import { InvalidGrantError, RefreshFailedError } from '../../machines/lifecycle/errors.js';
import { createTokenManager } from '../../machines/manager/manager.js';
import type { TokenManager } from '../../machines/manager/api-types.js';
import { scriptedEndpoint, type ScriptedEndpoint } from './fake-endpoint.js';

export interface Seen {
  id: string;
  method: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: Buffer;
}

export type Answer = { status: number; headers?: Record<string, string>; body?: string };

/** A resource server: accepts the tokens in `accepted`, else 401 invalid_token; `policy` overrides. */
export class ResourceServer {
  readonly seen: Seen[] = [];
  accepted = new Set<string>();
  policy: ((seen: Seen) => Answer | undefined | Promise<Answer | undefined>) | undefined;
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  countFor(id: string): number {
    return this.seen.filter((s) => s.id === id).length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const seen: Seen = {
      id: String(req.headers['x-id'] ?? ''),
      method: req.method ?? '',
      authorization: req.headers.authorization,
      contentType: req.headers['content-type'],
      body: Buffer.concat(chunks),
    };
    this.seen.push(seen);
    const token = /^Bearer (.+)$/.exec(seen.authorization ?? '')?.[1];
    const answer = (await this.policy?.(seen)) ??
      (token !== undefined && this.accepted.has(token)
        ? { status: 200, body: 'ok' }
        : { status: 401, headers: { 'www-authenticate': 'Bearer realm="api", error="invalid_token"' } });
    res.writeHead(answer.status, answer.headers ?? {});
    res.end(answer.body ?? '');
  }
}

export const TOKEN = { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' };

/** What every test gets afresh (fields are replaced before each test: read them inside tests). */
export interface HttpContext {
  server: ResourceServer;
  clock: SimulatedClock;
  endpoint: ScriptedEndpoint;
  manager: TokenManager;
}

/** Registers the per-test set-up and tear-down in the calling scope. */
export function httpContext(): HttpContext {
  const t = {} as HttpContext;
  beforeEach(async () => {
    t.server = new ResourceServer();
    await t.server.start();
    t.clock = new SimulatedClock();
    t.clock.set(1_000_000);
    t.endpoint = scriptedEndpoint();
    // The simulated clock never advances by itself: a renewal that waited for the minimum interval
    // would hang (and the test time out) instead of passing by luck.
    t.manager = createTokenManager({ endpoint: t.endpoint, clock: t.clock, backgroundRefresh: false, random: () => 0.5 });
    await t.manager.setToken('default', TOKEN);
  });
  afterEach(async () => {
    await t.manager.stop();
    await t.server.stop();
  });
  return t;
}

/** One call through an adapter, as a Response (ky with `retry: 0` and no throwing on 4xx). */
export type Client = (path: string, init?: RequestInit & { id?: string }) => Promise<Response>;

/** ky options that put an adapter in front of ky: `kyHooks` as hooks, or `kyAuth` as is. */
export type KyAuthFactory = (manager: TokenManager, options?: { fetch?: FetchLike }) => Options;

/** Calls through `send` (a ky instance or a fetch wrapper) with an `x-id` header naming the call. */
export function clientOf(t: HttpContext, send: (url: string, init: RequestInit) => Promise<Response>): Client {
  return (path, init = {}) => {
    const { id = 'r', headers, ...rest } = init;
    return send(`${t.server.url}${path}`, { ...rest, headers: { ...(headers as Record<string, string>), 'x-id': id } });
  };
}

export function kyClient(t: HttpContext, auth: KyAuthFactory): Client {
  const api = ky.extend({ ...auth(t.manager), retry: 0, throwHttpErrors: false });
  return clientOf(t, (url, init) => api(url, init as Options));
}

export function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

/** The R10 cases every adapter passes. */
export function describeR10(kind: string, t: HttpContext, client: () => Client): void {
  describe(`R10 via ${kind}`, () => {
    it('attaches the bearer token and makes no refresh when the resource accepts it', async () => {
      t.server.accepted.add('at-0');
      const response = await client()('/data');
      expect(response.status).toBe(200);
      expect(t.server.seen.map((s) => s.authorization)).toEqual(['Bearer at-0']);
      expect(t.endpoint.received).toEqual([]);
    });

    it('on 401 refreshes once and retries once with the new token', async () => {
      t.server.accepted.add('at-1');
      const response = await client()('/data');
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('ok');
      expect(t.endpoint.received).toEqual(['rt-0']);
      expect(t.server.seen.map((s) => s.authorization)).toEqual(['Bearer at-0', 'Bearer at-1']);
    });

    it('returns a second 401 to the caller: one refresh, two requests, no loop', async () => {
      const response = await client()('/always-401');
      expect(response.status).toBe(401);
      expect(t.endpoint.received).toEqual(['rt-0']);
      expect(t.server.seen.map((s) => s.authorization)).toEqual(['Bearer at-0', 'Bearer at-1']);
    });

    it.each([401, 403])('returns a %i with error="insufficient_scope" unchanged, with no refresh', async (status) => {
      t.server.policy = () => ({
        status,
        headers: { 'www-authenticate': 'Bearer realm="api", error="insufficient_scope", scope="admin"' },
        body: 'need admin',
      });
      const response = await client()('/admin');
      expect(response.status).toBe(status);
      expect(await response.text()).toBe('need admin');
      expect(t.server.seen).toHaveLength(1);
      expect(t.endpoint.received).toEqual([]);
    });

    it('retries a 401 for an older token with the current one, with no new refresh', async () => {
      // The request leaves with at-0; before its 401 arrives, another caller has refreshed to at-1.
      t.server.accepted.add('at-1');
      let refreshed: Promise<unknown> = Promise.resolve();
      t.server.policy = (seen) => {
        if (seen.authorization !== 'Bearer at-0') return undefined;
        refreshed = t.manager.refresh();
        return refreshed.then(() => undefined);
      };
      const response = await client()('/data');
      await refreshed;
      expect(response.status).toBe(200);
      expect(t.endpoint.received).toEqual(['rt-0']); // the forced refresh only
      expect(t.server.seen.map((s) => s.authorization)).toEqual(['Bearer at-0', 'Bearer at-1']);
    });

    it('200 concurrent requests that all get 401 for the old token: exactly 1 refresh, each retried at most once', async () => {
      const n = 200;
      t.server.accepted.add('at-1');
      // Hold every at-0 answer until all n requests have arrived, so all of them carry the old token.
      let arrived = 0;
      let openGate!: () => void;
      const gate = new Promise<void>((resolve) => (openGate = resolve));
      t.server.policy = async (seen) => {
        if (seen.authorization !== 'Bearer at-0') return undefined;
        if (++arrived === n) openGate();
        await gate;
        return undefined;
      };
      const call = client();
      const responses = await Promise.all(Array.from({ length: n }, (_, i) => call('/data', { id: `q${i}` })));
      expect(responses.map((r) => r.status)).toEqual(Array(n).fill(200));
      expect(t.endpoint.received).toEqual(['rt-0']);
      for (let i = 0; i < n; i++) {
        expect(t.server.seen.filter((s) => s.id === `q${i}`).map((s) => s.authorization)).toEqual(['Bearer at-0', 'Bearer at-1']);
      }
    });

    const bodies: Array<[name: string, make: () => BodyInit, expected: { bytes: Buffer; type: RegExp | undefined }]> = [
      ['a JSON string', () => JSON.stringify({ a: 1, b: 'é' }), { bytes: Buffer.from('{"a":1,"b":"é"}'), type: /^application\/json/ }],
      ['a form (URLSearchParams)', () => new URLSearchParams({ grant: 'x y', n: '1&2' }), { bytes: Buffer.from('grant=x+y&n=1%262'), type: /^application\/x-www-form-urlencoded/ }],
      ['text', () => 'plain text body\n', { bytes: Buffer.from('plain text body\n'), type: /^text\/plain/ }],
      ['an ArrayBuffer', () => new Uint8Array([0, 1, 2, 254, 255]).buffer, { bytes: Buffer.from([0, 1, 2, 254, 255]), type: undefined }],
      ['a Uint8Array view', () => new Uint8Array([9, 8, 7, 6, 5]).subarray(1, 4), { bytes: Buffer.from([8, 7, 6]), type: undefined }],
      ['a Blob', () => new Blob(['blob-bytes'], { type: 'application/x-thing' }), { bytes: Buffer.from('blob-bytes'), type: /^application\/x-thing$/ }],
    ];

    it.each(bodies)('re-sends %s identically on the retry', async (_name, make, expected) => {
      t.server.accepted.add('at-1');
      const headers = _name === 'a JSON string' ? { 'content-type': 'application/json' } : undefined;
      const response = await client()('/upload', { method: 'POST', body: make(), ...(headers ? { headers } : {}) });
      expect(response.status).toBe(200);
      expect(t.server.seen).toHaveLength(2);
      for (const seen of t.server.seen) {
        expect(seen.method).toBe('POST');
        expect(seen.body.equals(expected.bytes)).toBe(true);
        if (expected.type) expect(seen.contentType).toMatch(expected.type);
      }
    });

    it('re-sends FormData with the same fields and a content type matching the body', async () => {
      t.server.accepted.add('at-1');
      const form = new FormData();
      form.append('name', 'alice');
      form.append('file', new Blob(['file-content'], { type: 'text/plain' }), 'a.txt');
      const response = await client()('/upload', { method: 'POST', body: form });
      expect(response.status).toBe(200);
      expect(t.server.seen).toHaveLength(2);
      for (const seen of t.server.seen) {
        const parsed = await new Response(new Uint8Array(seen.body), { headers: { 'content-type': seen.contentType ?? '' } }).formData();
        expect(parsed.get('name')).toBe('alice');
        const file = parsed.get('file') as File;
        expect(file.name).toBe('a.txt');
        expect(await file.text()).toBe('file-content');
      }
    });

    it('in degraded.rejected returns the 401 and sends nothing more to the token endpoint', async () => {
      t.endpoint.next({ kind: 'throw', error: new InvalidGrantError() });
      const call = client();
      expect((await call('/data')).status).toBe(401);
      expect(t.endpoint.received).toEqual(['rt-0']);
      expect(t.manager.status().detail).toBe('rejected');
      expect((await call('/data')).status).toBe(401);
      expect(t.endpoint.received).toEqual(['rt-0']);
      expect(t.server.seen.map((s) => s.authorization)).toEqual(['Bearer at-0', 'Bearer at-0']);
    });

    it('with a Retry-After pending returns the 401 and sends nothing to the token endpoint', async () => {
      t.endpoint.next({ kind: 'throw', error: new RefreshFailedError('unavailable', { retryable: true, status: 503, retryAfter: 60_000 }) });
      const call = client();
      expect((await call('/data')).status).toBe(401);
      expect(t.endpoint.received).toEqual(['rt-0']);
      expect(t.manager.status().state).toBe('degraded');
      expect((await call('/data')).status).toBe(401);
      expect(t.endpoint.received).toEqual(['rt-0']);
      expect(t.server.seen).toHaveLength(2);
    });

    it('in reauthRequired returns the 401 and sends nothing to the token endpoint', async () => {
      // No refresh token; the token expires while the request is at the server.
      await t.manager.setToken('default', { access_token: 'at-x', token_type: 'Bearer', expires_in: 60 });
      t.server.policy = () => {
        t.clock.increment(61_000);
        return undefined;
      };
      const response = await client()('/data');
      expect(response.status).toBe(401);
      expect(t.endpoint.received).toEqual([]);
      expect(t.server.seen).toHaveLength(1);
      expect(t.manager.status().state).toBe('reauthRequired');
      // With no usable token, the next request is not sent at all: the typed error says why.
      await expect(client()('/data')).rejects.toMatchObject({ code: 'reauth_required' });
      expect(t.server.seen).toHaveLength(1);
    });

    it("sends 'Bearer' for a token_type of 'bearer' in any case", async () => {
      await t.manager.setToken('default', { ...TOKEN, token_type: 'bEaReR' });
      t.server.accepted.add('at-0');
      await client()('/data');
      expect(t.server.seen.map((s) => s.authorization)).toEqual(['Bearer at-0']);
    });

    it('R20: a DPoP token without a DPoP key is refused (unsupported_token_type), never sent as if it were Bearer', async () => {
      await expect(t.manager.setToken('default', { ...TOKEN, token_type: 'DPoP' })).rejects.toMatchObject({ code: 'unsupported_token_type' });
      t.server.policy = () => ({ status: 200 });
      await client()('/data');
      expect(t.server.seen.map((s) => s.authorization)).toEqual(['Bearer at-0']);
    });
  });
}

/** What holds for every ky integration: ky's retry, timeout, `fetch` option and request bodies. */
export function describeKy(title: string, t: HttpContext, auth: KyAuthFactory): void {
  describe(title, () => {
    it('retries the 401 with retry: 0 (not through ky.retry), and the second 401 becomes HTTPError', async () => {
      const api = ky.extend({ ...auth(t.manager), retry: 0 });
      await expect(api(`${t.server.url}/always-401`)).rejects.toSatisfy(
        (error: unknown) => error instanceof HTTPError && error.response.status === 401,
      );
      expect(t.server.seen.map((s) => s.authorization)).toEqual(['Bearer at-0', 'Bearer at-1']);
      expect(t.endpoint.received).toEqual(['rt-0']);
    });

    it("does not count against ky's retries, and retries the 401 once per call across ky's own retries", async () => {
      // Attempt 1: 401 → our retry gets a 503 → ky retries (its one retry) → 401 again → to the caller.
      const answers: Answer[] = [{ status: 401 }, { status: 503 }, { status: 401 }];
      t.server.policy = () => answers.shift() ?? { status: 500 };
      let kyRetries = 0;
      const api = ky.extend(auth(t.manager)).extend({
        hooks: { beforeRetry: [() => void kyRetries++] },
        retry: { limit: 1, delay: () => 0 },
      });
      await expect(api(`${t.server.url}/flaky`)).rejects.toSatisfy(
        (error: unknown) => error instanceof HTTPError && error.response.status === 401,
      );
      expect(kyRetries).toBe(1);
      expect(t.server.seen.map((s) => s.authorization)).toEqual(['Bearer at-0', 'Bearer at-1', 'Bearer at-1']);
      expect(t.endpoint.received).toEqual(['rt-0']);
    });

    it('uses the given fetch for the retry and keeps the other headers', async () => {
      t.server.accepted.add('at-1');
      const calls: string[] = [];
      const counting: FetchLike = (input, init) => {
        calls.push(new Request(input, init).headers.get('authorization') ?? '');
        return fetch(input, init);
      };
      const api = ky.extend({ ...auth(t.manager, { fetch: counting }), retry: 0, headers: { 'x-id': 'h', 'x-other': '1' } });
      expect((await api(`${t.server.url}/data`)).status).toBe(200);
      expect(calls).toEqual(['Bearer at-0', 'Bearer at-1']);
      expect(t.server.seen.map((s) => s.id)).toEqual(['h', 'h']);
    });

    it("applies ky's timeout to the retry", async () => {
      t.server.policy = (seen) => (seen.authorization === 'Bearer at-1' ? new Promise<Answer>(() => undefined) : undefined);
      const api = ky.extend({ ...auth(t.manager), retry: 0, timeout: 150 });
      await expect(api(`${t.server.url}/slow`)).rejects.toBeInstanceOf(TimeoutError);
      expect(t.server.seen).toHaveLength(2);
    });

    it('replays a ReadableStream body (ky tees every request body for its own retries)', async () => {
      t.server.accepted.add('at-1');
      const api = ky.extend({ ...auth(t.manager), retry: 0 });
      const response = await api.post(`${t.server.url}/upload`, { body: streamOf(['chunk-1;', 'chunk-2']) });
      expect(response.status).toBe(200);
      expect(t.server.seen.map((s) => s.body.toString())).toEqual(['chunk-1;chunk-2', 'chunk-1;chunk-2']);
    });
  });
}
