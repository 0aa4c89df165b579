/**
 * R10 through both HTTP adapters (ky hooks and authFetch), against a real loopback resource server,
 * a real manager and the scripted token endpoint. Requests are counted at the server.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import ky, { HTTPError, TimeoutError } from 'ky';
import { SimulatedClock } from 'xstate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { authFetch, kyHooks, type FetchLike } from '../../adapters/http/index.js';
import { InvalidGrantError, RefreshFailedError } from '../../machines/errors.js';
import { createTokenManager } from '../../machines/manager.js';
import type { TokenManager } from '../../machines/manager-types.js';
import { scriptedEndpoint, type ScriptedEndpoint } from '../support/fake-endpoint.js';

interface Seen {
  id: string;
  method: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: Buffer;
}

type Answer = { status: number; headers?: Record<string, string>; body?: string };

/** A resource server: accepts the tokens in `accepted`, else 401 invalid_token; `policy` overrides. */
class ResourceServer {
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

const TOKEN = { access_token: 'at-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' };

let server: ResourceServer;
let clock: SimulatedClock;
let endpoint: ScriptedEndpoint;
let manager: TokenManager;

beforeEach(async () => {
  server = new ResourceServer();
  await server.start();
  clock = new SimulatedClock();
  clock.set(1_000_000);
  endpoint = scriptedEndpoint();
  // The simulated clock never advances by itself: a renewal that waited for the minimum interval
  // would hang (and the test time out) instead of passing by luck.
  manager = createTokenManager({ endpoint, clock, backgroundRefresh: false, random: () => 0.5 });
  await manager.setToken('default', TOKEN);
});

afterEach(async () => {
  await manager.stop();
  await server.stop();
});

/** One call through an adapter, as a Response (ky with `retry: 0` and no throwing on 4xx). */
type Client = (path: string, init?: RequestInit & { id?: string }) => Promise<Response>;

const clients: Record<'ky' | 'fetch', () => Client> = {
  ky: () => {
    const api = ky.extend({ hooks: kyHooks(manager), retry: 0, throwHttpErrors: false });
    return (path, init = {}) => {
      const { id = 'r', headers, ...rest } = init;
      return api(`${server.url}${path}`, { ...rest, headers: { ...(headers as Record<string, string>), 'x-id': id } });
    };
  },
  fetch: () => {
    const fetchWithToken = authFetch(manager);
    return (path, init = {}) => {
      const { id = 'r', headers, ...rest } = init;
      return fetchWithToken(`${server.url}${path}`, { ...rest, headers: { ...(headers as Record<string, string>), 'x-id': id } });
    };
  },
};

describe.each(['ky', 'fetch'] as const)('R10 via %s', (kind) => {
  const client = (): Client => clients[kind]();

  it('attaches the bearer token and makes no refresh when the resource accepts it', async () => {
    server.accepted.add('at-0');
    const response = await client()('/data');
    expect(response.status).toBe(200);
    expect(server.seen.map((s) => s.authorization)).toEqual(['Bearer at-0']);
    expect(endpoint.received).toEqual([]);
  });

  it('on 401 refreshes once and retries once with the new token', async () => {
    server.accepted.add('at-1');
    const response = await client()('/data');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('ok');
    expect(endpoint.received).toEqual(['rt-0']);
    expect(server.seen.map((s) => s.authorization)).toEqual(['Bearer at-0', 'Bearer at-1']);
  });

  it('returns a second 401 to the caller: one refresh, two requests, no loop', async () => {
    const response = await client()('/always-401');
    expect(response.status).toBe(401);
    expect(endpoint.received).toEqual(['rt-0']);
    expect(server.seen.map((s) => s.authorization)).toEqual(['Bearer at-0', 'Bearer at-1']);
  });

  it.each([401, 403])('returns a %i with error="insufficient_scope" unchanged, with no refresh', async (status) => {
    server.policy = () => ({
      status,
      headers: { 'www-authenticate': 'Bearer realm="api", error="insufficient_scope", scope="admin"' },
      body: 'need admin',
    });
    const response = await client()('/admin');
    expect(response.status).toBe(status);
    expect(await response.text()).toBe('need admin');
    expect(server.seen).toHaveLength(1);
    expect(endpoint.received).toEqual([]);
  });

  it('retries a 401 for an older token with the current one, with no new refresh', async () => {
    // The request leaves with at-0; before its 401 arrives, another caller has refreshed to at-1.
    server.accepted.add('at-1');
    let refreshed: Promise<unknown> = Promise.resolve();
    server.policy = (seen) => {
      if (seen.authorization !== 'Bearer at-0') return undefined;
      refreshed = manager.refresh();
      return refreshed.then(() => undefined);
    };
    const response = await client()('/data');
    await refreshed;
    expect(response.status).toBe(200);
    expect(endpoint.received).toEqual(['rt-0']); // the forced refresh only
    expect(server.seen.map((s) => s.authorization)).toEqual(['Bearer at-0', 'Bearer at-1']);
  });

  it('200 concurrent requests that all get 401 for the old token: exactly 1 refresh, each retried at most once', async () => {
    const n = 200;
    server.accepted.add('at-1');
    // Hold every at-0 answer until all n requests have arrived, so all of them carry the old token.
    let arrived = 0;
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    server.policy = async (seen) => {
      if (seen.authorization !== 'Bearer at-0') return undefined;
      if (++arrived === n) openGate();
      await gate;
      return undefined;
    };
    const call = client();
    const responses = await Promise.all(Array.from({ length: n }, (_, i) => call('/data', { id: `q${i}` })));
    expect(responses.map((r) => r.status)).toEqual(Array(n).fill(200));
    expect(endpoint.received).toEqual(['rt-0']);
    for (let i = 0; i < n; i++) {
      expect(server.seen.filter((s) => s.id === `q${i}`).map((s) => s.authorization)).toEqual(['Bearer at-0', 'Bearer at-1']);
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
    server.accepted.add('at-1');
    const headers = _name === 'a JSON string' ? { 'content-type': 'application/json' } : undefined;
    const response = await client()('/upload', { method: 'POST', body: make(), ...(headers ? { headers } : {}) });
    expect(response.status).toBe(200);
    expect(server.seen).toHaveLength(2);
    for (const seen of server.seen) {
      expect(seen.method).toBe('POST');
      expect(seen.body.equals(expected.bytes)).toBe(true);
      if (expected.type) expect(seen.contentType).toMatch(expected.type);
    }
  });

  it('re-sends FormData with the same fields and a content type matching the body', async () => {
    server.accepted.add('at-1');
    const form = new FormData();
    form.append('name', 'alice');
    form.append('file', new Blob(['file-content'], { type: 'text/plain' }), 'a.txt');
    const response = await client()('/upload', { method: 'POST', body: form });
    expect(response.status).toBe(200);
    expect(server.seen).toHaveLength(2);
    for (const seen of server.seen) {
      const parsed = await new Response(new Uint8Array(seen.body), { headers: { 'content-type': seen.contentType ?? '' } }).formData();
      expect(parsed.get('name')).toBe('alice');
      const file = parsed.get('file') as File;
      expect(file.name).toBe('a.txt');
      expect(await file.text()).toBe('file-content');
    }
  });

  it('in degraded.rejected returns the 401 and sends nothing more to the token endpoint', async () => {
    endpoint.next({ kind: 'throw', error: new InvalidGrantError() });
    const call = client();
    expect((await call('/data')).status).toBe(401);
    expect(endpoint.received).toEqual(['rt-0']);
    expect(manager.status().detail).toBe('rejected');
    expect((await call('/data')).status).toBe(401);
    expect(endpoint.received).toEqual(['rt-0']);
    expect(server.seen.map((s) => s.authorization)).toEqual(['Bearer at-0', 'Bearer at-0']);
  });

  it('with a Retry-After pending returns the 401 and sends nothing to the token endpoint', async () => {
    endpoint.next({ kind: 'throw', error: new RefreshFailedError('unavailable', { retryable: true, status: 503, retryAfter: 60_000 }) });
    const call = client();
    expect((await call('/data')).status).toBe(401);
    expect(endpoint.received).toEqual(['rt-0']);
    expect(manager.status().state).toBe('degraded');
    expect((await call('/data')).status).toBe(401);
    expect(endpoint.received).toEqual(['rt-0']);
    expect(server.seen).toHaveLength(2);
  });

  it('in reauthRequired returns the 401 and sends nothing to the token endpoint', async () => {
    // No refresh token; the token expires while the request is at the server.
    await manager.setToken('default', { access_token: 'at-x', token_type: 'Bearer', expires_in: 60 });
    server.policy = () => {
      clock.increment(61_000);
      return undefined;
    };
    const response = await client()('/data');
    expect(response.status).toBe(401);
    expect(endpoint.received).toEqual([]);
    expect(server.seen).toHaveLength(1);
    expect(manager.status().state).toBe('reauthRequired');
    // With no usable token, the next request is not sent at all: the typed error says why.
    await expect(client()('/data')).rejects.toMatchObject({ code: 'reauth_required' });
    expect(server.seen).toHaveLength(1);
  });

  it("sends 'Bearer' for a token_type of 'bearer' in any case, and other types as given", async () => {
    await manager.setToken('default', { ...TOKEN, token_type: 'bEaReR' });
    server.accepted.add('at-0');
    await client()('/data');
    await manager.setToken('default', { ...TOKEN, token_type: 'DPoP' });
    server.policy = () => ({ status: 200 });
    await client()('/data');
    expect(server.seen.map((s) => s.authorization)).toEqual(['Bearer at-0', 'DPoP at-0']);
  });
});

describe('ky specifics', () => {
  it('retries the 401 with retry: 0 (not through ky.retry), and the second 401 becomes HTTPError', async () => {
    const api = ky.extend({ hooks: kyHooks(manager), retry: 0 });
    await expect(api(`${server.url}/always-401`)).rejects.toSatisfy(
      (error: unknown) => error instanceof HTTPError && error.response.status === 401,
    );
    expect(server.seen.map((s) => s.authorization)).toEqual(['Bearer at-0', 'Bearer at-1']);
    expect(endpoint.received).toEqual(['rt-0']);
  });

  it("does not count against ky's retries, and retries the 401 once per call across ky's own retries", async () => {
    // Attempt 1: 401 → our retry gets a 503 → ky retries (its one retry) → 401 again → to the caller.
    const answers: Answer[] = [{ status: 401 }, { status: 503 }, { status: 401 }];
    server.policy = () => answers.shift() ?? { status: 500 };
    let kyRetries = 0;
    const api = ky.extend({
      hooks: { ...kyHooks(manager), beforeRetry: [() => void kyRetries++] },
      retry: { limit: 1, delay: () => 0 },
    });
    await expect(api(`${server.url}/flaky`)).rejects.toSatisfy(
      (error: unknown) => error instanceof HTTPError && error.response.status === 401,
    );
    expect(kyRetries).toBe(1);
    expect(server.seen.map((s) => s.authorization)).toEqual(['Bearer at-0', 'Bearer at-1', 'Bearer at-1']);
    expect(endpoint.received).toEqual(['rt-0']);
  });

  it("uses ky's fetch option for the retry and keeps the other headers", async () => {
    server.accepted.add('at-1');
    const calls: string[] = [];
    const counting: FetchLike = (input, init) => {
      calls.push(new Request(input, init).headers.get('authorization') ?? '');
      return fetch(input, init);
    };
    const api = ky.extend({ hooks: kyHooks(manager), retry: 0, fetch: counting, headers: { 'x-id': 'h', 'x-other': '1' } });
    expect((await api(`${server.url}/data`)).status).toBe(200);
    expect(calls).toEqual(['Bearer at-0', 'Bearer at-1']);
    expect(server.seen.map((s) => s.id)).toEqual(['h', 'h']);
  });

  it("applies ky's timeout to the retry", async () => {
    server.policy = (seen) => (seen.authorization === 'Bearer at-1' ? new Promise<Answer>(() => undefined) : undefined);
    const api = ky.extend({ hooks: kyHooks(manager), retry: 0, timeout: 150 });
    await expect(api(`${server.url}/slow`)).rejects.toBeInstanceOf(TimeoutError);
    expect(server.seen).toHaveLength(2);
  });

  it('replays a ReadableStream body (ky tees every request body for its own retries)', async () => {
    server.accepted.add('at-1');
    const api = ky.extend({ hooks: kyHooks(manager), retry: 0 });
    const response = await api.post(`${server.url}/upload`, { body: streamOf(['chunk-1;', 'chunk-2']) });
    expect(response.status).toBe(200);
    expect(server.seen.map((s) => s.body.toString())).toEqual(['chunk-1;chunk-2', 'chunk-1;chunk-2']);
  });
});

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

describe('authFetch specifics', () => {
  it('does not retry a one-shot ReadableStream body: the 401 goes back, the token is renewed, no empty retry', async () => {
    server.accepted.add('at-1');
    const fetchWithToken = authFetch(manager);
    const init = (): RequestInit => ({ method: 'POST', body: streamOf(['part-a', 'part-b']), duplex: 'half' } as RequestInit);
    const response = await fetchWithToken(`${server.url}/upload`, init());
    expect(response.status).toBe(401);
    expect(server.seen.map((s) => [s.authorization, s.body.toString()])).toEqual([['Bearer at-0', 'part-apart-b']]);
    expect(endpoint.received).toEqual(['rt-0']);
    // The caller re-creates the stream and sends again: it goes out with the renewed token.
    expect((await fetchWithToken(`${server.url}/upload`, init())).status).toBe(200);
    expect(server.seen.map((s) => [s.authorization, s.body.toString()])[1]).toEqual(['Bearer at-1', 'part-apart-b']);
    expect(endpoint.received).toEqual(['rt-0']);
  });

  it('replays the body of a Request input (cloned before sending), keeping its headers', async () => {
    server.accepted.add('at-1');
    const fetchWithToken = authFetch(manager);
    const request = new Request(`${server.url}/upload`, {
      method: 'PUT',
      body: streamOf(['from-', 'a-request']),
      headers: { 'x-id': 'req', 'content-type': 'text/csv' },
      duplex: 'half',
    } as RequestInit);
    const response = await fetchWithToken(request);
    expect(response.status).toBe(200);
    expect(server.seen.map((s) => [s.id, s.method, s.contentType, s.authorization, s.body.toString()])).toEqual([
      ['req', 'PUT', 'text/csv', 'Bearer at-0', 'from-a-request'],
      ['req', 'PUT', 'text/csv', 'Bearer at-1', 'from-a-request'],
    ]);
  });

  it('re-sends the bytes given at call time even if the caller mutates its buffer meanwhile', async () => {
    server.accepted.add('at-1');
    const bytes = new Uint8Array([1, 2, 3]);
    server.policy = () => {
      bytes[0] = 99;
      return undefined;
    };
    await authFetch(manager)(`${server.url}/upload`, { method: 'POST', body: bytes });
    expect(server.seen.map((s) => [...s.body])).toEqual([
      [1, 2, 3],
      [1, 2, 3],
    ]);
  });

  it("uses the given fetch and the caller's abort signal", async () => {
    server.accepted.add('at-1');
    const seenByFetch: string[] = [];
    const wrapped = authFetch(manager, {
      fetch: (input, init) => {
        seenByFetch.push(new Headers(init?.headers).get('authorization') ?? '');
        return fetch(input, init);
      },
    });
    expect((await wrapped(`${server.url}/data`)).status).toBe(200);
    expect(seenByFetch).toEqual(['Bearer at-0', 'Bearer at-1']);
    const controller = new AbortController();
    controller.abort(new Error('caller gave up'));
    await expect(wrapped(`${server.url}/data`, { signal: controller.signal })).rejects.toThrow('caller gave up');
  });

  it('uses the key it was given', async () => {
    await manager.setToken('other', { ...TOKEN, access_token: 'other-0' });
    server.accepted.add('other-0');
    const response = await authFetch(manager, { key: 'other' })(`${server.url}/data`);
    expect(response.status).toBe(200);
    expect(server.seen.map((s) => s.authorization)).toEqual(['Bearer other-0']);
  });
});
