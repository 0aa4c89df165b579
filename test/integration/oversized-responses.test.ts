import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oauth2Endpoint } from '../../adapters/oauth2/index.js';

const OFFERED = 50 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'a');

/** Writes up to 50 MB as fast as the client takes it, until the client goes away; counts what was taken. */
function flood(response: ServerResponse, head: string, counter: { written: number; closed: Promise<void> }): void {
  response.write(head);
  const pump = (): void => {
    while (counter.written < OFFERED && !response.destroyed) {
      counter.written += CHUNK.byteLength;
      if (!response.write(CHUNK)) return void response.once('drain', pump);
    }
    response.end();
  };
  pump();
}

let server: Server;
let base: string;
let last: { written: number; closed: Promise<void> };

beforeAll(async () => {
  server = createServer((request, response) => {
    let closed!: () => void;
    last = { written: 0, closed: new Promise((resolve) => (closed = resolve)) };
    response.on('close', () => closed());
    const declared = request.url?.includes('declared');
    const metadata = request.url?.startsWith('/.well-known/');
    response.writeHead(200, {
      'content-type': 'application/json',
      ...(declared ? { 'content-length': String(OFFERED + 30) } : {}),
    });
    flood(response, metadata ? `{"issuer":"${base}","x":"` : '{"access_token":"', last);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('a 50 MB answer from a real loopback server is refused at 1 MiB, the connection closed', () => {
  it.each([
    ['streamed, no Content-Length', '/token'],
    ['with a Content-Length of 50 MB', '/token?declared'],
  ])('token endpoint, %s: invalid_token_response', async (_, path) => {
    const endpoint = oauth2Endpoint({ tokenUrl: `${base}${path}`, clientId: 'client', clientSecret: 'secret' });
    await expect(endpoint.refresh('RT')).rejects.toMatchObject({ code: 'invalid_token_response', retryable: true });
    await last.closed;
    // What the kernel's socket buffers took beyond the 1 MiB read: far from the 50 MB offered.
    expect(last.written).toBeLessThan(OFFERED / 4);
  });

  it('discovery: discovery_failed, retryable', async () => {
    const endpoint = oauth2Endpoint({ issuer: base, clientId: 'client', clientSecret: 'secret' });
    await expect(endpoint.refresh('RT')).rejects.toMatchObject({ code: 'discovery_failed', retryable: true });
    await last.closed;
    expect(last.written).toBeLessThan(OFFERED / 4);
  });
});
