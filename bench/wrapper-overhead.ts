/**
 * Wrapper overhead (issue 7): requests through the ky integration against a loopback node:http
 * server, versus plain ky with a static `Authorization` header. Same ky options otherwise; one request
 * at a time (the latency a caller sees), interleaved rounds, best round. The judged figure is
 * `kyAuth(manager)`; `kyHooks(manager)` is reported beside it, with its cause: any `afterResponse`
 * hook makes ky clone (tee) every response.
 */
import ky from 'ky';
import { kyAuth, kyHooks } from '../adapters/http/index.js';
import { createTokenManager } from '../machines/manager/manager.js';
import { memoryStorage } from '../machines/manager/memory-storage.js';
import { figure, type BenchOptions, type Figure } from './support/figure.js';
import { listen } from './support/loopback.js';
import { compareLatency, timeUnit } from './support/measure.js';
import { opaqueToken, unusedEndpoint } from './support/tokens.js';

const BODY = JSON.stringify({ id: 42, name: 'resource', tags: ['a', 'b'] });

export default async function run({ quick }: BenchOptions): Promise<Figure[]> {
  const key = 'api';
  const manager = createTokenManager({ endpoint: unusedEndpoint, storage: memoryStorage() });
  const token = await manager.setToken(key, { access_token: opaqueToken(), token_type: 'Bearer', expires_in: 3600, refresh_token: opaqueToken() });
  const expected = `Bearer ${token.accessToken}`;
  let unauthorized = 0;
  const server = await listen((request, response) => {
    if (request.headers.authorization !== expected) unauthorized++;
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) });
    response.end(BODY);
  });
  const common = { prefixUrl: server.url };
  const plain = ky.create({ ...common, headers: { authorization: expected } });
  const withKyAuth = ky.create({ ...common, ...kyAuth(manager, { key }) });
  const withKyHooks = ky.create({ ...common, hooks: kyHooks(manager, { key }) });
  // The cause of kyHooks' cost: ky clones the response (a body tee) before calling an afterResponse hook.
  const noopAfter = ky.create({ ...common, headers: { authorization: expected }, hooks: { afterResponse: [() => undefined] } });

  const us = await compareLatency(
    [
      { name: 'plain', op: () => plain.get('resource').text() },
      { name: 'kyAuth', op: () => withKyAuth.get('resource').text() },
      { name: 'kyHooks', op: () => withKyHooks.get('resource').text() },
      { name: 'noopAfter', op: () => noopAfter.get('resource').text() },
    ],
    quick ? { warmup: 150, rounds: 60, perRound: 5 } : { warmup: 1000, rounds: 150, perRound: 10 },
  );
  await manager.stop();
  await server.close();
  if (unauthorized > 0) throw new Error(`wrapper-overhead: ${unauthorized} request(s) carried the wrong Authorization header`);
  const at = (name: string): number => us.get(name) as number;
  return [
    figure('wrapper: ky + kyAuth(manager) vs ky + static header, loopback GET', at('kyAuth'), timeUnit('µs/req'), at('plain'), 'ratio <= 1.05'),
    figure('wrapper: ky + kyHooks(manager) vs ky + static header (afterResponse hook)', at('kyHooks'), timeUnit('µs/req'), at('plain'), 'info'),
    figure('wrapper: ky + static header + no-op afterResponse hook vs without (cause)', at('noopAfter'), timeUnit('µs/req'), at('plain'), 'info'),
  ];
}
