/**
 * R10 through both HTTP adapters (ky hooks and authFetch), against a real loopback resource server,
 * a real manager and the scripted token endpoint. Requests are counted at the server. The shared
 * cases live in test/support/resource-server.ts (kyAuth runs them too: http/ky-auth.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { authFetch, kyHooks } from '../../../adapters/http/index.js';
import { TOKEN, clientOf, describeKy, describeR10, httpContext, kyClient, streamOf, type KyAuthFactory } from '../../support/resource-server.js';

const t = httpContext();

const withHooks: KyAuthFactory = (manager, options) => ({ hooks: kyHooks(manager), ...options });

describeR10('ky', t, () => kyClient(t, withHooks));
describeR10('fetch', t, () => clientOf(t, authFetch(t.manager)));
describeKy('ky specifics', t, withHooks);

describe('authFetch specifics', () => {
  it('does not retry a one-shot ReadableStream body: the 401 goes back, the token is renewed, no empty retry', async () => {
    t.server.accepted.add('at-1');
    const fetchWithToken = authFetch(t.manager);
    const init = (): RequestInit => ({ method: 'POST', body: streamOf(['part-a', 'part-b']), duplex: 'half' } as RequestInit);
    const response = await fetchWithToken(`${t.server.url}/upload`, init());
    expect(response.status).toBe(401);
    expect(t.server.seen.map((s) => [s.authorization, s.body.toString()])).toEqual([['Bearer at-0', 'part-apart-b']]);
    expect(t.endpoint.received).toEqual(['rt-0']);
    // The caller re-creates the stream and sends again: it goes out with the renewed token.
    expect((await fetchWithToken(`${t.server.url}/upload`, init())).status).toBe(200);
    expect(t.server.seen.map((s) => [s.authorization, s.body.toString()])[1]).toEqual(['Bearer at-1', 'part-apart-b']);
    expect(t.endpoint.received).toEqual(['rt-0']);
  });

  it('replays the body of a Request input (cloned before sending), keeping its headers', async () => {
    t.server.accepted.add('at-1');
    const fetchWithToken = authFetch(t.manager);
    const request = new Request(`${t.server.url}/upload`, {
      method: 'PUT',
      body: streamOf(['from-', 'a-request']),
      headers: { 'x-id': 'req', 'content-type': 'text/csv' },
      duplex: 'half',
    } as RequestInit);
    const response = await fetchWithToken(request);
    expect(response.status).toBe(200);
    expect(t.server.seen.map((s) => [s.id, s.method, s.contentType, s.authorization, s.body.toString()])).toEqual([
      ['req', 'PUT', 'text/csv', 'Bearer at-0', 'from-a-request'],
      ['req', 'PUT', 'text/csv', 'Bearer at-1', 'from-a-request'],
    ]);
  });

  it('re-sends the bytes given at call time even if the caller mutates its buffer meanwhile', async () => {
    t.server.accepted.add('at-1');
    const bytes = new Uint8Array([1, 2, 3]);
    t.server.policy = () => {
      bytes[0] = 99;
      return undefined;
    };
    await authFetch(t.manager)(`${t.server.url}/upload`, { method: 'POST', body: bytes });
    expect(t.server.seen.map((s) => [...s.body])).toEqual([
      [1, 2, 3],
      [1, 2, 3],
    ]);
  });

  it("uses the given fetch and the caller's abort signal", async () => {
    t.server.accepted.add('at-1');
    const seenByFetch: string[] = [];
    const wrapped = authFetch(t.manager, {
      fetch: (input, init) => {
        seenByFetch.push(new Headers(init?.headers).get('authorization') ?? '');
        return fetch(input, init);
      },
    });
    expect((await wrapped(`${t.server.url}/data`)).status).toBe(200);
    expect(seenByFetch).toEqual(['Bearer at-0', 'Bearer at-1']);
    const controller = new AbortController();
    controller.abort(new Error('caller gave up'));
    await expect(wrapped(`${t.server.url}/data`, { signal: controller.signal })).rejects.toThrow('caller gave up');
  });

  it('uses the key it was given', async () => {
    await t.manager.setToken('other', { ...TOKEN, access_token: 'other-0' });
    t.server.accepted.add('other-0');
    const response = await authFetch(t.manager, { key: 'other' })(`${t.server.url}/data`);
    expect(response.status).toBe(200);
    expect(t.server.seen.map((s) => s.authorization)).toEqual(['Bearer other-0']);
  });
});
