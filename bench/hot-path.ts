/**
 * Hot path (issue 7): a valid token read, against a `Map` lookup plus an expiry comparison with
 * `Date.now()`, the same loop shape on both sides. `getToken()` is awaited (the API is async); the
 * issue's baseline is the synchronous lookup, and an awaited copy of it is reported for context (an
 * awaited call costs a promise and a microtask turn whatever it does).
 */
import { createTokenManager } from '../machines/manager/manager.js';
import { memoryStorage } from '../machines/manager/memory-storage.js';
import type { TokenSet } from '../machines/lifecycle/types.js';
import { figure, type BenchOptions, type Figure } from './support/figure.js';
import { compareOps, consume, timeUnit, type Contender } from './support/measure.js';
import { opaqueToken, unusedEndpoint } from './support/tokens.js';

type HeaderBuilder = (token: Pick<TokenSet, 'accessToken' | 'tokenType'>) => string;

/** The HTTP adapter's own helper when it is there (another engineer's module), else undefined. */
async function adapterHeaderBuilder(): Promise<HeaderBuilder | undefined> {
  const spec = '../adapters/http/authorization.js';
  try {
    const mod = (await import(spec)) as { authorizationHeader?: HeaderBuilder };
    return typeof mod.authorizationHeader === 'function' ? mod.authorizationHeader : undefined;
  } catch {
    return undefined;
  }
}

export default async function run({ quick }: BenchOptions): Promise<Figure[]> {
  const key = 'bench';
  const manager = createTokenManager({ endpoint: unusedEndpoint, storage: memoryStorage() });
  await manager.setToken(key, { access_token: opaqueToken(), token_type: 'Bearer', expires_in: 3600, refresh_token: opaqueToken() });
  const token = manager.peekToken(key);
  if (!token) throw new Error('hot-path: the token set is not served from memory');
  if ((await manager.getToken(key)) !== token) throw new Error('hot-path: getToken did not take the hot path');

  // The baseline: what any cache has to do at least.
  const entry = { token, freshUntil: Date.now() + 3_000_000 };
  const map = new Map([[key, entry]]);
  const lookup = (k: string): TokenSet | undefined => {
    const e = map.get(k);
    return e !== undefined && Date.now() < e.freshUntil ? e.token : undefined;
  };
  const lookupAsync = async (k: string): Promise<TokenSet | undefined> => {
    const e = map.get(k);
    return e !== undefined && Date.now() < e.freshUntil ? e.token : undefined;
  };

  const contenders: Contender[] = [
    {
      name: 'baseline',
      loop: (n) => {
        let t: TokenSet | undefined;
        for (let i = 0; i < n; i++) t = lookup(key);
        consume(t);
      },
    },
    {
      name: 'baselineAwaited',
      loop: async (n) => {
        let t: TokenSet | undefined;
        for (let i = 0; i < n; i++) t = await lookupAsync(key);
        consume(t);
      },
    },
    {
      name: 'getToken',
      loop: async (n) => {
        let t: TokenSet | undefined;
        for (let i = 0; i < n; i++) t = await manager.getToken(key);
        consume(t);
      },
    },
    {
      name: 'peekToken',
      loop: (n) => {
        let t: TokenSet | undefined;
        for (let i = 0; i < n; i++) t = manager.peekToken(key);
        consume(t);
      },
    },
  ];
  const sampling = quick ? { sampleMs: 20, rounds: 15, warmupMs: 200 } : { sampleMs: 50, rounds: 60, warmupMs: 500 };
  const ops = await compareOps(contenders, sampling);
  const at = (name: string): number => ops.get(name) as number;

  // The Authorization header value, as the HTTP adapter builds it, against the bare template. Eight
  // token sets in turn and one character of each header read (as sending it would), so the optimiser
  // can neither hoist the string out of the loop nor drop it.
  const adapterBuilder = await adapterHeaderBuilder();
  const build: HeaderBuilder = adapterBuilder ?? ((t) => `${t.tokenType} ${t.accessToken}`);
  const sets: TokenSet[] = Array.from({ length: 8 }, () =>
    Object.freeze({ accessToken: opaqueToken(), tokenType: 'Bearer', expiresAt: Date.now() + 3_600_000, refreshToken: opaqueToken() }),
  );
  const headerOps = await compareOps(
    [
      {
        name: 'template',
        loop: (n) => {
          let acc = 0;
          for (let i = 0; i < n; i++) {
            const t = sets[i & 7] as TokenSet;
            const h = `${t.tokenType} ${t.accessToken}`;
            acc += h.charCodeAt(i & 31);
          }
          consume(acc);
        },
      },
      {
        name: 'adapter',
        loop: (n) => {
          let acc = 0;
          for (let i = 0; i < n; i++) acc += build(sets[i & 7] as TokenSet).charCodeAt(i & 31);
          consume(acc);
        },
      },
    ],
    sampling,
  );
  await manager.stop();

  return [
    figure('hot path: await getToken() vs sync Map+Date.now', at('getToken'), timeUnit('ops/s'), at('baseline'), 'ratio >= 0.47'),
    figure('hot path: peekToken() vs sync Map+Date.now', at('peekToken'), timeUnit('ops/s'), at('baseline'), 'ratio >= 0.9'),
    figure('hot path: awaited Map+Date.now vs sync (the async cap)', at('baselineAwaited'), timeUnit('ops/s'), at('baseline'), 'info'),
    figure('hot path: await getToken() vs awaited Map+Date.now', at('getToken'), timeUnit('ops/s'), at('baselineAwaited'), 'info'),
    figure(
      adapterBuilder ? 'Authorization header: authorizationHeader() vs template' : 'Authorization header: template (adapter helper absent)',
      headerOps.get('adapter') as number,
      timeUnit('ops/s'),
      headerOps.get('template') as number,
      'info',
    ),
  ];
}
