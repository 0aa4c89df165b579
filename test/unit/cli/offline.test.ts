/**
 * The CLI's offline `token get` (adapters/cli/offline.ts) must decide exactly as the manager would in
 * a fresh process with `backgroundRefresh: false`: serve without a request, fail without a request
 * (same code and reason), or refresh. Checked over a grid of stored records against the real manager
 * (memory storage, a frozen clock, an endpoint that records whether it was called), so a change of
 * either side that breaks the equivalence fails here.
 */
import { describe, expect, it } from 'vitest';
import { servedWarning } from '../../../adapters/cli/commands/get-online.js';
import { formatToken } from '../../../adapters/cli/format.js';
import { decideOffline } from '../../../adapters/cli/offline.js';
import { TokenLifecycleError } from '../../../machines/lifecycle/errors.js';
import { createTokenManager } from '../../../machines/manager/manager.js';
import { memoryStorage } from '../../../machines/manager/memory-storage.js';
import type { Clock, TokenEndpoint, TokenRecord } from '../../../machines/lifecycle/types.js';

const T = Date.UTC(2030, 0, 1);
const MIN = 60_000;
const HOUR = 60 * MIN;

type Outcome =
  | { kind: 'serve'; accessToken: string; warning: string | undefined }
  | { kind: 'fail'; code: string; reason: string | undefined }
  | { kind: 'online' };

const frozenClock: Clock = {
  now: () => T,
  setTimeout: (fn, ms) => setTimeout(fn, Math.min(ms, 2 ** 31 - 1)).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

async function managerOutcome(record: TokenRecord, thresholdMs: number): Promise<Outcome> {
  let called = false;
  const endpoint: TokenEndpoint = {
    refresh: async () => {
      called = true;
      return { access_token: 'fresh', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-next' };
    },
  };
  const storage = memoryStorage({ now: () => T });
  await storage.set('k', record);
  const tokens = createTokenManager({ endpoint, storage, refreshThreshold: thresholdMs, backgroundRefresh: false, clock: frozenClock });
  try {
    const set = await tokens.getToken('k');
    if (called) return { kind: 'online' };
    return { kind: 'serve', accessToken: set.accessToken, warning: servedWarning(tokens.status('k'))?.code };
  } catch (error) {
    if (called) return { kind: 'online' };
    if (!(error instanceof TokenLifecycleError)) throw error;
    return { kind: 'fail', code: error.code, reason: error.reason };
  } finally {
    await tokens.stop();
  }
}

function offlineOutcome(record: TokenRecord, thresholdMs: number): Outcome {
  const verdict = decideOffline(record, 'k', T, thresholdMs);
  if (verdict.kind === 'online') return verdict;
  if (verdict.kind === 'serve') return { kind: 'serve', accessToken: verdict.record.accessToken, warning: verdict.warning?.code };
  return { kind: 'fail', code: verdict.error.code, reason: verdict.error.reason };
}

/** Lifetimes and positions relative to T: [obtainedAt, expiresAt]. */
const TIMES: Record<string, { obtainedAt: number; expiresAt?: number }> = {
  unknownExpiry: { obtainedAt: T - 10 * HOUR },
  far: { obtainedAt: T, expiresAt: T + HOUR },
  justBeforeWindow: { obtainedAt: T - 55 * MIN + 1, expiresAt: T + 5 * MIN + 1 },
  windowOpensNow: { obtainedAt: T - 55 * MIN, expiresAt: T + 5 * MIN },
  inWindow: { obtainedAt: T - 58 * MIN, expiresAt: T + 2 * MIN },
  oneHourWindow: { obtainedAt: T - 61 * MIN, expiresAt: T + 59 * MIN },
  halfLifeCap: { obtainedAt: T - 16 * MIN, expiresAt: T + 14 * MIN },
  expiresNow: { obtainedAt: T - HOUR, expiresAt: T },
  expired: { obtainedAt: T - 2 * HOUR, expiresAt: T - MIN },
  bornExpired: { obtainedAt: T, expiresAt: T },
};

function* records(): Generator<[string, TokenRecord]> {
  for (const [timeName, times] of Object.entries(TIMES)) {
    for (const accessToken of ['at', '']) {
      for (const refreshToken of ['rt', undefined]) {
        for (const rejection of [undefined, 'invalid_grant']) {
          for (const retryAt of [undefined, T + 30_000, T - 30_000, T]) {
            const record: TokenRecord = {
              accessToken,
              tokenType: 'Bearer',
              ...times,
              ...(refreshToken ? { refreshToken } : {}),
              ...(rejection ? { rejection } : {}),
              ...(retryAt === undefined ? {} : { retryAt }),
              version: 3,
            };
            const name = `${timeName} access=${accessToken ? 'yes' : 'empty'} refresh=${refreshToken ? 'yes' : 'no'} rejection=${rejection ?? '-'} retryAt=${retryAt === undefined ? '-' : retryAt - T}`;
            yield [name, record];
          }
        }
      }
    }
  }
}

describe('offline token get decides as the manager would (R1, R2, R5, R6, R8, R14)', () => {
  for (const thresholdMs of [5 * MIN, HOUR]) {
    it(`agrees on every stored record, threshold ${thresholdMs / MIN} min`, async () => {
      const mismatches: string[] = [];
      const seen = new Set<string>();
      for (const [name, record] of records()) {
        const [expected, actual] = [await managerOutcome(record, thresholdMs), offlineOutcome(record, thresholdMs)];
        seen.add(actual.kind);
        if (JSON.stringify(expected) !== JSON.stringify(actual)) {
          mismatches.push(`${name}: manager ${JSON.stringify(expected)}, offline ${JSON.stringify(actual)}`);
        }
      }
      expect(mismatches).toEqual([]);
      expect([...seen].sort()).toEqual(['fail', 'online', 'serve']);
    });
  }

  it('only "online" may lead to a request: a far token under the default threshold is served', () => {
    expect(decideOffline({ accessToken: 'a', tokenType: 'Bearer', obtainedAt: T, expiresAt: T + HOUR, refreshToken: 'r', version: 1 }, 'k', T, 5 * MIN)).toMatchObject({ kind: 'serve' });
  });
});

describe('token get --json', () => {
  it('expired is inclusive at the expiry instant (R1)', () => {
    const token = { accessToken: 'a', tokenType: 'Bearer', expiresAt: T };
    expect(JSON.parse(formatToken(token, true, T - 1)).expired).toBe(false);
    expect(JSON.parse(formatToken(token, true, T)).expired).toBe(true);
  });

  it('has exactly five fields and never a refresh or ID token', () => {
    const json = JSON.parse(formatToken({ accessToken: 'a', tokenType: 'Bearer', refreshToken: 'r', idToken: 'i' } as never, true, T));
    expect(json).toEqual({ access_token: 'a', token_type: 'Bearer', expires_at: null, expired: false, scope: null });
  });
});
