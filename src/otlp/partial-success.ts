/**
 * Reading OTLP partial success out of Export*ServiceResponse messages. The three
 * signals name the rejected count differently; this is the one place that knows.
 */
import type { ExportLogsServiceResponse } from '../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import type { ExportMetricsServiceResponse } from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import type { ExportTraceServiceResponse } from '../../gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js';

/** Any of the three OTLP export responses. */
export type ExportServiceResponse = ExportMetricsServiceResponse | ExportLogsServiceResponse | ExportTraceServiceResponse;

/** What a server reported as rejected; `rejected` may be 0 with a warning `message`. */
export interface PartialSuccess {
  readonly rejected: number;
  readonly message: string;
}

/**
 * The partial success in `response`, or undefined when the server took everything
 * (field unset, or set with a zero count and an empty message: the spec says such a
 * server "MUST leave the field unset", but an all-default value means the same).
 */
export function readPartialSuccess(response: ExportServiceResponse): PartialSuccess | undefined {
  const p = response.partialSuccess;
  if (p === undefined) return undefined;
  let rejected: bigint;
  switch (p.$typeName) {
    case 'opentelemetry.proto.collector.metrics.v1.ExportMetricsPartialSuccess':
      rejected = p.rejectedDataPoints;
      break;
    case 'opentelemetry.proto.collector.logs.v1.ExportLogsPartialSuccess':
      rejected = p.rejectedLogRecords;
      break;
    case 'opentelemetry.proto.collector.trace.v1.ExportTracePartialSuccess':
      rejected = p.rejectedSpans;
      break;
  }
  if (rejected === 0n && p.errorMessage === '') return undefined;
  // A negative count is a server bug; report it as 0 rather than a negative number of items.
  return { rejected: rejected < 0n ? 0 : Number(rejected), message: p.errorMessage };
}
