/**
 * The implementations the export benchmark compares, each set up for one variant (which
 * temporality the gRPC backend and the HTTP/protobuf backend ask for):
 *
 * - `ours`: one `createTelemetry()` with two OTLP backends; a cycle is `forceFlush()`.
 * - `official`: @opentelemetry/sdk-metrics `MeterProvider` with two
 *   `PeriodicExportingMetricReader`s, one per backend, each with its own OTLP exporter
 *   (exporter-metrics-otlp-grpc, exporter-metrics-otlp-proto); a cycle is `forceFlush()`.
 * - `ours: collect+encode`: the part of our cycle before the network: one consumer per
 *   distinct temporality collected to request bytes and scanned for the item count, as
 *   `createTelemetry()` does, with no backend.
 * - `official: collect+serialize`: the same readers with an exporter that only serializes
 *   with `ProtobufMetricsSerializer` (what both official OTLP exporters run) and succeeds.
 *
 * The two collect-only sides attribute each whole cycle's cost to collect/encode versus
 * transport (queue, HTTP/2 or HTTP/1.1 client, waiting for acknowledgements).
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { AggregationTemporalityPreference } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  InstrumentType,
  MeterProvider as SdkMeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { resolveConfig } from '../src/config/validate.js';
import { createMeterProvider, type MetricConsumer } from '../src/metrics/meter-provider.js';
import { scanRequest } from '../src/otlp/scan.js';
import { createTelemetry } from '../src/telemetry.js';
import type { BenchMeter, BenchTemporality } from './export-workload.js';

/** Implementation names, in table order. */
export const IMPLS = ['ours', 'official', 'ours: collect+encode', 'official: collect+serialize'] as const;
export type Impl = (typeof IMPLS)[number];

/** Which temporality each of the two backends asks for. */
export interface Variant {
  readonly key: string;
  readonly title: string;
  readonly grpc: BenchTemporality;
  readonly http: BenchTemporality;
}

export const VARIANTS: readonly Variant[] = [
  { key: 'mixed', title: 'gRPC delta + HTTP/protobuf cumulative', grpc: 'delta', http: 'cumulative' },
  { key: 'cumulative', title: 'gRPC + HTTP/protobuf, both cumulative', grpc: 'cumulative', http: 'cumulative' },
  { key: 'delta', title: 'gRPC + HTTP/protobuf, both delta', grpc: 'delta', http: 'delta' },
];

/** The two backends' addresses: an OTLP/gRPC origin and an OTLP/HTTP base URL. */
export interface Targets {
  readonly grpcUrl: string;
  readonly httpUrl: string;
}

/** Points handed to each backend so far (collect-only sides count their own; the receivers count the others). */
export interface Produced {
  grpc: number;
  http: number;
}

/** One implementation, ready to record and export. */
export interface Side {
  readonly meter: BenchMeter;
  /** One export cycle: collect, then (for the network sides) deliver to both backends and wait for both answers. */
  flush(): Promise<void>;
  /** Points produced per backend, for the collect-only sides. */
  produced(): Produced | undefined;
  close(): Promise<void>;
}

const METER = ['otlp-fanout-bench', '1.0.0'] as const;
// Both sides export an interval far longer than any run: only forceFlush() exports.
const NEVER_MS = 3_600_000;
const OPTIONS = { serviceName: 'bench', resource: { 'service.version': '1.0.0', 'host.name': 'bench-host' } };

/** Resource attributes both sides send: ours as resolved (service, telemetry.sdk.*, process.*), so sizes match. */
function resource(): Readonly<Record<string, string | number | boolean>> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(resolveConfig(OPTIONS, {}).resource)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  return out;
}

function preference(t: BenchTemporality): AggregationTemporalityPreference {
  return t === 'delta' ? AggregationTemporalityPreference.DELTA : AggregationTemporalityPreference.CUMULATIVE;
}

function sdkProvider(exporters: readonly PushMetricExporter[]): SdkMeterProvider {
  return new SdkMeterProvider({
    resource: resourceFromAttributes(resource()),
    readers: exporters.map((exporter) => new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: NEVER_MS })),
  });
}

/** Serializes like the official OTLP exporters, then succeeds without sending. */
class SerializeOnlyExporter implements PushMetricExporter {
  points = 0;
  bytes = 0;
  constructor(readonly temporality: BenchTemporality) {}

  export(metrics: ResourceMetrics, done: (result: ExportResult) => void): void {
    this.bytes += ProtobufMetricsSerializer.serializeRequest(metrics)?.length ?? 0;
    for (const sm of metrics.scopeMetrics) for (const m of sm.metrics) this.points += m.dataPoints.length;
    done({ code: ExportResultCode.SUCCESS });
  }

  // As the official exporters' DELTA preference: up-down counters stay cumulative.
  selectAggregationTemporality(kind: InstrumentType): AggregationTemporality {
    if (this.temporality === 'cumulative' || kind === InstrumentType.UP_DOWN_COUNTER || kind === InstrumentType.OBSERVABLE_UP_DOWN_COUNTER) {
      return AggregationTemporality.CUMULATIVE;
    }
    return AggregationTemporality.DELTA;
  }

  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

/** Sets up `impl` for `variant`; network sides export to `targets`. */
export function createSide(impl: Impl, variant: Variant, targets: Targets): Side {
  switch (impl) {
    case 'ours': {
      const telemetry = createTelemetry({
        ...OPTIONS,
        env: {},
        backends: [
          { name: 'grpc', endpoint: targets.grpcUrl, protocol: 'grpc', temporality: variant.grpc, signals: ['metrics'] },
          { name: 'http', endpoint: targets.httpUrl, protocol: 'http/protobuf', temporality: variant.http, signals: ['metrics'] },
        ],
        exportIntervalMillis: NEVER_MS,
        selfMetrics: false,
      });
      return {
        meter: telemetry.meterProvider.getMeter(...METER),
        flush: () => telemetry.forceFlush(),
        produced: () => undefined,
        async close() {
          const report = await telemetry.shutdown();
          if (report.undelivered.length > 0) throw new Error(`ours left undelivered: ${JSON.stringify(report.undelivered)}`);
        },
      };
    }
    case 'official': {
      const provider = sdkProvider([
        new GrpcMetricExporter({ url: targets.grpcUrl, temporalityPreference: preference(variant.grpc) }),
        new ProtoMetricExporter({ url: `${targets.httpUrl}/v1/metrics`, temporalityPreference: preference(variant.http) }),
      ]);
      return {
        meter: provider.getMeter(...METER),
        flush: () => provider.forceFlush(),
        produced: () => undefined,
        close: () => provider.shutdown(),
      };
    }
    case 'ours: collect+encode': {
      const provider = createMeterProvider({ resource: resource() });
      // One consumer per distinct temporality, as createTelemetry() groups backends.
      const consumers = new Map<BenchTemporality, MetricConsumer>();
      for (const t of [variant.grpc, variant.http]) if (!consumers.has(t)) consumers.set(t, provider.registerConsumer({ temporality: t }));
      const points = new Map<BenchTemporality, number>([...consumers.keys()].map((t) => [t, 0]));
      const limits = { maxPointsPerRequest: Number.POSITIVE_INFINITY, maxRequestBytes: 64 * 1024 * 1024 };
      return {
        meter: provider.getMeter(...METER),
        async flush() {
          await Promise.all(
            [...consumers].map(async ([t, c]) => {
              for (const body of await c.collect(limits)) points.set(t, points.get(t)! + scanRequest('metrics', body).items);
            }),
          );
        },
        produced: () => ({ grpc: points.get(variant.grpc)!, http: points.get(variant.http)! }),
        close: () => provider.shutdown(),
      };
    }
    case 'official: collect+serialize': {
      const grpc = new SerializeOnlyExporter(variant.grpc);
      const http = new SerializeOnlyExporter(variant.http);
      const provider = sdkProvider([grpc, http]);
      return {
        meter: provider.getMeter(...METER),
        flush: () => provider.forceFlush(),
        produced: () => ({ grpc: grpc.points, http: http.points }),
        close: () => provider.shutdown(),
      };
    }
  }
}
