import { metrics, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { oauthError, RefreshFailedError } from '../../../machines/lifecycle/errors.js';
import { createTokenManager } from '../../../machines/manager/manager.js';
import type { TokenManager } from '../../../machines/manager/api-types.js';
import { openTelemetry, TELEMETRY } from '../../../machines/telemetry/telemetry.js';
import { scriptedEndpoint } from '../../support/fake-endpoint.js';
import { histogramOf, otelInMemory, type OtelInMemory } from '../../support/otel-sdk.js';
import { simulatedManager } from '../../support/simulated-manager.js';

const USER = 'user:alice@example.com';
const login = (n = 0) => ({ access_token: `at-login-${n}`, token_type: 'Bearer', expires_in: 3600, refresh_token: `rt-login-${n}` });
const sha256Prefix = async (text: string): Promise<string> => {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Buffer.from(digest).toString('hex').slice(0, 16);
};

let otel: OtelInMemory;
const managers: TokenManager[] = [];
afterEach(async () => {
  await Promise.allSettled(managers.splice(0).map((m) => m.stop()));
  await otel?.shutdown();
});

function instrumented(extra: Parameters<typeof simulatedManager>[0] = {}) {
  otel = otelInMemory();
  const setup = simulatedManager({
    backgroundRefresh: false,
    minRefreshInterval: 0,
    telemetry: openTelemetry({ meter: otel.meterProvider.getMeter('test'), tracer: otel.tracerProvider.getTracer('test') }),
    ...extra,
  });
  managers.push(setup.manager);
  return setup;
}

describe('telemetry (R19): refreshes', () => {
  it('counts a refresh by outcome, records its duration on the manager clock, and makes one span with the key hashed', async () => {
    const { manager, endpoint, clock } = instrumented();
    await manager.setToken(USER, login());
    endpoint.next({ kind: 'hold' });
    const refreshed = manager.refresh(USER);
    await vi.waitFor(() => expect(endpoint.held).toBe(1));
    clock.increment(1_500);
    endpoint.release();
    await refreshed;

    expect(await otel.sums(TELEMETRY.refreshes)).toEqual([[JSON.stringify({ outcome: 'success' }), 1]]);
    const [point] = histogramOf((await otel.metrics()).get(TELEMETRY.duration));
    expect(point?.attributes).toEqual({ outcome: 'success' });
    expect(point?.value.count).toBe(1);
    expect(point?.value.sum).toBeCloseTo(1.5, 6);
    expect((await otel.metrics()).get(TELEMETRY.duration)?.descriptor.unit).toBe('s');

    await vi.waitFor(() => expect(otel.spans.getFinishedSpans()).toHaveLength(1));
    const [span] = otel.spans.getFinishedSpans();
    expect(span?.name).toBe(TELEMETRY.span);
    expect(span?.attributes).toEqual({ outcome: 'success', 'token_lifecycle.key_hash': await sha256Prefix(USER) });
    const ms = (t: [number, number]): number => t[0] * 1000 + t[1] / 1e6;
    expect(ms(span!.endTime) - ms(span!.startTime)).toBeCloseTo(1_500, 3);
    expect(span?.status.code).toBe(0); // UNSET: success
  });

  it('counts failures with their error code, and marks the span as an error', async () => {
    const { manager, endpoint } = instrumented();
    await manager.setToken('a', login(1));
    await manager.setToken('b', login(2));
    endpoint.next({ kind: 'throw', error: oauthError('invalid_grant', { status: 400 }) });
    await manager.refresh('a').catch(() => undefined);
    endpoint.next({ kind: 'throw', error: new RefreshFailedError('down', { status: 503 }) });
    await manager.refresh('b').catch(() => undefined);
    await manager.refresh('b');

    expect(new Map(await otel.sums(TELEMETRY.refreshes))).toEqual(
      new Map([
        [JSON.stringify({ outcome: 'failure', 'error.type': 'invalid_grant' }), 1],
        [JSON.stringify({ outcome: 'failure', 'error.type': 'refresh_failed' }), 1],
        [JSON.stringify({ outcome: 'success' }), 1],
      ]),
    );
    await vi.waitFor(() => expect(otel.spans.getFinishedSpans()).toHaveLength(3));
    const failed = otel.spans.getFinishedSpans().filter((s) => s.attributes.outcome === 'failure');
    expect(failed.map((s) => [s.status.code, s.status.message]).sort()).toEqual([
      [2, 'invalid_grant'],
      [2, 'refresh_failed'],
    ]);
  });
});

describe('telemetry (R19): credentials by state', () => {
  it('follows each loaded credential through its states; remove and stop take credentials off', async () => {
    const { manager, endpoint } = instrumented();
    const byState = async (): Promise<Record<string, number>> =>
      Object.fromEntries((await otel.sums(TELEMETRY.credentials)).map(([a, v]) => [JSON.parse(a).state, v]).filter(([, v]) => v !== 0));
    await manager.setToken('a', login(1));
    await manager.setToken('b', login(2));
    await manager.setToken('c', login(3));
    expect(await byState()).toEqual({ valid: 3 });
    endpoint.next({ kind: 'throw', error: oauthError('invalid_grant', { status: 400 }) });
    await manager.refresh('a').catch(() => undefined);
    expect(await byState()).toEqual({ valid: 2, degraded: 1 });
    await manager.remove('b', { revoke: false });
    expect(await byState()).toEqual({ valid: 1, degraded: 1 });
    await manager.stop();
    expect(await byState()).toEqual({});
  });
});

describe('telemetry (R19): no secrets', () => {
  it('no metric point or span carries a token value or the raw key', async () => {
    const { manager, endpoint } = instrumented();
    const seen = new Set<string>();
    await manager.setToken(USER, login());
    for (let i = 0; i < 3; i++) {
      const set = await manager.refresh(USER);
      seen.add(set.accessToken).add(set.refreshToken!);
    }
    endpoint.next({ kind: 'throw', error: oauthError('invalid_grant', { status: 400, description: 'token rt-3 was revoked' }) });
    await manager.refresh(USER).catch(() => undefined);
    await vi.waitFor(() => expect(otel.spans.getFinishedSpans()).toHaveLength(4));
    const exported = JSON.stringify({
      metrics: [...(await otel.metrics()).values()],
      spans: otel.spans.getFinishedSpans().map((s) => ({ name: s.name, attributes: s.attributes, status: s.status, events: s.events })),
    });
    for (const value of [...seen, 'at-login-0', 'rt-login-0', USER, 'alice']) expect(exported).not.toContain(value);
    expect(exported).toContain('token_lifecycle.key_hash');
  });
});

describe('telemetry (R19): option', () => {
  it('openTelemetry() with no options uses the @opentelemetry/api global providers', async () => {
    otel = otelInMemory();
    metrics.setGlobalMeterProvider(otel.meterProvider);
    trace.setGlobalTracerProvider(otel.tracerProvider);
    try {
      const manager = createTokenManager({ endpoint: scriptedEndpoint(), backgroundRefresh: false, minRefreshInterval: 0, telemetry: openTelemetry() });
      managers.push(manager);
      await manager.setToken('k', login());
      await manager.refresh('k');
      await vi.waitFor(async () => expect(await otel.sums(TELEMETRY.refreshes)).toEqual([[JSON.stringify({ outcome: 'success' }), 1]]));
      await vi.waitFor(() => expect(otel.spans.getFinishedSpans().map((s) => s.instrumentationScope.name)).toEqual(['token-lifecycle']));
    } finally {
      metrics.disable();
      trace.disable();
    }
  });

  it('a meter alone or a tracer alone is enough; anything else is invalid_config', async () => {
    const { manager } = instrumented({ telemetry: openTelemetry({ meter: otelInMemory().meterProvider.getMeter('only') }) });
    await manager.setToken('k', login());
    await expect(manager.refresh('k')).resolves.toMatchObject({ tokenType: 'Bearer' });
    for (const options of ['yes', null, { meter: {} }, { tracer: 42 }]) {
      expect(() => openTelemetry(options as never)).toThrow(expect.objectContaining({ code: 'invalid_config' }));
    }
  });

  it('the telemetry option takes only what openTelemetry() makes (the old `true` and bare objects are invalid_config)', () => {
    const meter = { createCounter: () => ({ add: () => undefined }) };
    for (const telemetry of [true, 'yes', null, { meter }, { attach: 42 }]) {
      expect(() => createTokenManager({ endpoint: scriptedEndpoint(), telemetry: telemetry as never })).toThrow(
        expect.objectContaining({ code: 'invalid_config', message: expect.stringContaining('openTelemetry') }),
      );
    }
  });
});
