/**
 * Decoding an Export request into the generated messages, with protobuf-es reflection. For
 * readers that want message objects (the in-memory backend, `collectMessages()`, tests), never
 * for the export path: the library's main entry loads this module with `import()` on first use,
 * because reflection and the generated schemas are most of what importing protobuf-es costs
 * (~80 ms and ~5 MiB of RSS at start-up, `npm run bench:startup`).
 */
import { fromBinary } from '@bufbuild/protobuf';
import { ExportLogsServiceRequestSchema, type ExportLogsServiceRequest } from '../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import {
  ExportMetricsServiceRequestSchema,
  type ExportMetricsServiceRequest,
} from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import {
  ExportTraceServiceRequestSchema,
  type ExportTraceServiceRequest,
} from '../../gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js';
import type { Signal } from './types.js';

/** The decoded Export request of each signal. */
export interface ExportRequestOf {
  readonly metrics: ExportMetricsServiceRequest;
  readonly logs: ExportLogsServiceRequest;
  readonly traces: ExportTraceServiceRequest;
}

/** Decodes `body`, an Export request of `signal`; throws for bytes that are not one. */
export function decodeExportRequest<S extends Signal>(signal: S, body: Uint8Array): ExportRequestOf[S] {
  const decoded =
    signal === 'metrics'
      ? fromBinary(ExportMetricsServiceRequestSchema, body)
      : signal === 'logs'
        ? fromBinary(ExportLogsServiceRequestSchema, body)
        : fromBinary(ExportTraceServiceRequestSchema, body);
  return decoded as ExportRequestOf[S];
}
