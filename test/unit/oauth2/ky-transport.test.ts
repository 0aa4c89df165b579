import ky from 'ky';
import { describe, expect, it, vi } from 'vitest';
import { oauth2Endpoint } from '../../../adapters/oauth2/index.js';

const TOKEN_URL = 'https://as.example/token';

function recordingFetch(...answers: Array<() => Response | Promise<Response>>) {
  const requests: Request[] = [];
  const bodies: string[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init);
    requests.push(request);
    bodies.push(await request.clone().text());
    const answer = answers.shift();
    return answer ? answer() : Response.json({ access_token: 'at', token_type: 'Bearer' });
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, requests, bodies };
}

describe('oauth2Endpoint({ ky }): the grant through your ky instance', () => {
  it("your ky's hooks see the token request; the answer is parsed as with fetch", async () => {
    const server = recordingFetch();
    const seen: string[] = [];
    const mine = ky.create({
      fetch: server.fetch,
      hooks: { beforeRequest: [(request) => void seen.push(`${request.method} ${request.url}`)] },
    });
    const endpoint = oauth2Endpoint({ tokenUrl: TOKEN_URL, clientId: 'client', clientSecret: 'secret', ky: mine });
    await expect(endpoint.refresh('RT')).resolves.toEqual({ access_token: 'at', token_type: 'Bearer' });
    expect(seen).toEqual([`POST ${TOKEN_URL}`]);
    const request = server.requests[0];
    expect(request?.headers.get('accept')).toBe('application/json');
    expect(request?.headers.get('authorization')).toBe(`Basic ${btoa('client:secret')}`);
    expect(request?.redirect).toBe('manual');
    expect(server.bodies[0]).toBe('grant_type=refresh_token&refresh_token=RT');
  });

  it("ky's retries and throwHttpErrors are off for the grant: a 503 is one request, refresh_failed", async () => {
    const server = recordingFetch(() => new Response('', { status: 503, headers: { 'retry-after': '3' } }));
    const mine = ky.create({ fetch: server.fetch, retry: { limit: 5, methods: ['post', 'get'] }, throwHttpErrors: true });
    const endpoint = oauth2Endpoint({ tokenUrl: TOKEN_URL, clientId: 'client', clientSecret: 'secret', ky: mine });
    await expect(endpoint.refresh('RT')).rejects.toMatchObject({ code: 'refresh_failed', status: 503, retryAfter: 3000 });
    expect(server.requests).toHaveLength(1);
  });

  it("the endpoint's timeout applies, not ky's", async () => {
    vi.useFakeTimers();
    try {
      const server = recordingFetch(() => new Promise<Response>(() => {}));
      const mine = ky.create({ fetch: server.fetch, timeout: false });
      const endpoint = oauth2Endpoint({ tokenUrl: TOKEN_URL, clientId: 'c', clientSecret: 's', ky: mine, timeout: '2s' });
      const pending = endpoint.refresh('RT').catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(2_000);
      expect(await pending).toMatchObject({ code: 'refresh_failed', retryable: true, message: expect.stringMatching(/2000 ms/) });
    } finally {
      vi.useRealTimers();
    }
  });

  it('the body limit applies through ky too', async () => {
    const server = recordingFetch(() => new Response('x'.repeat(2_000)));
    const endpoint = oauth2Endpoint({ tokenUrl: TOKEN_URL, clientId: 'c', clientSecret: 's', ky: ky.create({ fetch: server.fetch }), maxResponseBytes: 1_000 });
    await expect(endpoint.refresh('RT')).rejects.toMatchObject({ code: 'invalid_token_response' });
  });

  it('ky and fetch together, or a ky that is not a function, are invalid_config', () => {
    expect(() =>
      oauth2Endpoint({ tokenUrl: TOKEN_URL, clientId: 'c', ky, fetch: globalThis.fetch }),
    ).toThrow(expect.objectContaining({ code: 'invalid_config' }));
    expect(() =>
      oauth2Endpoint({ tokenUrl: TOKEN_URL, clientId: 'c', ky: {} as never }),
    ).toThrow(expect.objectContaining({ code: 'invalid_config' }));
  });
});
