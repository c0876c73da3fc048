/**
 * Real peers: the official OpenTelemetry JS exporters (gRPC, HTTP/protobuf, HTTP/JSON;
 * metrics, logs, traces) send through the gateway to two upstream receivers (one OTLP/gRPC,
 * one OTLP/HTTP protobuf). The same data is also exported straight to a reference receiver
 * with the same exporter type: both upstreams must receive exactly what the reference got —
 * byte for byte when the client sent protobuf, the same message when it sent JSON.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { toBinary } from '@bufbuild/protobuf';
import type { DescMessage, Message } from '@bufbuild/protobuf';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ExportLogsServiceRequestSchema } from '../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import { ExportMetricsServiceRequestSchema } from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { ExportTraceServiceRequestSchema } from '../../gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js';
import type { Signal } from '../../src/otlp/types.js';
import { ofSignal, startReceiver } from '../support/receiver.js';
import type { ReceivedRequest, Receiver, ReceiverProtocol } from '../support/receiver.js';
import { exportMetrics } from '../interop/official-exporters.js';
import { emitOfficialLogs, recordOfficialMetrics, recordOfficialSpans } from '../interop/official-sdk.js';
import { eventually, grpcEndpoint, startTestGateway } from './harness.js';
import type { TestGateway } from './harness.js';

const test = suite('gateway/interop: official exporters → gateway → two upstreams');

/** Where an exporter sends: a gRPC base URL, or an OTLP/HTTP base URL. */
interface Target {
  readonly grpc: string;
  readonly http: string;
}

type Compression = NonNullable<NonNullable<ConstructorParameters<typeof ProtoMetricExporter>[0]>['compression']>;
const common = { timeoutMillis: 3000, compression: 'none' as Compression };

function metricExporter(p: ReceiverProtocol, to: Target): PushMetricExporter {
  if (p === 'grpc') return new GrpcMetricExporter({ ...common, url: to.grpc });
  const url = `${to.http}/v1/metrics`;
  return p === 'http/protobuf' ? new ProtoMetricExporter({ ...common, url }) : new JsonMetricExporter({ ...common, url });
}

function logExporter(p: ReceiverProtocol, to: Target): LogRecordExporter {
  if (p === 'grpc') return new GrpcLogExporter({ ...common, url: to.grpc });
  const url = `${to.http}/v1/logs`;
  return p === 'http/protobuf' ? new ProtoLogExporter({ ...common, url }) : new JsonLogExporter({ ...common, url });
}

function spanExporter(p: ReceiverProtocol, to: Target): SpanExporter {
  if (p === 'grpc') return new GrpcTraceExporter({ ...common, url: to.grpc });
  const url = `${to.http}/v1/traces`;
  return p === 'http/protobuf' ? new ProtoTraceExporter({ ...common, url }) : new JsonTraceExporter({ ...common, url });
}

const SCHEMAS: Record<Signal, DescMessage> = {
  metrics: ExportMetricsServiceRequestSchema,
  logs: ExportLogsServiceRequestSchema,
  traces: ExportTraceServiceRequestSchema,
};

/**
 * The top-level fields (resource entries) of an encoded request, hex. The gateway may merge
 * a backlog of requests into one (their entries concatenated), so upstreams are compared
 * entry by entry rather than request by request.
 */
function entries(bytes: Uint8Array): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < bytes.length) {
    const start = at;
    at++; // tag: field 1, length-delimited, one byte
    let length = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = bytes[at++]!;
      length |= (b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    at += length;
    out.push(Buffer.from(bytes.subarray(start, at)).toString('hex'));
  }
  return out;
}

/** The canonical form of each resource entry (re-encoded from the decoded request), to compare unordered lists. */
function canonical(rs: readonly ReceivedRequest[]): string[] {
  return rs.flatMap((r) => entries(toBinary(SCHEMAS[r.signal], r.message as Message))).sort();
}

let gRx: Receiver;
let hRx: Receiver;
let ref: Receiver;
let gw: TestGateway;
let viaGateway: Target;
let direct: Target;

test.before(async () => {
  [gRx, hRx, ref] = await Promise.all([startReceiver({ http: false }), startReceiver({ grpc: false }), startReceiver()]);
  gw = await startTestGateway({ upstreams: { grpc: { endpoint: grpcEndpoint(gRx.grpcUrl) }, http: { endpoint: hRx.httpUrl } } });
  viaGateway = { grpc: gw.grpcUrl, http: gw.httpUrl };
  direct = { grpc: ref.grpcUrl, http: ref.httpUrl };
});

test.after(async () => {
  await gw.close();
  await Promise.all([gRx.close(), hRx.close(), ref.close()]);
});

test.before.each(() => {
  for (const rx of [gRx, hRx, ref]) rx.clear();
});

async function compare(signal: Signal, protocol: ReceiverProtocol, count: number): Promise<void> {
  const reference = ref.requests.filter(ofSignal(signal, protocol));
  assert.is(reference.length, count);
  const want = canonical(reference);
  const arrived = (rx: Receiver): number => canonical(rx.requests.filter(ofSignal(signal))).length;
  await eventually(
    () => arrived(gRx) === want.length && arrived(hRx) === want.length,
    3000,
    `${want.length} ${signal} resource entries at both upstreams`,
  );
  for (const upstream of [gRx, hRx]) {
    const got = upstream.requests.filter(ofSignal(signal));
    assert.ok(got.length >= 1 && got.length <= count, `${got.length} requests for ${count} sent`);
    if (protocol !== 'http/json') {
      const hex = (rs: readonly ReceivedRequest[]) => rs.flatMap((r) => entries(r.bytes)).sort();
      assert.equal(hex(got), hex(reference), 'byte-identical to what the exporter sent');
    }
    assert.equal(canonical(got), want);
  }
}

for (const protocol of ['grpc', 'http/protobuf', 'http/json'] as const) {
  test(`${protocol}: metrics`, async () => {
    const metrics = await recordOfficialMetrics();
    for (const to of [viaGateway, direct]) {
      const exporter = metricExporter(protocol, to);
      const result = await exportMetrics(exporter, metrics);
      assert.is(result.code, 0, String(result.error));
      await exporter.shutdown();
    }
    await compare('metrics', protocol, 1);
  });

  test(`${protocol}: logs`, async () => {
    const sent = await emitOfficialLogs([logExporter(protocol, viaGateway), logExporter(protocol, direct)]);
    await compare('logs', protocol, sent.length);
  });

  test(`${protocol}: traces`, async () => {
    const sent = await recordOfficialSpans([spanExporter(protocol, viaGateway), spanExporter(protocol, direct)]);
    await compare('traces', protocol, sent.length);
  });
}

test('the gateway saw every request as accepted, none refused', () => {
  assert.is(gw.seen.refused.length, 0);
  assert.is(gw.seen.requests.length, 3 * (1 + 11 + 5));
  assert.equal(new Set(gw.seen.requests.map((r) => r.protocol)), new Set(['grpc', 'http/protobuf', 'http/json']));
});

test.run();
