/**
 * Bad configuration is refused with the right typed error (issue 8), at the entry points users call:
 * createTokenManager, oauth2Endpoint, fileStorage, and discovery through a manager (a tiny loopback
 * server serving broken metadata). Complements lifecycle/duration.test.ts, lifecycle/backoff.test.ts and
 * oauth2/options.test.ts, which check the parsers and the endpoint options one by one.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileStorage, type FileStorageOptions } from '../../../adapters/storage/file/index.js';
import { oauth2Endpoint, type OAuth2EndpointOptions } from '../../../adapters/oauth2/index.js';
import { TokenLifecycleError } from '../../../machines/lifecycle/errors.js';
import { createTokenManager } from '../../../machines/manager/manager.js';
import type { TokenManagerOptions } from '../../../machines/manager/api-types.js';
import { scriptedEndpoint } from '../../support/fake-endpoint.js';

function thrownBy(make: () => unknown): unknown {
  try {
    make();
  } catch (error) {
    return error;
  }
  return undefined;
}

function expectCode(error: unknown, code: string): void {
  expect(error).toBeInstanceOf(TokenLifecycleError);
  expect((error as TokenLifecycleError).code).toBe(code);
}

describe('createTokenManager refuses bad options with invalid_config', () => {
  const endpoint = scriptedEndpoint();
  const bad = (options: Partial<TokenManagerOptions>): TokenManagerOptions => ({ endpoint, ...options }) as TokenManagerOptions;

  // Every duration option goes through the same rules (R1): ≥ 0, finite, `<number><unit>`.
  const badDurations: Array<[string, unknown]> = [
    ['negative', -1],
    ['negative string', '-5m'],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['unparsable', 'soon'],
    ['empty', ''],
    ['a unit it does not know', '5w'],
    ['words', '5 minutes'],
    ['not a number or string', { ms: 5 }],
  ];
  const durationOptions = ['refreshThreshold', 'minRefreshInterval', 'lockTtl', 'stopTimeout'] as const;
  it.each(durationOptions.flatMap((option) => badDurations.map(([what, value]) => [option, what, value] as const)))(
    '%s: %s',
    (option, _, value) => {
      const error = thrownBy(() => createTokenManager(bad({ [option]: value })));
      expectCode(error, 'invalid_config');
      expect((error as Error).message).toContain(option);
    },
  );

  it.each<[string, Partial<TokenManagerOptions>]>([
    ['retry.minDelay negative', { retry: { minDelay: -1 } }],
    ['retry.maxDelay unparsable', { retry: { maxDelay: 'later' } }],
    ['retry.maxDelay below minDelay', { retry: { minDelay: '1m', maxDelay: '1s' } }],
    ['retry.factor below 1 (a shrinking backoff)', { retry: { factor: 0.5 } }],
    ['retry.factor NaN', { retry: { factor: Number.NaN } }],
    ['retry.jitter above 1', { retry: { jitter: 2 } }],
    ['retry.jitter negative', { retry: { jitter: -0.5 } }],
    ['refreshJitter NaN', { refreshJitter: Number.NaN }],
    ['refreshJitter negative', { refreshJitter: -0.1 }],
    ['refreshJitter above 1', { refreshJitter: 1.5 }],
    ['maxConcurrentRefreshes 0', { maxConcurrentRefreshes: 0 }],
    ['maxConcurrentRefreshes NaN', { maxConcurrentRefreshes: Number.NaN }],
    ['a clock without timers', { clock: { now: () => 0 } as never }],
    ['an endpoint without refresh()', { endpoint: { revoke: async () => undefined } as never }],
    ['no endpoint', { endpoint: undefined as never }],
  ])('%s', (_, options) => {
    expectCode(thrownBy(() => createTokenManager(bad(options))), 'invalid_config');
  });

  it('no options at all', () => {
    expectCode(thrownBy(() => createTokenManager(undefined as never)), 'invalid_config');
    expectCode(thrownBy(() => createTokenManager(null as never)), 'invalid_config');
  });

  // A zero lockTtl would make every refresh over fileStorage/redisStorage fail at storage.lock().
  it('lockTtl 0 (a lock that expires as it is taken)', () => {
    expectCode(thrownBy(() => createTokenManager(bad({ lockTtl: 0 }))), 'invalid_config');
  });

  it.each<[string, Partial<TokenManagerOptions>]>([
    ['a zero threshold', { refreshThreshold: 0 }],
    ['no upper cap on the threshold (R1)', { refreshThreshold: '400d' }],
    ['a bare numeric string is milliseconds', { refreshThreshold: '1500' }],
    ['fractions and upper-case units', { refreshThreshold: '1.5M', minRefreshInterval: '.5s' }],
    ['a zero minimum interval and stop timeout', { minRefreshInterval: 0, stopTimeout: '0ms' }],
    ['a constant backoff', { retry: { factor: 1, jitter: 0, minDelay: '1s', maxDelay: '1s' } }],
  ])('accepts the edge: %s', (_, options) => {
    expect(thrownBy(() => createTokenManager(bad(options)))).toBeUndefined();
  });
});

describe('oauth2Endpoint: plain http only to loopback (R13), insecure_endpoint at construction', () => {
  it.each([
    ['upper-case scheme', 'HTTP://auth.example.com/token'],
    ['a loopback-looking name', 'http://127.0.0.1.example.com/token'],
    ['localhost with a trailing dot (another name)', 'http://localhost./token'],
    ['the unspecified address', 'http://0.0.0.0/token'],
    ['an IPv4-mapped IPv6 address (not accepted: keep the list small)', 'http://[::ffff:7f00:1]/token'],
    ['a private network address', 'http://192.168.1.10/token'],
  ])('%s: %s', (_, tokenUrl) => {
    expectCode(thrownBy(() => oauth2Endpoint({ tokenUrl, clientId: 'c' })), 'insecure_endpoint');
  });

  it('a loopback address as user info is refused as credentials in the URL (invalid_config), never sent', () => {
    expectCode(thrownBy(() => oauth2Endpoint({ tokenUrl: 'http://127.0.0.1@auth.example.com/token', clientId: 'c' })), 'invalid_config');
  });

  it.each<[string, OAuth2EndpointOptions]>([
    ['issuer', { issuer: 'http://auth.example.com', clientId: 'c' }],
    ['revocationUrl', { tokenUrl: 'https://auth.example.com/token', revocationUrl: 'http://auth.example.com/revoke', clientId: 'c' }],
  ])('also for the %s', (_, options) => {
    expectCode(thrownBy(() => oauth2Endpoint(options)), 'insecure_endpoint');
  });

  it.each([
    ['a scheme that is not http(s)', 'file:///etc/passwd'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['a relative URL', 'token'],
  ])('%s is invalid_config', (_, tokenUrl) => {
    expectCode(thrownBy(() => oauth2Endpoint({ tokenUrl, clientId: 'c' })), 'invalid_config');
  });
});

/** A loopback server serving `documents` by path (404 elsewhere), and counting requests. */
async function metadataServer(documents: (origin: string) => Record<string, unknown | string>) {
  const hits: string[] = [];
  let origin = '';
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.push(path);
    const body = documents(origin)[path];
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    const json = typeof body !== 'string';
    res.writeHead(200, { 'content-type': json ? 'application/json' : 'text/html' }).end(json ? JSON.stringify(body) : body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('discovery through a manager: broken metadata is refused with its code, no token request', () => {
  const RFC8414 = '/.well-known/oauth-authorization-server';
  const OIDC = '/.well-known/openid-configuration';
  const servers: Array<{ close(): Promise<void> }> = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it.each<[string, string, (origin: string) => Record<string, unknown>]>([
    ['no token_endpoint', 'discovery_failed', (origin) => ({ [RFC8414]: { issuer: origin } })],
    ['an empty token_endpoint', 'discovery_failed', (origin) => ({ [RFC8414]: { issuer: origin, token_endpoint: '' } })],
    ['an issuer mismatch (RFC 8414 §3.3)', 'discovery_failed', (origin) => ({ [RFC8414]: { issuer: `${origin}/other`, token_endpoint: `${origin}/token` } })],
    ['an issuer mismatch at the OpenID location', 'discovery_failed', (origin) => ({ [OIDC]: { issuer: 'https://evil.example', token_endpoint: `${origin}/token` } })],
    ['HTML at both locations', 'discovery_failed', () => ({ [RFC8414]: '<html>login</html>', [OIDC]: '<html>login</html>' })],
    ['a JSON array', 'discovery_failed', () => ({ [RFC8414]: [1, 2] })],
    ['an http:// token endpoint on another host', 'insecure_endpoint', (origin) => ({ [RFC8414]: { issuer: origin, token_endpoint: 'http://auth.example.com/token' } })],
  ])('%s → %s', async (_, code, documents) => {
    const meta = await metadataServer(documents);
    servers.push(meta);
    const manager = createTokenManager({ endpoint: oauth2Endpoint({ issuer: meta.origin, clientId: 'c' }), retry: { minDelay: '1h', maxDelay: '1h' } });
    try {
      const set = await manager.setToken('k', { access_token: 'AT-bad-config', token_type: 'Bearer', expires_in: 3600, refresh_token: 'RT-bad-config' });
      const error = await manager.refresh('k').then(
        () => undefined,
        (e: unknown) => e,
      );
      expectCode(error, code);
      expect((error as Error).message).not.toMatch(/RT-bad-config|AT-bad-config/);
      expect(meta.hits.filter((path) => path.startsWith('/token'))).toEqual([]);
      // A configuration problem is not a transient outage: nothing is retried; the valid token is still served.
      expect(manager.status('k')).toMatchObject({ state: 'degraded', detail: 'rejected', reason: code, lastError: { code, retryable: false } });
      expect((await manager.getToken('k')).accessToken).toBe(set.accessToken);
    } finally {
      await manager.stop();
    }
  });
});

describe('fileStorage: bad paths and options', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'tl-bad-config-'));
    await writeFile(join(work, 'a-file'), 'x');
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it.each<[string, () => FileStorageOptions]>([
    ['a non-string path', () => ({ path: 42 as unknown as string })],
    ['an empty path', () => ({ path: '' })],
    ['an unparsable pollInterval', () => ({ path: join(work, 't.json'), pollInterval: 'often' })],
    ['a zero pollInterval', () => ({ path: join(work, 't.json'), pollInterval: 0 })],
    ['a negative storeLockTimeout', () => ({ path: join(work, 't.json'), storeLockTimeout: -1 })],
    ['an unparsable storeLockStale', () => ({ path: join(work, 't.json'), storeLockStale: 'stale' })],
  ])('%s is invalid_config at construction', (_, options) => {
    expectCode(thrownBy(() => fileStorage(options())), 'invalid_config');
  });

  it.each<[string, () => string]>([
    ['a directory', () => work],
    ['a path under a regular file', () => join(work, 'a-file', 'tokens.json')],
  ])('%s as the store: reads and writes fail with storage_failed, nothing is created', async (_, path) => {
    const storage = fileStorage({ path: path(), watch: false });
    const record = { accessToken: 'AT-x', tokenType: 'Bearer', obtainedAt: 0, version: 1 };
    await expect(storage.get('k')).rejects.toMatchObject({ code: 'storage_failed' });
    await expect(storage.set('k', record)).rejects.toMatchObject({ code: 'storage_failed' });
  });
});
