/**
 * The nine official OTLP exporters (metrics, logs, traces × gRPC, HTTP/protobuf, HTTP/JSON),
 * pointed at a test receiver, with a short timeout so that a broken receiver fails a test quickly.
 */
import type { ExportResult } from '@opentelemetry/core';
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Receiver, ReceiverProtocol } from '../support/receiver.js';
import { logsGrpc, logsJson, logsProto, metricsGrpc, metricsJson, metricsProto, traceGrpc, traceJson, traceProto } from './official.js';

const { OTLPLogExporter: GrpcLogExporter } = logsGrpc;
const { OTLPLogExporter: JsonLogExporter } = logsJson;
const { OTLPLogExporter: ProtoLogExporter } = logsProto;
const { OTLPMetricExporter: GrpcMetricExporter } = metricsGrpc;
const { OTLPMetricExporter: JsonMetricExporter } = metricsJson;
const { OTLPMetricExporter: ProtoMetricExporter } = metricsProto;
const { OTLPTraceExporter: GrpcTraceExporter } = traceGrpc;
const { OTLPTraceExporter: JsonTraceExporter } = traceJson;
const { OTLPTraceExporter: ProtoTraceExporter } = traceProto;

/** The three wire protocols, in the order the suites run them. */
export const PROTOCOLS: readonly ReceiverProtocol[] = ['grpc', 'http/protobuf', 'http/json'];

// The config enum lives in @opentelemetry/otlp-exporter-base, which we do not depend on directly.
type Compression = NonNullable<NonNullable<ConstructorParameters<typeof ProtoMetricExporter>[0]>['compression']>;
const GZIP = 'gzip' as Compression;
const NONE = 'none' as Compression;

/** Options shared by the exporters: 2 s timeout, optional gzip, and a header to trace requests. */
function base(gzip: boolean): { timeoutMillis: number; compression: Compression } {
  return { timeoutMillis: 2000, compression: gzip ? GZIP : NONE };
}

const HEADERS = { 'x-interop': 'official' };

/** The official metric exporter for `protocol`, sending to `rx`. */
export function officialMetricExporter(protocol: ReceiverProtocol, rx: Receiver, gzip = false): PushMetricExporter {
  switch (protocol) {
    case 'grpc':
      return new GrpcMetricExporter({ ...base(gzip), url: rx.grpcUrl });
    case 'http/protobuf':
      return new ProtoMetricExporter({ ...base(gzip), url: rx.httpEndpoint('metrics'), headers: HEADERS });
    case 'http/json':
      return new JsonMetricExporter({ ...base(gzip), url: rx.httpEndpoint('metrics'), headers: HEADERS });
  }
}

/** The official log exporter for `protocol`, sending to `rx`. */
export function officialLogExporter(protocol: ReceiverProtocol, rx: Receiver, gzip = false): LogRecordExporter {
  switch (protocol) {
    case 'grpc':
      return new GrpcLogExporter({ ...base(gzip), url: rx.grpcUrl });
    case 'http/protobuf':
      return new ProtoLogExporter({ ...base(gzip), url: rx.httpEndpoint('logs'), headers: HEADERS });
    case 'http/json':
      return new JsonLogExporter({ ...base(gzip), url: rx.httpEndpoint('logs'), headers: HEADERS });
  }
}

/** The official span exporter for `protocol`, sending to `rx`. */
export function officialSpanExporter(protocol: ReceiverProtocol, rx: Receiver, gzip = false): SpanExporter {
  switch (protocol) {
    case 'grpc':
      return new GrpcTraceExporter({ ...base(gzip), url: rx.grpcUrl });
    case 'http/protobuf':
      return new ProtoTraceExporter({ ...base(gzip), url: rx.httpEndpoint('traces'), headers: HEADERS });
    case 'http/json':
      return new JsonTraceExporter({ ...base(gzip), url: rx.httpEndpoint('traces'), headers: HEADERS });
  }
}

/** Exports once with a callback-style exporter and resolves with its result. */
export function exportMetrics(exporter: PushMetricExporter, metrics: ResourceMetrics): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(metrics, resolve));
}
