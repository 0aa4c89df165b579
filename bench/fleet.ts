/**
 * Fleet stampede (issue 6, DESIGN §6): 10,000 credentials whose tokens expire at the same instant.
 * How hard does one manager hit the authorization server when they all come due, with and without
 * `refreshJitter`, and with `maxConcurrentRefreshes`?
 *
 * Set-up: one manager, `memoryStorage()` (locks and versioned writes as with a shared store), an
 * in-process fake token endpoint that answers after 100 ms of *simulated* time, and a simulated
 * clock stepped in 100 ms increments (a min-heap of timers: XState's `SimulatedClock` re-sorts all
 * pending timers whenever one is set during a flush, which does not scale to 10,000 actors). Rates are per simulated second: the peak is the
 * largest number of token requests started within one simulated second. Every token lives 1 h, the
 * threshold is 5 min, so without jitter all 10,000 are due at expiry − 5 min.
 *
 * Run: `npm run bench` (the runner imports this module), or on its own: `node dist/bench/fleet.js`.
 */
import { pathToFileURL } from 'node:url';
import { createTokenManager } from '../machines/manager/manager.js';
import { memoryStorage } from '../machines/manager/memory-storage.js';
import type { Clock, TokenEndpoint } from '../machines/lifecycle/types.js';
import type { BenchOptions, Figure } from './support/figure.js';

const CREDENTIALS = 10_000;
const T0 = Date.UTC(2030, 0, 1);
const LIFETIME_S = 3600;
const THRESHOLD = '5m';
const LATENCY_MS = 100;

interface Scenario {
  readonly refreshJitter: number;
  readonly maxConcurrentRefreshes?: number;
  /** Simulated time per step: requests are stamped to within one step (1 s buckets). */
  readonly stepMs: number;
}

interface Outcome {
  /** Token requests sent (each is one refresh). */
  readonly requests: number;
  /** `refreshed` events: refreshes that completed and were stored. */
  readonly refreshed: number;
  /** Largest number of requests started within one simulated second. */
  readonly peakPerSecond: number;
  /** Simulated seconds from the first request to the last. */
  readonly spreadS: number;
  readonly wallMs: number;
}

/** A simulated clock for many timers: a min-heap, cancelled entries skipped when popped. */
class HeapClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly heap: Array<{ at: number; id: number; fn: () => void }> = [];
  private readonly cancelled = new Set<number>();

  constructor(start: number) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): number {
    const id = ++this.seq;
    this.push({ at: this.time + Math.max(0, Number.isFinite(ms) ? ms : 0), id, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === 'number') this.cancelled.add(handle);
  }

  /** Moves time forward by `ms`, firing due timers in order, each at its own moment. */
  advance(ms: number): void {
    const target = this.time + ms;
    for (let top = this.heap[0]; top !== undefined && top.at <= target; top = this.heap[0]) {
      this.pop();
      if (this.cancelled.delete(top.id)) continue;
      this.time = Math.max(this.time, top.at);
      top.fn();
    }
    this.time = target;
  }

  private push(entry: { at: number; id: number; fn: () => void }): void {
    const heap = this.heap;
    heap.push(entry);
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    heap[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && this.before(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && this.before(heap[r]!, heap[m]!)) m = r;
      if (m === i) break;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  }

  private before(a: { at: number; id: number }, b: { at: number; id: number }): boolean {
    return a.at < b.at || (a.at === b.at && a.id < b.id);
  }
}

/** Lets promise chains run to completion (memory storage and the fake endpoint are microtasks). */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

async function runScenario(scenario: Scenario): Promise<Outcome> {
  const clock = new HeapClock(T0);
  const startedAt: number[] = [];
  let issued = 0;
  const endpoint: TokenEndpoint = {
    refresh(refreshToken) {
      startedAt.push(clock.now());
      issued++;
      const body = { access_token: `at-${issued}`, token_type: 'Bearer', expires_in: LIFETIME_S, refresh_token: `${refreshToken ?? 'rt'}'` };
      return new Promise((resolve) => clock.setTimeout(() => resolve(body), LATENCY_MS));
    },
  };
  const manager = createTokenManager({
    endpoint,
    storage: memoryStorage({ now: () => clock.now() }),
    clock,
    refreshThreshold: THRESHOLD,
    refreshJitter: scenario.refreshJitter,
    ...(scenario.maxConcurrentRefreshes === undefined ? {} : { maxConcurrentRefreshes: scenario.maxConcurrentRefreshes }),
    random: () => 0.5,
  });
  let refreshed = 0;
  manager.subscribe((event) => {
    if (event.type === 'refreshed') refreshed++;
  });

  const wallStart = performance.now();
  // All obtained at T0 with the same lifetime: every token expires at the same instant.
  await Promise.all(
    Array.from({ length: CREDENTIALS }, (_, n) =>
      manager.setToken(`user-${n}`, { access_token: `initial-${n}`, token_type: 'Bearer', expires_in: LIFETIME_S, refresh_token: `rt-${n}` }),
    ),
  );
  // Jump to just before the earliest possible moment (jitter moves refreshAt at most one threshold
  // earlier), then step through the window so every request is stamped within 100 ms.
  const expiry = T0 + LIFETIME_S * 1000;
  const windowStart = expiry - 2 * 5 * 60_000;
  clock.advance(windowStart - 1000 - clock.now());
  await settle();
  const deadline = expiry + 60 * 60_000;
  while (refreshed < CREDENTIALS && clock.now() < deadline) {
    clock.advance(scenario.stepMs);
    await settle();
    // Zero-delay timers armed while settling (XState `after` of 0) fire now, not a step later.
    clock.advance(0);
    await settle();
  }
  const wallMs = performance.now() - wallStart;
  await manager.stop();

  const perSecond = new Map<number, number>();
  for (const at of startedAt) {
    const second = Math.floor(at / 1000);
    perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
  }
  const first = Math.min(...startedAt);
  const last = Math.max(...startedAt);
  return {
    requests: startedAt.length,
    refreshed,
    peakPerSecond: Math.max(0, ...perSecond.values()),
    spreadS: startedAt.length > 0 ? (last - first) / 1000 : 0,
    wallMs,
  };
}

function round(x: number, digits = 4): number {
  return Number(x.toFixed(digits));
}

export default async function run(opts: BenchOptions): Promise<Figure[]> {
  // The same in quick mode: 10,000 credentials is the point, and the run takes ~15 s of CPU. Steps
  // of 100 ms (the endpoint's latency) so a slot freed by a response is reused within its step.
  void opts.quick;
  const stepMs = 100;
  const none = await runScenario({ refreshJitter: 0, stepMs });
  const jitter = await runScenario({ refreshJitter: 1, stepMs });
  const limited = await runScenario({ refreshJitter: 0, maxConcurrentRefreshes: 100, stepMs });
  const peak = (name: string, o: Outcome, goal: string): Figure => ({
    name: `fleet: peak token requests/s, 10k expiring at once, ${name}`,
    value: o.peakPerSecond,
    unit: 'req/s (simulated)',
    baseline: none.peakPerSecond,
    ratio: round(o.peakPerSecond / none.peakPerSecond),
    goal,
  });
  const count = (name: string, o: Outcome): Figure => ({
    name: `fleet: refreshes of 10k credentials, ${name}`,
    // Both must be 10,000: a request whose tokens were not stored, or a second request, shows here.
    value: Math.min(o.requests, o.refreshed),
    unit: 'refreshes',
    baseline: CREDENTIALS,
    ratio: round(o.requests / CREDENTIALS),
    goal: `value == ${CREDENTIALS}`,
  });
  // refreshJitter 1 spreads refresh moments over one threshold window (5 min) before the usual moment.
  const windowS = 300;
  const spread = (name: string, o: Outcome): Figure => ({
    name: `fleet: spread of the 10k requests over the 300 s jitter window, ${name}`,
    value: round(o.spreadS, 1),
    unit: 's (simulated)',
    baseline: windowS,
    ratio: round(o.spreadS / windowS),
    goal: 'ratio >= 0.9',
  });
  return [
    peak('no jitter', none, 'info'),
    peak('refreshJitter 1', jitter, 'ratio <= 0.02'),
    peak('no jitter, maxConcurrentRefreshes 100 (100 ms endpoint)', limited, 'value <= 1000'),
    count('no jitter', none),
    count('refreshJitter 1', jitter),
    count('maxConcurrentRefreshes 100', limited),
    spread('refreshJitter 1', jitter),
    {
      name: 'fleet: wall time for 10k refreshes (simulated clock, in-process endpoint), refreshJitter 1',
      value: round(jitter.wallMs, 0),
      unit: 'ms',
      baseline: round(none.wallMs, 0),
      ratio: round(jitter.wallMs / none.wallMs),
      goal: 'info',
    },
  ];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const figures = await run({ quick: process.argv.includes('--quick') });
  for (const f of figures) {
    console.log(`${f.name}: ${f.value} ${f.unit} (baseline ${f.baseline}, ratio ${f.ratio}${f.goal ? `, goal ${f.goal}` : ''})`);
  }
}
