/**
 * The slice of the OpenTelemetry API (`@opentelemetry/api` 1.x) the telemetry option uses, written
 * out structurally: a `Meter` and a `Tracer` from the real API fit as they are, and the core never
 * imports the package (R16: bundles that do not use telemetry do not pay for it).
 */
export type TelemetryAttributes = Record<string, string | number | boolean>;

export interface CounterLike {
  add(value: number, attributes?: TelemetryAttributes): void;
}

export interface HistogramLike {
  record(value: number, attributes?: TelemetryAttributes): void;
}

export interface InstrumentOptionsLike {
  description?: string;
  unit?: string;
  advice?: { explicitBucketBoundaries?: number[] };
}

/** What `metrics.getMeter(name)` returns. */
export interface MeterLike {
  createCounter(name: string, options?: InstrumentOptionsLike): CounterLike;
  createUpDownCounter(name: string, options?: InstrumentOptionsLike): CounterLike;
  createHistogram(name: string, options?: InstrumentOptionsLike): HistogramLike;
}

export interface SpanLike {
  setAttribute(key: string, value: string | number | boolean): unknown;
  /** `code`: 2 = ERROR (SpanStatusCode.ERROR). */
  setStatus(status: { code: number; message?: string }): unknown;
  end(endTime?: number): void;
}

/** What `trace.getTracer(name)` returns. */
export interface TracerLike {
  startSpan(name: string, options?: { startTime?: number; attributes?: TelemetryAttributes }): SpanLike;
}

/**
 * What `openTelemetry()` takes (R19): your Meter and/or Tracer; none for the `@opentelemetry/api`
 * globals (loaded with a dynamic import; register the SDK's providers first).
 */
export interface OpenTelemetryOptions {
  readonly meter?: MeterLike;
  readonly tracer?: TracerLike;
}
