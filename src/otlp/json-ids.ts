/**
 * The OTLP bytes fields written as hex in OTLP/JSON (trace and span ids), shared by
 * the reflective mapping (`json.ts`) and the direct transcoder (`json-from-protobuf.ts`)
 * so that both agree on which fields they are.
 */
import type { DescField } from '@bufbuild/protobuf';
import { ExemplarSchema } from '../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import { LogRecordSchema } from '../../gen/opentelemetry/proto/logs/v1/logs_pb.js';
import { Span_LinkSchema, SpanSchema } from '../../gen/opentelemetry/proto/trace/v1/trace_pb.js';

/**
 * Id field → its length in bytes (16 for trace ids, 8 for span ids). The OTLP spec
 * lists exactly these: Span trace_id/span_id/parent_span_id, Span.Link, LogRecord and
 * Exemplar trace_id/span_id; every other bytes field stays base64.
 */
export const hexIdFields: ReadonlyMap<DescField, number> = new Map<DescField, number>([
  [SpanSchema.field.traceId!, 16],
  [SpanSchema.field.spanId!, 8],
  [SpanSchema.field.parentSpanId!, 8],
  [Span_LinkSchema.field.traceId!, 16],
  [Span_LinkSchema.field.spanId!, 8],
  [LogRecordSchema.field.traceId!, 16],
  [LogRecordSchema.field.spanId!, 8],
  [ExemplarSchema.field.traceId!, 16],
  [ExemplarSchema.field.spanId!, 8],
]);
