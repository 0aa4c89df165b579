/**
 * 100,000 credentials held (issue 17), each library in its own child process with `--expose-gc`:
 * heap per credential after GC and load time, against a `Map` of the same strings (key → record of
 * the same token strings) filled in the same process. Every string (keys, tokens) is allocated
 * before the first heap reading, so none is counted on either side.
 * - token-lifecycle: the records in memory storage (its records' home, not counted, as the peers'
 *   record array is not), then `createTokenManager({ storage }).start()`, timers armed;
 * - @badgateway/oauth2-client: one shared `OAuth2Client`, one `OAuth2Fetch` per credential reading
 *   its stored token (`getStoredToken`), as an app holding many users does;
 * - google-auth-library: one `OAuth2Client` per credential with `setCredentials()`.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { OAuth2Client as BadgatewayClient, OAuth2Fetch } from '@badgateway/oauth2-client';
import { OAuth2Client as GoogleClient } from 'google-auth-library';
import { createTokenManager } from '../../machines/manager/manager.js';
import { memoryStorage } from '../../machines/manager/memory-storage.js';
import type { TokenRecord } from '../../machines/lifecycle/types.js';
import { figure, type Figure } from './figure.js';
import { consume, gc, stopwatch, timeUnit } from './measure.js';
import { opaqueToken, unusedEndpoint } from './tokens.js';

const COUNT = 100_000;
const LIBRARIES = ['token-lifecycle', 'google-auth-library', '@badgateway/oauth2-client'] as const;
type Library = (typeof LIBRARIES)[number];

interface MemoryResult {
  readonly library: Library;
  readonly count: number;
  readonly bytesPerCredential: number;
  readonly loadMs: number;
  readonly mapBytesPerCredential: number;
  readonly mapLoadMs: number;
}

function heapUsed(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

interface Source {
  readonly keys: string[];
  readonly records: TokenRecord[];
}

function source(count: number): Source {
  const now = Date.now();
  const keys = Array.from({ length: count }, (_, i) => `user:${String(i).padStart(6, '0')}`);
  const records = keys.map((_, i): TokenRecord => {
    const obtainedAt = now - (i % 1800) * 1000; // obtained up to 30 min ago: all far from refresh
    return { accessToken: opaqueToken(), tokenType: 'Bearer', expiresAt: obtainedAt + 3_600_000, obtainedAt, refreshToken: opaqueToken(), scope: 'openid api', version: 1 };
  });
  return { keys, records };
}

async function measure(library: Library, count: number): Promise<MemoryResult> {
  const src = source(count);
  const { keys, records } = src;

  // Our records' home is the storage (the peers' is the array above): filled before the readings.
  const storage = library === 'token-lifecycle' ? memoryStorage() : undefined;
  if (storage) for (let i = 0; i < count; i++) await storage.set(keys[i] as string, records[i] as TokenRecord);

  // Baseline: a Map of the same strings.
  let map: Map<string, { accessToken: string; refreshToken: string | undefined; expiresAt: number | undefined }> | undefined = new Map();
  let before = heapUsed();
  let elapsed = stopwatch();
  for (let i = 0; i < count; i++) {
    const r = records[i] as TokenRecord;
    map.set(keys[i] as string, { accessToken: r.accessToken, refreshToken: r.refreshToken, expiresAt: r.expiresAt });
  }
  const mapLoadMs = elapsed();
  const mapBytes = heapUsed() - before;
  // Read after the reading: otherwise the optimiser may treat the map as dead before it.
  if (map.size !== count) throw new Error('peers memory: the baseline map is incomplete');
  map = undefined;

  before = heapUsed();
  elapsed = stopwatch();
  let held: unknown;
  let served: () => Promise<number>;
  if (library === 'token-lifecycle') {
    const manager = createTokenManager({ endpoint: unusedEndpoint, storage: storage as NonNullable<typeof storage> });
    await manager.start();
    held = manager;
    served = async () => keys.filter((key) => manager.peekToken(key) !== undefined).length;
  } else if (library === '@badgateway/oauth2-client') {
    const client = new BadgatewayClient({ server: 'http://127.0.0.1:9', tokenEndpoint: '/token', clientId: 'bench-client', clientSecret: 'bench-secret' });
    const wrappers = new Map<string, OAuth2Fetch>();
    const loads: Array<Promise<string>> = [];
    for (let i = 0; i < count; i++) {
      const r = records[i] as TokenRecord;
      const wrapper = new OAuth2Fetch({
        client,
        getNewToken: () => null,
        getStoredToken: () => ({ accessToken: r.accessToken, refreshToken: r.refreshToken ?? null, expiresAt: r.expiresAt ?? null }),
      });
      wrappers.set(keys[i] as string, wrapper);
      loads.push(wrapper.getAccessToken());
    }
    await Promise.all(loads);
    held = wrappers;
    served = async () => (await Promise.all([...wrappers.values()].map((w) => w.getAccessToken()))).filter(Boolean).length;
  } else {
    const clients = new Map<string, GoogleClient>();
    for (let i = 0; i < count; i++) {
      const r = records[i] as TokenRecord;
      const client = new GoogleClient({ clientId: 'bench-client', clientSecret: 'bench-secret' });
      client.setCredentials({ access_token: r.accessToken, refresh_token: r.refreshToken ?? null, expiry_date: r.expiresAt ?? null, token_type: r.tokenType });
      clients.set(keys[i] as string, client);
    }
    held = clients;
    served = async () => [...clients.values()].filter((c) => c.credentials.access_token).length;
  }
  const loadMs = elapsed();
  const bytes = heapUsed() - before;
  if ((await served()) !== count) throw new Error(`peers memory (${library}): not every credential is held`);
  consume(held);
  return { library, count, bytesPerCredential: bytes / count, loadMs, mapBytesPerCredential: mapBytes / count, mapLoadMs };
}

function inChild(library: Library, count: number): Promise<MemoryResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', fileURLToPath(import.meta.url), '--library', library, '--count', String(count)],
      { maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`peers memory (${library}) failed: ${stderr || error.message}`));
        else resolve(JSON.parse(stdout.trim().split('\n').pop() as string) as MemoryResult);
      },
    );
  });
}

export async function memoryFigures(quick: boolean): Promise<Figure[]> {
  const count = quick ? 20_000 : COUNT;
  const results = new Map<Library, MemoryResult>();
  for (const library of LIBRARIES) results.set(library, await inChild(library, count));
  const ours = results.get('token-lifecycle') as MemoryResult;
  const peers = LIBRARIES.filter((l) => l !== 'token-lifecycle').map((l) => results.get(l) as MemoryResult);
  const label = `${count.toLocaleString('en-US')} credentials, 43-char tokens`;
  const figures: Figure[] = [
    figure(
      `memory (side by side): token-lifecycle heap per credential after GC (${label}) vs a Map of the same strings`,
      ours.bytesPerCredential,
      'B',
      ours.mapBytesPerCredential,
      `value <= ${Math.min(...peers.map((p) => p.bytesPerCredential)).toFixed(0)}`,
    ),
    figure(
      `memory (side by side): token-lifecycle load time (${label}) vs Map fill`,
      ours.loadMs,
      timeUnit('ms'),
      ours.mapLoadMs,
      `value <= ${Math.min(...peers.map((p) => p.loadMs)).toFixed(1)}`,
    ),
  ];
  for (const p of peers) {
    figures.push(
      figure(`peer ${p.library}: heap per credential after GC (${label}) vs a Map of the same strings`, p.bytesPerCredential, 'B', p.mapBytesPerCredential, 'info'),
      figure(`peer ${p.library}: load time (${label}) vs Map fill`, p.loadMs, timeUnit('ms'), p.mapLoadMs, 'info'),
    );
  }
  return figures;
}

// As a child: one library, the result as the last line of stdout.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name: string): string | undefined => {
    const at = process.argv.indexOf(name);
    return at < 0 ? undefined : process.argv[at + 1];
  };
  measure((arg('--library') ?? 'token-lifecycle') as Library, Number(arg('--count') ?? COUNT)).then(
    (result) => {
      console.log(JSON.stringify(result));
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      process.exit(1);
    },
  );
}
