/**
 * Issue 22, case 8: a refresh still in flight when stop()'s bounded wait ends (a server that answers
 * slowly) goes on (R15), but its file-store key lock is released at once, so a process that starts
 * next does not wait out the lock's TTL; the late answer is still written.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fileStorage } from '../../adapters/storage/file/index.js';
import { sendJson, startHostileServer, type HostileServer } from '../support/hostile-server.js';
import { hostileWorld } from '../support/hostile-world.js';

let server: HostileServer;
let dir: string;
beforeAll(async () => {
  server = await startHostileServer();
  dir = await mkdtemp(join(tmpdir(), 'stop-lock-'));
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

it('stop() lets go of the key lock of a refresh it stopped waiting for; the late tokens are still stored', async () => {
  const path = join(dir, 'store.json');
  let answered!: () => void;
  const answeredPromise = new Promise<void>((resolve) => (answered = resolve));
  let received!: () => void;
  const receivedPromise = new Promise<void>((resolve) => (received = resolve));
  server.answer = (_request, response) => {
    received();
    setTimeout(() => {
      sendJson(response, 200, { access_token: 'late-access', token_type: 'Bearer', expires_in: 3600, refresh_token: 'late-refresh' });
      answered();
    }, 1_500);
  };
  const storage = fileStorage({ path, watch: false });
  const world = await hostileWorld(server, { storage, stopTimeout: 100, endpoint: { timeout: '10s' } });
  const pending = world.manager.getToken().catch(() => undefined);
  await receivedPromise;

  await world.stop();
  // Another process (a second store on the same file), right after: the lock is free now, not in 30 s.
  const next = fileStorage({ path, watch: false });
  const lock = await next.lock('default', 30_000);
  expect(lock).not.toBeNull();
  await lock?.release();

  await answeredPromise;
  await pending;
  await expect.poll(async () => (await next.get('default'))?.refreshToken, { timeout: 5_000 }).toBe('late-refresh');
  await Promise.all([storage.close(), next.close()]);
});
