/**
 * The generated schemas and services of each OTLP signal, so transports can go from
 * a `Signal` to what goes on the wire.
 */
import {
  ExportLogsServiceRequestSchema,
  ExportLogsServiceResponseSchema,
  LogsService,
} from '../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import {
  ExportMetricsServiceRequestSchema,
  ExportMetricsServiceResponseSchema,
  MetricsService,
} from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import {
  ExportTraceServiceRequestSchema,
  ExportTraceServiceResponseSchema,
  TraceService,
} from '../../gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js';

/** Request schema, response schema and gRPC service of each signal. */
export const signalSchemas = {
  metrics: {
    request: ExportMetricsServiceRequestSchema,
    response: ExportMetricsServiceResponseSchema,
    service: MetricsService,
  },
  logs: {
    request: ExportLogsServiceRequestSchema,
    response: ExportLogsServiceResponseSchema,
    service: LogsService,
  },
  traces: {
    request: ExportTraceServiceRequestSchema,
    response: ExportTraceServiceResponseSchema,
    service: TraceService,
  },
} as const;

