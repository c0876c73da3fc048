/**
 * Shared metrics workload for benchmarks: data recorded and collected by the official
 * @opentelemetry/sdk-metrics, so that the official serializer and ours encode the very
 * same points, plus a converter from the SDK's `ResourceMetrics` to our generated
 * `ExportMetricsServiceRequest` (untimed setup).
 */
import { create } from '@bufbuild/protobuf';
import { ValueType } from '@opentelemetry/api';
import type { HrTime } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality as SdkTemporality,
  DataPointType,
  MeterProvider,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import type { MetricData, ResourceMetrics as SdkResourceMetrics } from '@opentelemetry/sdk-metrics';
import {
  ExportMetricsServiceRequestSchema,
  type ExportMetricsServiceRequest,
} from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { AnyValueSchema, KeyValueSchema } from '../../gen/opentelemetry/proto/common/v1/common_pb.js';
import type { MetricSchema } from '../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';

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
      const attrs = { 'http.request.method': s % 2 === 0 ? 'GET' : 'POST', 'http.route': `/api/v1/items/${s}`, 'http.response.status_code': 200 + (s % 5) };
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

function hrToNanos(t: HrTime): bigint {
  return BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
}

function anyValue(v: unknown): MessageInitShape<typeof AnyValueSchema> {
  switch (typeof v) {
    case 'string':
      return { value: { case: 'stringValue', value: v } };
    case 'boolean':
      return { value: { case: 'boolValue', value: v } };
    case 'number':
      // Same rule as the official serializer: integral → int_value.
      return Number.isInteger(v) && Math.abs(v) < 2 ** 63
        ? { value: { case: 'intValue', value: BigInt(v) } }
        : { value: { case: 'doubleValue', value: v } };
    case 'object':
      if (Array.isArray(v)) return { value: { case: 'arrayValue', value: { values: v.map(anyValue) } } };
      return {};
    default:
      return {};
  }
}

function keyValues(attrs: Readonly<Record<string, unknown>>): MessageInitShape<typeof KeyValueSchema>[] {
  const out: MessageInitShape<typeof KeyValueSchema>[] = [];
  for (const key in attrs) {
    const value = attrs[key];
    if (value === undefined) continue;
    out.push({ key, value: anyValue(value) });
  }
  return out;
}

function temporality(t: SdkTemporality): 1 | 2 {
  return t === SdkTemporality.DELTA ? 1 : 2;
}

function metric(m: MetricData): MessageInitShape<typeof MetricSchema> {
  const base = { name: m.descriptor.name, description: m.descriptor.description, unit: m.descriptor.unit };
  switch (m.dataPointType) {
    case DataPointType.SUM:
    case DataPointType.GAUGE: {
      const isInt = m.descriptor.valueType === ValueType.INT;
      const dataPoints = m.dataPoints.map((p) => ({
        attributes: keyValues(p.attributes),
        startTimeUnixNano: hrToNanos(p.startTime),
        timeUnixNano: hrToNanos(p.endTime),
        value: isInt
          ? { case: 'asInt' as const, value: BigInt(Math.trunc(p.value)) }
          : { case: 'asDouble' as const, value: p.value },
      }));
      if (m.dataPointType === DataPointType.GAUGE) return { ...base, data: { case: 'gauge', value: { dataPoints } } };
      return {
        ...base,
        data: {
          case: 'sum',
          value: { dataPoints, aggregationTemporality: temporality(m.aggregationTemporality), isMonotonic: m.isMonotonic },
        },
      };
    }
    case DataPointType.HISTOGRAM:
      return {
        ...base,
        data: {
          case: 'histogram',
          value: {
            aggregationTemporality: temporality(m.aggregationTemporality),
            dataPoints: m.dataPoints.map((p) => ({
              attributes: keyValues(p.attributes),
              startTimeUnixNano: hrToNanos(p.startTime),
              timeUnixNano: hrToNanos(p.endTime),
              count: BigInt(p.value.count),
              sum: p.value.sum,
              bucketCounts: p.value.buckets.counts.map((c) => BigInt(c)),
              explicitBounds: [...p.value.buckets.boundaries],
              min: p.value.min,
              max: p.value.max,
            })),
          },
        },
      };
    case DataPointType.EXPONENTIAL_HISTOGRAM:
      return {
        ...base,
        data: {
          case: 'exponentialHistogram',
          value: {
            aggregationTemporality: temporality(m.aggregationTemporality),
            dataPoints: m.dataPoints.map((p) => ({
              attributes: keyValues(p.attributes),
              startTimeUnixNano: hrToNanos(p.startTime),
              timeUnixNano: hrToNanos(p.endTime),
              count: BigInt(p.value.count),
              sum: p.value.sum,
              scale: p.value.scale,
              zeroCount: BigInt(p.value.zeroCount),
              positive: { offset: p.value.positive.offset, bucketCounts: p.value.positive.bucketCounts.map((c) => BigInt(c)) },
              negative: { offset: p.value.negative.offset, bucketCounts: p.value.negative.bucketCounts.map((c) => BigInt(c)) },
              min: p.value.min,
              max: p.value.max,
            })),
          },
        },
      };
    default:
      return base;
  }
}

/**
 * Converts the SDK's collected `ResourceMetrics` into our generated request, field for
 * field as the official serializer maps them (so both encodings decode equal).
 */
export function toGenRequest(rm: SdkResourceMetrics): ExportMetricsServiceRequest {
  return create(ExportMetricsServiceRequestSchema, {
    resourceMetrics: [
      {
        resource: { attributes: keyValues(rm.resource.attributes) },
        schemaUrl: rm.resource.schemaUrl ?? '',
        scopeMetrics: rm.scopeMetrics.map((sm) => ({
          scope: {
            name: sm.scope.name,
            version: sm.scope.version ?? '',
          },
          schemaUrl: sm.scope.schemaUrl ?? '',
          metrics: sm.metrics.map(metric),
        })),
      },
    ],
  });
}
