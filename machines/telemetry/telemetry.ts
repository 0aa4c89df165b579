import type { TelemetryPlugin, TokenEvent, TokenManager, TokenState } from '../manager/api-types.js';
import { InvalidConfigError } from '../lifecycle/errors.js';
import { keyHash } from './key-hash.js';
import type { CounterLike, HistogramLike, MeterLike, OpenTelemetryOptions, TelemetryAttributes, TracerLike } from './otel-types.js';

/** Instrument and span names (R19). */
export const TELEMETRY = {
  refreshes: 'token_lifecycle.refreshes',
  duration: 'token_lifecycle.refresh.duration',
  credentials: 'token_lifecycle.credentials',
  span: 'token_lifecycle.refresh',
} as const;

const SCOPE = 'token-lifecycle';
// A variable, not a literal: bundlers leave the optional peer alone unless `openTelemetry()` is used.
const OTEL_API = '@opentelemetry/api';
const SPAN_STATUS_ERROR = 2;
const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

interface Instruments {
  readonly refreshes?: CounterLike;
  readonly duration?: HistogramLike;
  readonly credentials?: CounterLike;
  readonly tracer?: TracerLike;
}

type Outcome = { readonly outcome: 'success' } | { readonly outcome: 'failure'; readonly code: string };

/** One refresh seen from the event stream: from entering `refreshing` to leaving it. */
interface Episode {
  readonly startedAt: number;
  result?: Outcome;
}

function instrumentsOf(meter: MeterLike | undefined, tracer: TracerLike | undefined): Instruments {
  return {
    refreshes: meter?.createCounter(TELEMETRY.refreshes, { description: 'Token refreshes, by outcome and error code' }),
    duration: meter?.createHistogram(TELEMETRY.duration, {
      description: 'Time a credential spent refreshing',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    }),
    credentials: meter?.createUpDownCounter(TELEMETRY.credentials, { description: 'Loaded credentials, by lifecycle state' }),
    tracer,
  };
}

function checkOptions(options: unknown): asserts options is OpenTelemetryOptions | undefined {
  if (options === undefined) return;
  const given = options as { meter?: { createCounter?: unknown }; tracer?: { startSpan?: unknown } } | null;
  const meterOk = given?.meter === undefined || typeof given.meter.createCounter === 'function';
  const tracerOk = given?.tracer === undefined || typeof given.tracer.startSpan === 'function';
  if (typeof given !== 'object' || given === null || !meterOk || !tracerOk) {
    throw new InvalidConfigError('openTelemetry takes { meter?, tracer? } (an OpenTelemetry Meter and Tracer), or nothing');
  }
}

async function globalInstruments(): Promise<Instruments> {
  const api = (await import(/* @vite-ignore */ OTEL_API)) as {
    metrics: { getMeter(name: string): MeterLike };
    trace: { getTracer(name: string): TracerLike };
  };
  return instrumentsOf(api.metrics.getMeter(SCOPE), api.trace.getTracer(SCOPE));
}

/**
 * R19, the manager's `telemetry` option: `createTokenManager({ telemetry: openTelemetry({ meter, tracer }) })`,
 * or `openTelemetry()` for `@opentelemetry/api`'s global providers. A plug-in the app imports, so a
 * bundle without telemetry does not carry it. The options are checked here (`invalid_config`).
 */
export function openTelemetry(options?: OpenTelemetryOptions): TelemetryPlugin {
  checkOptions(options);
  return { attach: (manager) => withTelemetry(manager, options) };
}

/**
 * Metrics and spans built from the manager's own event stream (no token value is in it, R13),
 * so they need nothing from the manager's insides. Wraps the manager's `remove` and `stop` to take
 * removed and stopped credentials off the by-state count (neither emits an event).
 * Metric attributes never name a key (a service may hold 100,000 users' keys); spans carry a hash.
 */
function withTelemetry(manager: TokenManager, option: OpenTelemetryOptions | undefined): void {
  let instruments: Instruments | undefined;
  const pending: TokenEvent[] = [];
  /** Each counted credential's state: what the next change takes it off. */
  const counted = new Map<string, TokenState>();
  const episodes = new Map<string, Episode>();

  const attributesOf = (result: Outcome | undefined): TelemetryAttributes =>
    result === undefined ? { outcome: 'adopted' } : result.outcome === 'failure' ? { outcome: 'failure', 'error.type': result.code } : { outcome: 'success' };

  function count(key: string, state: TokenState | undefined): void {
    const before = counted.get(key);
    if (before === state) return;
    if (before !== undefined) instruments?.credentials?.add(-1, { state: before });
    if (state === undefined || state === 'idle') counted.delete(key);
    else {
      counted.set(key, state);
      instruments?.credentials?.add(1, { state });
    }
  }

  function finish(key: string, episode: Episode, endedAt: number): void {
    const attributes = attributesOf(episode.result);
    instruments?.refreshes?.add(1, attributes);
    instruments?.duration?.record(Math.max(0, endedAt - episode.startedAt) / 1000, attributes);
    const tracer = instruments?.tracer;
    if (tracer === undefined) return;
    // Created once the outcome is known, with the refresh's own start and end times.
    void keyHash(key).then((hash) => {
      const span = tracer.startSpan(TELEMETRY.span, {
        startTime: episode.startedAt,
        attributes: { ...attributes, 'token_lifecycle.key_hash': hash },
      });
      if (episode.result?.outcome === 'failure') span.setStatus({ code: SPAN_STATUS_ERROR, message: episode.result.code });
      span.end(endedAt);
    });
  }

  function settle(key: string, result: Outcome): void {
    const episode = episodes.get(key);
    if (episode !== undefined) episode.result = result;
    else instruments?.refreshes?.add(1, attributesOf(result)); // a refresh seen without its state change
  }

  function handle(event: TokenEvent): void {
    if (event.type === 'state') {
      count(event.key, event.state);
      const episode = episodes.get(event.key);
      if (event.state === 'refreshing' && episode === undefined) episodes.set(event.key, { startedAt: event.at });
      if (event.state !== 'refreshing' && episode !== undefined) {
        episodes.delete(event.key);
        finish(event.key, episode, event.at);
      }
    } else if (event.type === 'refreshed') settle(event.key, { outcome: 'success' });
    else if (event.type === 'refresh_failed') settle(event.key, { outcome: 'failure', code: event.code });
  }

  function ready(loaded: Instruments): void {
    instruments = loaded;
    for (const event of pending.splice(0)) handle(event);
  }

  const off = manager.subscribe((event) => (instruments ? handle(event) : pending.push(event)));
  if (option === undefined) {
    globalInstruments().then(ready, () => {
      // No @opentelemetry/api installed: nothing to report to.
      pending.length = 0;
      off();
    });
  } else ready(instrumentsOf(option.meter, option.tracer));

  const forget = (key: string): void => {
    count(key, undefined);
    episodes.delete(key);
  };
  // In place (the manager's identity is kept): remove() and stop() emit no event of their own.
  const { remove, stop } = manager;
  manager.remove = async (key = 'default', options) => {
    await remove(key, options);
    forget(key);
  };
  manager.stop = async () => {
    try {
      await stop();
    } finally {
      for (const key of [...counted.keys()]) forget(key);
    }
  };
}
