/**
 * Transport benchmark: CPU per unary OTLP metrics Export call, our transports against
 * the official exporters' transports (0.223), with pre-built request bytes, so only the
 * network client is measured (no collection, no serialization).
 *
 * - `ours`: `createOtlpGrpcTransport` (connect-node over node:http2) and
 *   `createOtlpHttpTransport` (undici), `export('metrics', body)`.
 * - `official`: `createOtlpGrpcExportDelegate` (grpc-js) and `createOtlpHttpExportDelegate`
 *   (node:http), exactly as `exporter-metrics-otlp-grpc` / `-proto` build them, but with a
 *   serializer that returns the pre-built bytes as they are.
 *
 * Bodies: a small one (~2 KB, like a delta export with little activity) and a large one
 * (~1.7 MB, like a cumulative export of 11,000 series). Calls run one after another, as
 * an exporter does.
 *
 * Processes: the parent hosts the lean receivers of bench/export-receivers.ts (their CPU
 * is never counted) and runs the harness (bench/lib/harness.ts): one child per (round,
 * case, implementation), one at a time, implementations interleaved. A child warms up,
 * collects garbage, then makes a fixed number of calls and reports the CPU time of the
 * whole process (`process.cpuUsage`, all threads: GC and the HTTP clients included)
 * divided by the number of calls.
 *
 * Run: `node --import tsx/esm bench/transport.bench.ts [--rounds 5] [--filter gRPC]`.
 * `TRANSPORT_BENCH_CALLS=N` overrides the timed call count (for profiling with
 * `--cpu-prof` on a child, see BENCHMARKS.md).
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { convertLegacyOtlpGrpcOptions, createOtlpGrpcExportDelegate } from '@opentelemetry/otlp-grpc-exporter-base';
import { ProtobufMetricsSerializer, type IExporterMetricsHelper, type ISerializer } from '@opentelemetry/otlp-transformer';
import { ExportMetricsServiceRequestSchema } from '../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { AggregationTemporality } from '../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import { createOtlpGrpcTransport } from '../src/transport/grpc.js';
import { createOtlpHttpTransport } from '../src/transport/http.js';
import type { Transport } from '../src/transport/types.js';
import { startGrpcReceiver, startHttpReceiver } from './export-receivers.js';
import { runBench, type BenchCase } from './lib/harness.js';

const GRPC_ENV = 'TRANSPORT_BENCH_GRPC_URL';
const HTTP_ENV = 'TRANSPORT_BENCH_HTTP_URL';
/** A call slower than this is stuck: the child fails instead of hanging. */
const CALL_TIMEOUT_MS = 10_000;

interface Size {
  readonly name: string;
  readonly points: number;
  readonly warmup: number;
  readonly calls: number;
}

// ~130 bytes per point: 16 points ≈ 2 KB, 13,000 points ≈ 1.7 MB.
const SMALL: Size = { name: 'small (~2 KB)', points: 16, warmup: 300, calls: 1500 };
const LARGE: Size = { name: 'large (~1.7 MB)', points: 13_000, warmup: 15, calls: 80 };

/** A metrics request of `points` sum points, 3 attributes each, with fixed contents. */
function buildBody(points: number): Uint8Array {
  const dataPoints = [];
  for (let i = 0; i < points; i++) {
    dataPoints.push({
      attributes: [
        { key: 'http.route', value: { value: { case: 'stringValue' as const, value: `/api/v1/items/${i % 97}` } } },
        { key: 'http.request.method', value: { value: { case: 'stringValue' as const, value: i % 2 === 0 ? 'GET' : 'POST' } } },
        { key: 'server.instance', value: { value: { case: 'stringValue' as const, value: `instance-${i}` } } },
      ],
      startTimeUnixNano: 1_700_000_000_000_000_000n,
      timeUnixNano: 1_700_000_010_000_000_000n + BigInt(i),
      value: { case: 'asInt' as const, value: BigInt(i * 7) },
    });
  }
  const request = create(ExportMetricsServiceRequestSchema, {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { value: { case: 'stringValue', value: 'bench' } } }] },
        scopeMetrics: [
          {
            scope: { name: 'bench', version: '1.0.0' },
            metrics: [
              {
                name: 'requests',
                unit: '{request}',
                data: {
                  case: 'sum',
                  value: { aggregationTemporality: AggregationTemporality.DELTA, isMonotonic: true, dataPoints },
                },
              },
            ],
          },
        ],
      },
    ],
  });
  return toBinary(ExportMetricsServiceRequestSchema, request);
}

/** One implementation's call, set up: `send` resolves when the server acknowledged. */
interface Sender {
  send(body: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

function oursSender(t: Transport): Sender {
  return {
    async send(body) {
      const r = await t.export('metrics', body);
      if (r.kind !== 'ok') throw new Error(`export failed: ${JSON.stringify(r)}`);
    },
    close: () => t.close(),
  };
}

// The official delegates take an "internal representation" and serialize it; ours is the bytes.
const passThrough: ISerializer<Uint8Array, unknown> = {
  serializeRequest: (body) => body,
  deserializeResponse: (data) => ProtobufMetricsSerializer.deserializeResponse(data),
};
const countNothing: IExporterMetricsHelper<Uint8Array> = { name: 'metric_data_point', countItems: () => 0 };

function officialSender(delegate: ReturnType<typeof createOtlpHttpExportDelegate<Uint8Array, unknown>>): Sender {
  return {
    send(body) {
      return new Promise((resolve, reject) => {
        delegate.export(body, (result: ExportResult) => {
          if (result.code === ExportResultCode.SUCCESS) resolve();
          else reject(result.error ?? new Error('export failed'));
        });
      });
    },
    close: () => delegate.shutdown(),
  };
}

function url(name: string): string {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} is not set: run this file without --bench-child`);
  return v;
}

const setups: Record<'grpc' | 'http', Record<'ours' | 'official', () => Sender>> = {
  grpc: {
    ours: () => oursSender(createOtlpGrpcTransport({ endpoint: url(GRPC_ENV) })),
    official: () =>
      officialSender(
        createOtlpGrpcExportDelegate(
          convertLegacyOtlpGrpcOptions({ url: url(GRPC_ENV) }, 'METRICS'),
          passThrough,
          'otlp_grpc_metric_exporter',
          countNothing,
          undefined,
          'MetricsExportService',
          '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
        ),
      ),
  },
  http: {
    ours: () => oursSender(createOtlpHttpTransport({ endpoint: url(HTTP_ENV) })),
    official: () =>
      officialSender(
        createOtlpHttpExportDelegate(
          convertLegacyHttpOptions({ url: `${url(HTTP_ENV)}/v1/metrics` }, 'METRICS', 'v1/metrics', {
            'Content-Type': 'application/x-protobuf',
          }),
          passThrough,
          'otlp_http_metric_exporter',
          countNothing,
          undefined,
        ),
      ),
  },
};

function withTimeout(p: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`call took more than ${CALL_TIMEOUT_MS} ms`)), CALL_TIMEOUT_MS);
    timer.unref();
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Microseconds of process CPU per call after a warm-up and a GC. */
async function measure(protocol: 'grpc' | 'http', impl: 'ours' | 'official', size: Size): Promise<number> {
  const body = buildBody(size.points);
  const sender = setups[protocol][impl]();
  const calls = Number(process.env.TRANSPORT_BENCH_CALLS ?? size.calls);
  for (let i = 0; i < size.warmup; i++) await withTimeout(sender.send(body));
  (globalThis as { gc?: () => void }).gc?.();
  const t0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) await withTimeout(sender.send(body));
  const used = process.cpuUsage(t0);
  await sender.close();
  // The user/system split shows kernel (loopback TCP) work apart from JavaScript work.
  process.stderr.write(`  ${impl}: user ${(used.user / calls).toFixed(0)} µs, system ${(used.system / calls).toFixed(0)} µs per call\n`);
  return (used.user + used.system) / calls;
}

const cases: BenchCase[] = [];
for (const [protocol, label] of [
  ['grpc', 'gRPC'],
  ['http', 'HTTP/protobuf'],
] as const) {
  for (const size of [SMALL, LARGE]) {
    cases.push({
      kind: 'value',
      name: `${label}, ${size.name}`,
      unit: 'µs CPU/call',
      impls: { ours: () => measure(protocol, 'ours', size), official: () => measure(protocol, 'official', size) },
    });
  }
}

const isChild = process.argv.includes('--bench-child');
const receivers = isChild ? [] : await Promise.all([startGrpcReceiver(), startHttpReceiver()]);
if (!isChild) {
  // Children inherit the environment: that is how they find the parent's receivers.
  process.env[GRPC_ENV] = receivers[0]!.url;
  process.env[HTTP_ENV] = receivers[1]!.url;
  process.stderr.write(`bodies: small ${buildBody(SMALL.points).length} bytes, large ${buildBody(LARGE.points).length} bytes\n`);
}
try {
  await runBench(import.meta.url, { title: 'Transport', cases });
} finally {
  for (const r of receivers) {
    if (r.tally.errors.length > 0) process.stderr.write(`receiver errors: ${r.tally.errors.slice(0, 3).join('; ')}\n`);
    await r.close();
  }
}
