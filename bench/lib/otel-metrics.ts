/**
 * Shared metrics workload for benchmarks: data recorded and collected by the official
 * @opentelemetry/sdk-metrics, so that the official serializer and ours encode the very
 * same points, plus a converter from the SDK's `ResourceMetrics` to our generated
 * `ExportMetricsServiceRequest` (untimed setup).
 */
import { ValueType } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { ResourceMetrics as SdkResourceMetrics } from '@opentelemetry/sdk-metrics';

/** A reader that only collects on demand. */
class PullReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** Shape of the standard workload. */
export interface WorkloadOptions {
  /** Counter instruments. Default 10. */
  readonly counters?: number;
  /** Attribute sets per counter. Default 1,000 (10 × 1,000 = 10,000 sum points). */
  readonly seriesPerCounter?: number;
  /** Histogram series (one instrument, default boundaries). Default 1,000. */
  readonly histogramSeries?: number;
}

/**
 * Records the standard workload with the official SDK and collects it once through a
 * MetricReader: `counters` cumulative monotonic sums (half INT, half DOUBLE value type)
 * of `seriesPerCounter` attribute sets each, and one explicit-bucket histogram with the
 * spec default 15 boundaries over `histogramSeries` attribute sets; 3 attributes per
 * series (two strings and an integer).
 */
export async function collectOfficialWorkload(options: WorkloadOptions = {}): Promise<SdkResourceMetrics> {
  const counters = options.counters ?? 10;
  const seriesPerCounter = options.seriesPerCounter ?? 1000;
  const histogramSeries = options.histogramSeries ?? 1000;
  const reader = new PullReader();
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'bench', 'service.version': '1.0.0', 'host.name': 'bench-host' }),
    readers: [reader],
  });
  const meter = provider.getMeter('otlp-fanout-bench', '1.0.0');
  for (let c = 0; c < counters; c++) {
    const counter = meter.createCounter(`bench.requests.${c}`, {
      description: 'Requests handled',
      unit: '{request}',
      valueType: c % 2 === 0 ? ValueType.INT : ValueType.DOUBLE,
    });
    for (let s = 0; s < seriesPerCounter; s++) {
      const attrs = {
        'http.request.method': s % 2 === 0 ? 'GET' : 'POST',
        'http.route': `/api/v1/items/${s}`,
        'http.response.status_code': 200 + (s % 5),
      };
      counter.add(c % 2 === 0 ? s + 1 : s + 0.5, attrs);
    }
  }
  const histogram = meter.createHistogram('bench.duration', { description: 'Request duration', unit: 'ms' });
  for (let s = 0; s < histogramSeries; s++) {
    const attrs = { 'http.request.method': 'GET', 'http.route': `/api/v1/items/${s}`, 'http.response.status_code': 200 };
    for (let k = 0; k < 8; k++) histogram.record(((s * 37 + k * 101) % 12000) + 0.25, attrs);
  }
  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length > 0) throw new Error(`official collection failed: ${String(errors[0])}`);
  await provider.shutdown();
  return resourceMetrics;
}

/** Number of data points in an SDK `ResourceMetrics`. */
export function countPoints(rm: SdkResourceMetrics): number {
  let n = 0;
  for (const sm of rm.scopeMetrics) for (const m of sm.metrics) n += m.dataPoints.length;
  return n;
}

/**
 * Converts the SDK's collected `ResourceMetrics` into our generated request, field for field as
 * the official serializer maps them (so both encodings decode equal): the interop tests' converter,
 * one mapping for tests and benchmarks.
 */
export { genMetricsRequest as toGenRequest } from '../../test/interop/sdk-to-gen.js';
