/**
 * The manager over fileStorage when the disk misbehaves (issue 8, R4), against a real oidc-provider.
 *
 * A read-only directory: we run as root in CI containers, where chmod does not stop writes
 * (CAP_DAC_OVERRIDE). So the directory is made read-only with chmod 0500 where that works (an
 * ordinary user), else with `chattr +i` (root with CAP_LINUX_IMMUTABLE on ext4/xfs/btrfs: no entry can
 * be created, renamed or removed in it, which is all an atomic write needs). Where neither blocks
 * writes those tests are skipped and say so; the third test (the directory replaced by a regular
 * file: ENOTDIR for reads and writes alike) needs no privilege and always runs.
 *
 * A writer killed with SIGKILL in the middle of a write is covered by file-storage-processes.test.ts.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fileStorage, type FileStorage } from '../../adapters/storage/file/index.js';
import { oauth2Endpoint, type OAuth2Endpoint } from '../../adapters/oauth2/index.js';
import { createTokenManager } from '../../machines/manager/manager.js';
import type { TokenEvent, TokenManager } from '../../machines/manager/api-types.js';
import type { TokenEndpoint } from '../../machines/lifecycle/types.js';
import { nextEvent, waitUntil } from '../support/lifecycle-helpers.js';
import { CLIENTS, startAuthServer, type AuthServer } from '../support/oidc-server.js';

const run = promisify(execFile);

let server: AuthServer;
let direct: OAuth2Endpoint;
let work: string;
const cleanups: Array<() => Promise<unknown>> = [];
const managers: TokenManager[] = [];

beforeAll(async () => {
  server = await startAuthServer({ ttl: { AccessToken: 60 } });
  direct = oauth2Endpoint({ tokenUrl: server.tokenUrl, ...CLIENTS.confidential });
  work = await mkdtemp(join(tmpdir(), 'tl-file-faults-'));
});

afterEach(async () => {
  // Writable again first, whatever happened: an immutable directory would outlive the test run.
  for (const undo of cleanups.splice(0).reverse()) await undo().catch(() => undefined);
  await Promise.allSettled(managers.splice(0).map((m) => m.stop()));
});

afterAll(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function canCreateIn(dir: string): Promise<boolean> {
  const probe = join(dir, '.probe');
  try {
    await writeFile(probe, 'x');
  } catch {
    return false;
  }
  await unlink(probe);
  return true;
}

interface ReadOnly {
  readonly how: string;
  undo(): Promise<void>;
}

/** Makes `dir` read-only by the first means that works here; undefined when none does. */
async function makeReadOnly(dir: string): Promise<ReadOnly | undefined> {
  await chmod(dir, 0o500);
  if (!(await canCreateIn(dir))) return { how: 'chmod 0500', undo: () => chmod(dir, 0o700) };
  await chmod(dir, 0o700);
  const unlock = async (): Promise<void> => void (await run('chattr', ['-i', dir]));
  try {
    await run('chattr', ['+i', dir]);
  } catch {
    return undefined; // no chattr, no CAP_LINUX_IMMUTABLE, or a file system without the flag (tmpfs)
  }
  if (!(await canCreateIn(dir))) return { how: 'chattr +i', undo: unlock };
  await unlock();
  return undefined;
}

/** Whether this machine can make a directory read-only for us at all (decides the skips). */
async function readOnlySupported(): Promise<string | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'tl-ro-probe-'));
  try {
    const readOnly = await makeReadOnly(dir);
    await readOnly?.undo();
    return readOnly?.how;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
const readOnlyHow = await readOnlySupported();

/** The real endpoint, with a hook that runs once just before the next request is sent. */
function endpointWithHook(): TokenEndpoint & { beforeNext(hook: () => Promise<unknown>): void } {
  let hook: (() => Promise<unknown>) | undefined;
  return {
    async refresh(refreshToken, options) {
      const now = hook;
      hook = undefined;
      await now?.();
      return direct.refresh(refreshToken, options);
    },
    beforeNext(next) {
      hook = next;
    },
  };
}

let dirs = 0;
async function setup(endpoint: TokenEndpoint) {
  const dir = join(work, `store-${++dirs}`);
  await mkdir(dir, { mode: 0o700 });
  const storage: FileStorage = fileStorage({ path: join(dir, 'tokens.json') });
  cleanups.push(() => storage.close());
  const events: TokenEvent[] = [];
  const m = createTokenManager({
    endpoint,
    storage,
    refreshThreshold: '10s',
    minRefreshInterval: '50ms',
    retry: { minDelay: '150ms', maxDelay: '400ms', jitter: 0 },
    // A lock whose release failed on the read-only disk frees itself soon.
    lockTtl: '1s',
  });
  m.subscribe((event) => events.push(event));
  managers.push(m);
  // A fresh grant, as after a login.
  const tokens = (await direct.refresh(await server.mintRefreshToken())) as Record<string, unknown>;
  const set = await m.setToken('k', tokens);
  return { dir, storage, m, events, set, secrets: [tokens.access_token, tokens.refresh_token] as string[] };
}

const refreshGrants = (): number => server.counts.tokenByGrant.refresh_token ?? 0;

describe('fileStorage under a manager: a read-only directory (R4)', () => {
  it.skipIf(readOnlyHow === undefined)(
    `the refresh counts, tokens are served from memory, storage_failed, written once writable again (${readOnlyHow ?? 'unsupported here'})`,
    async () => {
      const endpoint = endpointWithHook();
      const { dir, storage, m, events, set } = await setup(endpoint);
      let readOnly: ReadOnly | undefined;
      // Read-only after the manager took its lock and re-read the store, before the server rotates.
      endpoint.beforeNext(async () => {
        readOnly = await makeReadOnly(dir);
        if (readOnly) cleanups.push(() => readOnly?.undo() ?? Promise.resolve());
      });
      const storageFailed = nextEvent(m, 'storage_failed', { key: 'k' });

      const fresh = await m.refresh('k');
      expect(readOnly).toBeDefined();
      expect(fresh.refreshToken).not.toBe(set.refreshToken);
      expect(await storageFailed).toMatchObject({ code: 'storage_failed', retrying: true });
      // Served from memory; the file still holds the previous tokens.
      expect((await m.getToken('k')).accessToken).toBe(fresh.accessToken);
      expect(m.status('k').state).toBe('valid');
      expect((await storage.get('k'))?.refreshToken).toBe(set.refreshToken);

      // The write is retried in the background and lands once the directory is writable.
      await waitUntil(() => events.filter((e) => e.type === 'storage_failed').length >= 2, 'a failed write retry');
      await readOnly?.undo();
      await expect.poll(async () => (await storage.get('k'))?.refreshToken, { timeout: 8_000, interval: 50 }).toBe(fresh.refreshToken);

      // Nothing lost: the server accepts the refresh token the manager (and the file) hold.
      const before = refreshGrants();
      const next = await m.refresh('k');
      expect(refreshGrants()).toBe(before + 1);
      expect((await storage.get('k'))?.refreshToken).toBe(next.refreshToken);
      for (const secret of [set.accessToken, set.refreshToken, fresh.accessToken, fresh.refreshToken, next.refreshToken]) {
        expect(JSON.stringify(events)).not.toContain(secret);
      }
    },
  );

  it.skipIf(readOnlyHow === undefined)('stop() while the write is still failing rejects with storage_failed (R4)', async () => {
    const endpoint = endpointWithHook();
    const { dir, m, set } = await setup(endpoint);
    endpoint.beforeNext(async () => {
      const readOnly = await makeReadOnly(dir);
      if (readOnly) cleanups.push(() => readOnly.undo());
    });
    const fresh = await m.refresh('k');

    const error = await m.stop().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toMatchObject({ code: 'storage_failed', key: 'k' });
    for (const secret of [set.refreshToken, fresh.refreshToken, fresh.accessToken]) expect(error?.message).not.toContain(secret);
  });
});

describe('fileStorage under a manager: a store that can be neither read nor written', () => {
  it('the directory replaced by a regular file: no refresh is sent, the valid token is served, recovery after', async () => {
    const { dir, m, events, set, secrets } = await setup({ refresh: (rt, options) => direct.refresh(rt, options) });
    const before = refreshGrants();
    await rename(dir, `${dir}.away`);
    await writeFile(dir, 'not a directory');
    const restore = async (): Promise<void> => {
      await rm(dir, { force: true });
      await rename(`${dir}.away`, dir);
    };
    cleanups.push(() => restore().catch(() => undefined));

    // The manager cannot take its lock (ENOTDIR), so it sends nothing: no refresh token can be lost.
    const error = await m.refresh('k').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toMatchObject({ code: 'storage_failed', retryable: true });
    expect(refreshGrants()).toBe(before);
    expect(m.status('k')).toMatchObject({ state: 'degraded', detail: 'retrying', lastError: { code: 'storage_failed' } });
    expect((await m.getToken('k')).accessToken).toBe(set.accessToken);

    const recovered = nextEvent(m, 'refreshed', { key: 'k' });
    await restore();
    await recovered;
    await waitUntil(() => m.status('k').state === 'valid', 'valid again');
    expect(refreshGrants()).toBe(before + 1);
    const after = await m.refresh('k');
    expect(refreshGrants()).toBe(before + 2);
    for (const secret of [...secrets, after.refreshToken as string]) expect(JSON.stringify(events)).not.toContain(secret);
  });
});
