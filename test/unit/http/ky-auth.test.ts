/**
 * `kyAuth(manager)`: the R10 cases and ky's specifics every ky integration passes
 * (test/support/resource-server.ts), then what is its own: the token attached once per attempt, no
 * afterResponse hook, and how it combines with the caller's hooks.
 */
import ky, { type BeforeRequestHook } from 'ky';
import { describe, expect, it } from 'vitest';
import { kyAuth, type HttpTokenSource } from '../../../adapters/http/index.js';
import { settle } from '../../support/fake-endpoint.js';
import { TOKEN, describeKy, describeR10, httpContext, kyClient } from '../../support/resource-server.js';

const t = httpContext();

describeR10('kyAuth', t, () => kyClient(t, kyAuth));
describeKy('kyAuth: ky specifics', t, kyAuth);

describe('kyAuth specifics', () => {
  it('has no afterResponse hook (ky would tee every response for one)', () => {
    expect(Object.keys(kyAuth(t.manager).hooks)).toEqual(['beforeRequest']);
  });

  it('asks the manager for the token once per attempt: the fetch sends the header the hook set', async () => {
    t.server.accepted.add('at-1');
    let asked = 0;
    const counting: HttpTokenSource = {
      getToken: (key, options) => (asked++, t.manager.getToken(key, options)),
      renewAfterUnauthorized: (key, rejected, options) => t.manager.renewAfterUnauthorized(key, rejected, options),
    };
    const api = ky.extend({ ...kyAuth(counting), retry: 0 });
    expect((await api(`${t.server.url}/data`)).status).toBe(200);
    expect(asked).toBe(1);
    expect(t.server.seen.map((s) => s.authorization)).toEqual(['Bearer at-0', 'Bearer at-1']);
  });

  it("combines with the caller's hooks: later beforeRequest hooks see the header, afterResponse hooks the final response", async () => {
    t.server.accepted.add('at-1');
    const headersSeen: Array<string | null> = [];
    const statusesSeen: number[] = [];
    const api = ky.extend(kyAuth(t.manager)).extend({
      retry: 0,
      hooks: {
        beforeRequest: [(request) => void headersSeen.push(request.headers.get('authorization'))],
        afterResponse: [(_request, _options, response) => void statusesSeen.push(response.status)],
      },
    });
    expect((await api(`${t.server.url}/data`)).status).toBe(200);
    expect(headersSeen).toEqual(['Bearer at-0']);
    expect(statusesSeen).toEqual([200]);
  });

  it('a request another hook replaced still gets the token, and one retry', async () => {
    t.server.accepted.add('at-1');
    const replace: BeforeRequestHook = (request) => new Request(request, { headers: { 'x-id': 'replaced' } });
    // The caller's hook runs first and ends ky's hook loop: kyAuth's hook never sees the request.
    const auth = kyAuth(t.manager);
    const api = ky.extend({ fetch: auth.fetch, hooks: { beforeRequest: [replace, ...auth.hooks.beforeRequest] }, retry: 0 });
    expect((await api(`${t.server.url}/data`)).status).toBe(200);
    expect(t.server.seen.map((s) => [s.id, s.authorization])).toEqual([
      ['replaced', 'Bearer at-0'],
      ['replaced', 'Bearer at-1'],
    ]);
    expect(t.endpoint.received).toEqual(['rt-0']);
  });

  it("ends the caller's wait for the renewal on abort; the refresh goes on for others", async () => {
    t.endpoint.next({ kind: 'hold' });
    const controller = new AbortController();
    const api = ky.extend({ ...kyAuth(t.manager), retry: 0 });
    const call = api(`${t.server.url}/data`, { signal: controller.signal });
    while (t.endpoint.held === 0) await settle();
    controller.abort(new Error('caller gave up'));
    await expect(call).rejects.toThrow('caller gave up');
    t.endpoint.release();
    await expect(t.manager.getToken()).resolves.toMatchObject({ accessToken: 'at-1' });
    expect(t.server.seen).toHaveLength(1);
  });

  it('uses the key it was given', async () => {
    await t.manager.setToken('other', { ...TOKEN, access_token: 'other-0' });
    t.server.accepted.add('other-0');
    const api = ky.extend({ ...kyAuth(t.manager, { key: 'other' }), retry: 0 });
    expect((await api(`${t.server.url}/data`)).status).toBe(200);
    expect(t.server.seen.map((s) => s.authorization)).toEqual(['Bearer other-0']);
  });

  it('its fetch used on its own attaches the token as authFetch does', async () => {
    t.server.accepted.add('at-1');
    const response = await kyAuth(t.manager).fetch(`${t.server.url}/data`);
    expect(response.status).toBe(200);
    expect(t.server.seen.map((s) => s.authorization)).toEqual(['Bearer at-0', 'Bearer at-1']);
  });
});
