/**
 * A token request that times out leaves nothing holding the host process (issue 21), against real
 * loopback servers in the test's process: one that never answers, one that sends headers and part of
 * a body, then stalls. On Node's own fetch the first request of a process is bounded by our abort
 * signal and the later ones by undici's per-request timeouts (adapters/oauth2/transport.ts): the
 * script makes both, then ends. Were either left to undici's defaults (300 s), the process would hang.
 * The manager keeps a timed-out refresh for its late answer (R4), one more timeout: that too ends.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleCore, lines, type HostHarness } from '../support/host-process.js';

let host: HostHarness;
const servers: Server[] = [];
const held: ServerResponse[] = [];

async function stalling(respond: (response: ServerResponse) => void): Promise<string> {
  const server = createServer((request, response) => {
    request.resume();
    held.push(response);
    respond(response);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
}

beforeAll(async () => {
  host = await bundleCore();
});

afterAll(async () => {
  for (const response of held) response.destroy();
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await host.cleanup();
});

function script(tokenUrl: string): string {
  return `
import { oauth2Endpoint } from './oauth2.mjs';
const endpoint = oauth2Endpoint({ tokenUrl: '${tokenUrl}', clientId: 'c', timeout: '300ms' });
for (const attempt of ['first', 'second', 'third']) {
  const outcome = await endpoint.refresh('r').then(() => 'answered', (e) => e.code + ' ' + (e.message.includes('300 ms') ? 'timeout' : 'other'));
  console.log(attempt, outcome);
}
const started = performance.now();
process.on('exit', () => console.log('exit after', Math.round(performance.now() - started) > 2500 ? 'long' : 'short'));
`;
}

describe('a timed-out token request does not hold the process', () => {
  it.each([
    ['never answers', (): void => undefined],
    [
      'sends headers and part of the body, then stalls',
      (response: ServerResponse): void => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write('{"access_token":"');
      },
    ],
  ])('a server that %s: each attempt times out, the process exits by itself', async (_name, respond) => {
    const tokenUrl = await stalling(respond);
    const result = await host.run(script(tokenUrl), { timeoutMs: 8_000 });
    expect(result.hung).toBe(false);
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toEqual(['first refresh_failed timeout', 'second refresh_failed timeout', 'third refresh_failed timeout', 'exit after short']);
  });

  it('a manager whose refresh timed out and is kept for its late answer: stop(), and the process exits by itself within one more timeout', async () => {
    const tokenUrl = await stalling(() => undefined);
    const result = await host.run(
      `
import { createTokenManager } from './token-lifecycle.mjs';
import { oauth2Endpoint } from './oauth2.mjs';
const endpoint = oauth2Endpoint({ tokenUrl: '${tokenUrl}', clientId: 'c', timeout: '300ms' });
const m = createTokenManager({ endpoint });
await m.setToken('k', { access_token: 'a', token_type: 'Bearer', expires_in: 3600, refresh_token: 'r' });
for (const attempt of ['first', 'second']) console.log(attempt, await m.refresh('k').then(() => 'answered', (e) => e.code));
await m.stop();
const stopped = performance.now();
process.on('exit', () => console.log('exit after stop', Math.round(performance.now() - stopped) < 2500 ? 'short' : 'long'));
`,
      { timeoutMs: 8_000 },
    );
    expect(result.hung).toBe(false);
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toEqual(['first refresh_failed', 'second refresh_failed', 'exit after stop short']);
  });
});
