/**
 * R4 at the endpoint: a refresh that times out before its answer is kept for one more timeout when
 * the caller asks (`lateAnswer`), because a server that rotated holds the new refresh token only in
 * that answer. The caller is still rejected on time. A `fetch` the test answers by hand, fake timers.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { oauth2Endpoint } from '../../../adapters/oauth2/index.js';

interface HeldRequest {
  readonly signal: AbortSignal | undefined;
  readonly answer: (response: Response) => void;
}

function heldFetch(): { fetch: typeof globalThis.fetch; held: HeldRequest[] } {
  const held: HeldRequest[] = [];
  const fetch = ((_url: unknown, init?: RequestInit) =>
    new Promise<Response>((answer) => held.push({ signal: init?.signal ?? undefined, answer }))) as typeof globalThis.fetch;
  return { fetch, held };
}

const TOKENS = { access_token: 'at-late', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-rotated' };

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

async function timedOut(lateAnswer?: (answer: Promise<unknown>) => void) {
  const { fetch, held } = heldFetch();
  const endpoint = oauth2Endpoint({ tokenUrl: 'https://as.example/token', clientId: 'c', fetch, timeout: '1s' });
  const outcome = endpoint.refresh('rt-old', lateAnswer ? { lateAnswer } : {}).then(
    () => 'resolved',
    (error: { code?: string }) => error.code,
  );
  await vi.advanceTimersByTimeAsync(1_000);
  return { outcome: await outcome, request: held[0] as HeldRequest };
}

describe('a refresh that times out is kept for its late answer (R4)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('rejects on time, keeps the request, and hands over the late 2xx body as refresh() would have', async () => {
    let late: Promise<unknown> | undefined;
    const { outcome, request } = await timedOut((answer) => (late = answer));
    expect(outcome).toBe('refresh_failed');
    expect(late).toBeInstanceOf(Promise);
    expect(request.signal?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(900);
    request.answer(json(TOKENS));
    expect(await late).toEqual(TOKENS);
  });

  it('no answer within one more timeout: the request is aborted, and the late answer is nothing', async () => {
    let late: Promise<unknown> | undefined;
    const { request } = await timedOut((answer) => (late = answer));
    await vi.advanceTimersByTimeAsync(999);
    expect(request.signal?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(request.signal?.aborted).toBe(true);
    expect(await late).toBeUndefined();
  });

  it.each([
    ['an error answer', json({ error: 'invalid_grant' }, 400)],
    ['a 2xx body that is not JSON', new Response('<html>busy</html>', { status: 200 })],
  ])('%s, late: nothing to adopt', async (_name, response) => {
    let late: Promise<unknown> | undefined;
    const { request } = await timedOut((answer) => (late = answer));
    request.answer(response);
    expect(await late).toBeUndefined();
  });

  it('without lateAnswer a timed-out request is aborted at once', async () => {
    const { outcome, request } = await timedOut();
    expect(outcome).toBe('refresh_failed');
    expect(request.signal?.aborted).toBe(true);
  });
});
