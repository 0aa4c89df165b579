/**
 * The OpenTelemetry SDK in memory, for tests: a MeterProvider with a pull reader (collect() returns
 * every metric point so far) and a tracer provider exporting finished spans to memory.
 */
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  MetricReader,
  type HistogramMetricData,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

class PullReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

export interface OtelInMemory {
  readonly meterProvider: MeterProvider;
  readonly tracerProvider: BasicTracerProvider;
  readonly spans: InMemorySpanExporter;
  /** Every metric, by name. */
  metrics(): Promise<Map<string, MetricData>>;
  /** Sum points of a counter as [attributes JSON, value] pairs. */
  sums(name: string): Promise<Array<[string, number]>>;
  shutdown(): Promise<void>;
}

export function otelInMemory(): OtelInMemory {
  const reader = new PullReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const metrics = async (): Promise<Map<string, MetricData>> => {
    const { resourceMetrics } = await reader.collect();
    return new Map(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m]));
  };
  return {
    meterProvider,
    tracerProvider,
    spans,
    metrics,
    async sums(name) {
      const metric = (await metrics()).get(name);
      if (metric === undefined || metric.dataPointType !== DataPointType.SUM) return [];
      return metric.dataPoints.map((p) => [JSON.stringify(p.attributes), p.value as number]);
    },
    async shutdown() {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
    },
  };
}

export function histogramOf(metric: MetricData | undefined): HistogramMetricData['dataPoints'] {
  if (metric === undefined || metric.dataPointType !== DataPointType.HISTOGRAM) return [];
  return metric.dataPoints;
}
