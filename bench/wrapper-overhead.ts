/**
 * Wrapper overhead (issue 7): requests through the ky integration (`kyHooks(manager)`) against a
 * loopback node:http server, versus plain ky with a static `Authorization` header. Same ky options
 * otherwise; one request at a time (the latency a caller sees), interleaved rounds, best round.
 */
import ky, { type AfterResponseHook, type BeforeRequestHook } from 'ky';
import { createTokenManager } from '../machines/manager.js';
import { memoryStorage } from '../machines/memory-storage.js';
import type { TokenManager } from '../machines/manager-types.js';
import { figure, type BenchOptions, type Figure } from './support/figure.js';
import { listen } from './support/loopback.js';
import { compareLatency, timeUnit } from './support/measure.js';
import { importOptional } from './support/optional.js';
import { opaqueToken, unusedEndpoint } from './support/tokens.js';

type KyHooks = (manager: Pick<TokenManager, 'getToken' | 'renewAfterUnauthorized'>, options?: { key?: string }) => {
  beforeRequest: BeforeRequestHook[];
  afterResponse: AfterResponseHook[];
};

const BODY = JSON.stringify({ id: 42, name: 'resource', tags: ['a', 'b'] });

export default async function run({ quick }: BenchOptions): Promise<Figure[]> {
  const kyHooks = await importOptional<KyHooks>('../../adapters/http/index.js', 'kyHooks');
  if (!kyHooks) {
    console.log('  wrapper-overhead: adapters/http (kyHooks) is not there: skipped');
    return [];
  }
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
  const hooks = kyHooks(manager, { key });
  const wrapped = ky.create({ ...common, hooks });
  // Where the overhead comes from: the token hook alone, and any afterResponse hook (ky clones the
  // response, a body tee, before calling it).
  const beforeOnly = ky.create({ ...common, hooks: { beforeRequest: hooks.beforeRequest } });
  const noopAfter = ky.create({ ...common, headers: { authorization: expected }, hooks: { afterResponse: [() => undefined] } });

  const us = await compareLatency(
    [
      { name: 'plain', op: () => plain.get('resource').text() },
      { name: 'wrapped', op: () => wrapped.get('resource').text() },
      { name: 'beforeOnly', op: () => beforeOnly.get('resource').text() },
      { name: 'noopAfter', op: () => noopAfter.get('resource').text() },
    ],
    quick ? { warmup: 150, rounds: 60, perRound: 5 } : { warmup: 1000, rounds: 150, perRound: 10 },
  );
  await manager.stop();
  await server.close();
  if (unauthorized > 0) throw new Error(`wrapper-overhead: ${unauthorized} request(s) carried the wrong Authorization header`);
  const at = (name: string): number => us.get(name) as number;
  return [
    figure('wrapper: ky + kyHooks(manager) vs ky + static header, loopback GET', at('wrapped'), timeUnit('µs/req'), at('plain'), 'ratio <= 1.05'),
    figure('wrapper: ky + kyHooks beforeRequest only vs static header (cause)', at('beforeOnly'), timeUnit('µs/req'), at('plain'), 'info'),
    figure('wrapper: ky + static header + no-op afterResponse hook vs without (cause)', at('noopAfter'), timeUnit('µs/req'), at('plain'), 'info'),
  ];
}
