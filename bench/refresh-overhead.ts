/**
 * Refresh overhead (issue 7): a manager refresh (`refresh(key)`: lock, re-read, the token request
 * through `oauth2Endpoint`, validation, rotation, the storage write, state changes; memory storage)
 * against a loopback token endpoint, versus one raw `fetch` POST of the same grant (same client
 * authentication, body and JSON parse). One at a time, interleaved rounds, best round.
 */
import { oauth2Endpoint } from '../adapters/oauth2/index.js';
import { createTokenManager } from '../machines/manager.js';
import { memoryStorage } from '../machines/memory-storage.js';
import { figure, type BenchOptions, type Figure } from './support/figure.js';
import { compareLatency } from './support/measure.js';
import { BASIC, CLIENT_ID, CLIENT_SECRET, tokenServer } from './support/token-server.js';

export default async function run({ quick }: BenchOptions): Promise<Figure[]> {
  const server = await tokenServer();
  const key = 'svc';
  const manager = createTokenManager({
    endpoint: oauth2Endpoint({ tokenUrl: server.tokenUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }),
    storage: memoryStorage(),
  });
  await manager.setToken(key, { access_token: 'initial', token_type: 'Bearer', expires_in: 3600, refresh_token: server.issue() });

  let rawRefreshToken = server.issue();
  const raw = async (): Promise<void> => {
    const response = await fetch(server.tokenUrl, {
      method: 'POST',
      headers: { authorization: BASIC, accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: rawRefreshToken }),
    });
    const json = (await response.json()) as { refresh_token?: string };
    if (!response.ok || typeof json.refresh_token !== 'string') throw new Error(`refresh-overhead: raw refresh failed (${response.status})`);
    rawRefreshToken = json.refresh_token;
  };

  const us = await compareLatency(
    [
      { name: 'raw', op: raw },
      { name: 'manager', op: () => manager.refresh(key) },
    ],
    quick ? { warmup: 200, rounds: 12, perRound: 30 } : { warmup: 600, rounds: 50, perRound: 60 },
  );
  await manager.stop();
  await server.close();
  if (server.counts.refused > 0) throw new Error(`refresh-overhead: the server refused ${server.counts.refused} request(s)`);
  return [
    figure('refresh: manager.refresh() via oauth2Endpoint vs raw fetch POST, loopback', us.get('manager') as number, 'µs/refresh', us.get('raw') as number, 'ratio <= 1.15'),
  ];
}
