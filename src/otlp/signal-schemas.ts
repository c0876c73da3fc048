/**
 * The generated schemas and services of each OTLP signal, and the Export responses built and
 * read with them: the schema-bearing half of the signal table (the schema-free half, with the
 * partial-success rule, is signals.ts). Transports go from a `Signal` to what goes on the wire
 * here; receivers build their answers here.
 */
import { create } from '@bufbuild/protobuf';
import {
  ExportLogsServiceRequestSchema,
  ExportLogsServiceResponseSchema,
  LogsService,
} from '../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import type { ExportLogsServiceResponse } from '../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import {
  ExportMetricsServiceRequestSchema,
  ExportMetricsServiceResponseSchema,
  MetricsService,
} from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import type { ExportMetricsServiceResponse } from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import {
  ExportTraceServiceRequestSchema,
  ExportTraceServiceResponseSchema,
  TraceService,
} from '../../gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js';
import type { ExportTraceServiceResponse } from '../../gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js';
import { isPartialSuccess, SIGNAL_SPECS, SIGNALS } from './signals.js';
import type { SignalSpec } from './signals.js';
import type { Signal } from './types.js';

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

/** Any of the three OTLP export responses. */
export type ExportServiceResponse = ExportMetricsServiceResponse | ExportLogsServiceResponse | ExportTraceServiceResponse;

/** What a server reported as rejected; `rejected` may be 0 with a warning `message`. */
export interface PartialSuccess {
  readonly rejected: number;
  readonly message: string;
}

// Full success, the common answer, is the same empty message for every signal: built once.
const FULL_SUCCESS: { readonly [S in Signal]: ExportServiceResponse } = {
  metrics: create(ExportMetricsServiceResponseSchema),
  logs: create(ExportLogsServiceResponseSchema),
  traces: create(ExportTraceServiceResponseSchema),
};

/**
 * The Export response of `signal` for a request whose `rejected` items were dropped, with
 * `message` for the client: `partial_success` set exactly when {@link isPartialSuccess} says so.
 * The full-success answer is a shared message: do not modify it.
 */
export function exportResponse(signal: Signal, rejected: number, message: string): ExportServiceResponse {
  if (!isPartialSuccess(rejected, message)) return FULL_SUCCESS[signal];
  const partialSuccess = { [SIGNAL_SPECS[signal].rejectedField]: BigInt(rejected), errorMessage: message };
  // One init shape for the three response types: they differ only in the count field's name.
  return create(signalSchemas[signal].response as typeof ExportMetricsServiceResponseSchema, { partialSuccess });
}

const REJECTED_FIELD: ReadonlyMap<string, SignalSpec['rejectedField']> = new Map(
  SIGNALS.map((s) => [SIGNAL_SPECS[s].partialSuccessType, SIGNAL_SPECS[s].rejectedField]),
);

/**
 * The partial success in `response`, or undefined when the server took everything (by
 * {@link isPartialSuccess}: the field unset, or set with a zero count and an empty message,
 * which the spec forbids but which means the same).
 */
export function readPartialSuccess(response: ExportServiceResponse): PartialSuccess | undefined {
  const p = response.partialSuccess;
  if (p === undefined) return undefined;
  const count = (p as unknown as Readonly<Record<string, bigint>>)[REJECTED_FIELD.get(p.$typeName)!]!;
  // A negative count is a server bug; report it as 0 rather than a negative number of items.
  const rejected = count < 0n ? 0 : Number(count);
  return isPartialSuccess(rejected, p.errorMessage) ? { rejected, message: p.errorMessage } : undefined;
}
