/**
 * The metrics benchmark's shared workload, recorded into ours and into the official
 * SDK alike, and the check that both collections encode the same metrics.
 *
 * Workload (the same shape as bench/lib/otel-metrics.ts): 10 counters × 1,000 attribute
 * sets (half INT, half DOUBLE) and one explicit-bucket histogram × 1,000 attribute sets,
 * 3 attributes per series: 11,000 cumulative points per collection.
 */
import { equals, fromBinary } from '@bufbuild/protobuf';
import { ValueType } from '@opentelemetry/api';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  ExportMetricsServiceRequestSchema,
  type ExportMetricsServiceRequest,
} from '../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { createMeterProvider, type MeterProviderOptions } from '../src/metrics/meter-provider.js';

/** A reader that collects on demand only. */
export class PullReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

export const RESOURCE = { 'service.name': 'bench', 'service.version': '1.0.0', 'host.name': 'bench-host' };

/** Anything with the API's instrument factories. */
interface ApiMeter {
  createCounter(
    name: string,
    options?: { description?: string; unit?: string; valueType?: number },
  ): {
    add(v: number, a?: { [k: string]: string | number }): void;
  };
  createHistogram(name: string, options?: { description?: string; unit?: string }): { record(v: number, a?: { [k: string]: string | number }): void };
}

/** Records the standard workload through the API of `meter`. */
export function recordWorkload(meter: ApiMeter): void {
  for (let c = 0; c < 10; c++) {
    const counter = meter.createCounter(`bench.requests.${c}`, {
      description: 'Requests handled',
      unit: '{request}',
      valueType: c % 2 === 0 ? ValueType.INT : ValueType.DOUBLE,
    });
    for (let s = 0; s < 1000; s++) {
      const attrs = {
        'http.request.method': s % 2 === 0 ? 'GET' : 'POST',
        'http.route': `/api/v1/items/${s}`,
        'http.response.status_code': 200 + (s % 5),
      };
      counter.add(c % 2 === 0 ? s + 1 : s + 0.5, attrs);
    }
  }
  const histogram = meter.createHistogram('bench.duration', { description: 'Request duration', unit: 'ms' });
  for (let s = 0; s < 1000; s++) {
    const attrs = { 'http.request.method': 'GET', 'http.route': `/api/v1/items/${s}`, 'http.response.status_code': 200 };
    for (let k = 0; k < 8; k++) histogram.record(((s * 37 + k * 101) % 12000) + 0.25, attrs);
  }
}

/** Ours with the workload recorded: `collect()` returns the one request body. */
export function oursWorkload(options: MeterProviderOptions = {}): () => Uint8Array {
  const p = createMeterProvider({ resource: RESOURCE, ...options });
  const c = p.registerConsumer();
  recordWorkload(p.getMeter('otlp-fanout-bench', '1.0.0'));
  return () => {
    const bodies = c.collectSync();
    if (bodies.length !== 1) throw new Error(`expected one body, got ${bodies.length}`);
    return bodies[0] as Uint8Array;
  };
}

/** The official SDK with the workload recorded: collect + ProtobufMetricsSerializer. */
export function officialWorkload(): () => Promise<Uint8Array> {
  const reader = new PullReader();
  const provider = new MeterProvider({ resource: resourceFromAttributes(RESOURCE), readers: [reader] });
  recordWorkload(provider.getMeter('otlp-fanout-bench', '1.0.0') as unknown as ApiMeter);
  return async () => {
    const { resourceMetrics, errors } = await reader.collect();
    if (errors.length > 0) throw new Error(String(errors[0]));
    const body = ProtobufMetricsSerializer.serializeRequest(resourceMetrics);
    if (body === undefined) throw new Error('official serializer returned nothing');
    return body;
  };
}

/**
 * Decodes a body and removes what legitimately differs: times (each SDK reads its own
 * clock), attribute order inside a point (ours sorts keys), point order in a metric.
 */
export function normalize(body: Uint8Array): ExportMetricsServiceRequest {
  const msg = fromBinary(ExportMetricsServiceRequestSchema, body);
  for (const rm of msg.resourceMetrics) {
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) {
        const d = m.data;
        if (d.case === undefined || d.case === 'summary') continue;
        const pts = d.value.dataPoints as Array<{ startTimeUnixNano: bigint; timeUnixNano: bigint; attributes: Array<{ key: string }> }>;
        for (const p of pts) {
          p.startTimeUnixNano = 0n;
          p.timeUnixNano = 0n;
          p.attributes.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        }
        const text = (p: { attributes: Array<{ key: string }> }): string =>
          JSON.stringify(p.attributes, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
        pts.sort((a, b) => (text(a) < text(b) ? -1 : 1));
      }
    }
  }
  return msg;
}

/** Throws unless both bodies carry the same metrics (up to what `normalize` removes). */
export function assertSameMetrics(ours: Uint8Array, theirs: Uint8Array): void {
  if (!equals(ExportMetricsServiceRequestSchema, normalize(ours), normalize(theirs))) {
    throw new Error('ours and the official SDK collect different metrics');
  }
}
