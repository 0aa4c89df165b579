/**
 * A small Prometheus text exposition of an OpenTelemetry MeterProvider (pull: every scrape collects),
 * so the example needs no exporter package. Counters become `<name>_total`, histograms `_bucket`,
 * `_sum` and `_count` series; dots become underscores.
 */
import { AggregationTemporality, DataPointType, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';

export class PrometheusText extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}

  async scrape(): Promise<string> {
    const { resourceMetrics } = await this.collect();
    return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics.flatMap(lines)).join('\n') + '\n';
  }
}

const escape = (value: unknown): string => String(value).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function labels(attributes: Record<string, unknown>, extra: Record<string, string> = {}): string {
  const all = { ...attributes, ...extra };
  const text = Object.entries(all).map(([k, v]) => `${k.replace(/\W/g, '_')}="${escape(v)}"`).join(',');
  return text ? `{${text}}` : '';
}

function lines(metric: MetricData): string[] {
  const unit = metric.descriptor.unit === 's' ? '_seconds' : '';
  const name = metric.descriptor.name.replace(/\W/g, '_') + unit;
  if (metric.dataPointType === DataPointType.HISTOGRAM) {
    return [`# TYPE ${name} histogram`, ...metric.dataPoints.flatMap((p) => {
      let cumulative = 0;
      const buckets = p.value.buckets.boundaries.map((bound, i) => {
        cumulative += p.value.buckets.counts[i] ?? 0;
        return `${name}_bucket${labels(p.attributes, { le: String(bound) })} ${cumulative}`;
      });
      return [...buckets, `${name}_bucket${labels(p.attributes, { le: '+Inf' })} ${p.value.count}`,
        `${name}_sum${labels(p.attributes)} ${p.value.sum ?? 0}`, `${name}_count${labels(p.attributes)} ${p.value.count}`];
    })];
  }
  if (metric.dataPointType === DataPointType.SUM) {
    const total = metric.isMonotonic ? `${name}_total` : name;
    return [`# TYPE ${total} ${metric.isMonotonic ? 'counter' : 'gauge'}`, ...metric.dataPoints.map((p) => `${total}${labels(p.attributes)} ${p.value}`)];
  }
  return [];
}
