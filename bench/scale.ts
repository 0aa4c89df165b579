/**
 * Scale (issue 7): 100,000 credentials in one manager over memory storage, loaded by `start()`
 * with their timers armed (far-from-expiry credentials stay dormant: no live actor, one wake wheel).
 * Figures: heap bytes per credential beyond the token strings themselves (every string is allocated
 * before the first heap reading, so none is counted), and the load time; with opaque 43-character
 * tokens as oidc-provider issues them, and with ~1 KB JWT-like access tokens. Baselines, measured in
 * the same process: a plain `Map` of the records read through the same storage (the least any
 * in-memory cache holds and does). Each variant runs in its own child process with `--expose-gc`.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTokenManager } from '../machines/manager/manager.js';
import { memoryStorage } from '../machines/manager/memory-storage.js';
import type { TokenRecord } from '../machines/lifecycle/types.js';
import { figure, type BenchOptions, type Figure } from './support/figure.js';
import { gc, stopwatch, timeUnit } from './support/measure.js';
import { jwtLikeToken, opaqueToken, unusedEndpoint } from './support/tokens.js';

const COUNT = 100_000;
type Variant = 'opaque' | 'jwt';

interface VariantResult {
  readonly variant: Variant;
  readonly count: number;
  readonly accessTokenChars: number;
  readonly managerBytesPerCredential: number;
  readonly mapBytesPerCredential: number;
  readonly storageBytesPerCredential: number;
  readonly managerLoadMs: number;
  readonly mapLoadMs: number;
  readonly served: number;
}

function heapUsed(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

async function measureVariant(variant: Variant, count: number): Promise<VariantResult> {
  const now = Date.now();
  // Every string first: keys and token values are not part of the per-credential overhead.
  const keys = Array.from({ length: count }, (_, i) => `user:${String(i).padStart(6, '0')}`);
  const records: TokenRecord[] = keys.map((_, i) => {
    const obtainedAt = now - (i % 1800) * 1000; // obtained up to 30 min ago: all far from refresh
    return {
      accessToken: variant === 'jwt' ? jwtLikeToken(1024) : opaqueToken(),
      tokenType: 'Bearer',
      expiresAt: obtainedAt + 3_600_000,
      obtainedAt,
      refreshToken: opaqueToken(),
      scope: 'openid api',
      version: 1,
    };
  });

  const storage = memoryStorage();
  const beforeStorage = heapUsed();
  for (let i = 0; i < count; i++) await storage.set(keys[i] as string, records[i] as TokenRecord);
  const storageBytes = heapUsed() - beforeStorage;

  // Baseline: the same records read through the same storage into a plain Map.
  let map: Map<string, TokenRecord> | undefined = new Map();
  const beforeMap = heapUsed();
  let elapsed = stopwatch();
  await Promise.all(
    (await storage.keys()).map(async (key) => {
      const record = await storage.get(key);
      if (record) map?.set(key, record);
    }),
  );
  const mapLoadMs = elapsed();
  const mapBytes = heapUsed() - beforeMap;
  if (map.size !== count) throw new Error('scale: the baseline map is incomplete');
  map = undefined;

  const beforeManager = heapUsed();
  elapsed = stopwatch();
  const manager = createTokenManager({ endpoint: unusedEndpoint, storage });
  await manager.start();
  const managerLoadMs = elapsed();
  const managerBytes = heapUsed() - beforeManager;

  let served = 0;
  for (const key of keys) if (manager.peekToken(key) !== undefined) served++;
  const sample = manager.status(keys[count >> 1]);
  if (sample.state !== 'valid' || sample.refreshAt === undefined) throw new Error('scale: a loaded credential is not valid with a refresh moment');
  await manager.stop();
  return {
    variant,
    count,
    accessTokenChars: records[0]?.accessToken.length ?? 0,
    managerBytesPerCredential: managerBytes / count,
    mapBytesPerCredential: mapBytes / count,
    storageBytesPerCredential: storageBytes / count,
    managerLoadMs,
    mapLoadMs,
    served,
  };
}

function inChild(variant: Variant, count: number): Promise<VariantResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', fileURLToPath(import.meta.url), '--variant', variant, '--count', String(count)],
      { maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`scale (${variant}) failed: ${stderr || error.message}`));
        else resolve(JSON.parse(stdout.trim().split('\n').pop() as string) as VariantResult);
      },
    );
  });
}

export default async function run({ quick }: BenchOptions): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const variant of ['opaque', 'jwt'] as const) {
    const r = await inChild(variant, COUNT);
    if (r.served !== r.count) throw new Error(`scale (${variant}): ${r.count - r.served} credential(s) not served from memory`);
    const label = `${r.count.toLocaleString('en-US')} credentials, ${r.accessTokenChars}-char access tokens`;
    figures.push(
      figure(`scale: heap per credential beyond token strings (${label}) vs plain Map`, r.managerBytesPerCredential, 'B', r.mapBytesPerCredential, 'value <= 1536'),
      figure(`scale: start() load with timers armed (${label}) vs Map fill`, r.managerLoadMs, timeUnit('ms'), r.mapLoadMs, 'value <= 1000'),
    );
    if (variant === 'opaque') {
      figures.push(figure(`scale: memory storage itself per credential (${label}) vs plain Map`, r.storageBytesPerCredential, 'B', r.mapBytesPerCredential, 'info'));
    }
    if (quick) break; // the JWT variant's figure per credential is the same; the quick run skips it
  }
  return figures;
}

// As a child: one variant, the result as the last line of stdout.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name: string): string | undefined => {
    const at = process.argv.indexOf(name);
    return at < 0 ? undefined : process.argv[at + 1];
  };
  const variant = (arg('--variant') ?? 'opaque') as Variant;
  measureVariant(variant, Number(arg('--count') ?? COUNT)).then(
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
