/**
 * The per-signal message work the gateway does besides zero-decode scanning: decode,
 * encode, take a subset of resource entries, and build Export responses.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  ExportLogsServiceRequestSchema,
  ExportLogsServiceResponseSchema,
} from '../../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import {
  ExportMetricsServiceRequestSchema,
  ExportMetricsServiceResponseSchema,
} from '../../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import {
  ExportTraceServiceRequestSchema,
  ExportTraceServiceResponseSchema,
} from '../../../gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js';
import { decodeJson, encodeJson, encodeJsonString } from '../../otlp/json.js';
import type { Signal } from '../../otlp/types.js';
import type { DecodedRequest } from '../observe/events.js';

/** Decodes an Export request; throws the protobuf-es error or OtlpJsonError. */
export function decodeRequest(signal: Signal, body: Uint8Array, encoding: 'protobuf' | 'json'): DecodedRequest {
  switch (signal) {
    case 'metrics':
      return {
        signal,
        message:
          encoding === 'json' ? decodeJson(ExportMetricsServiceRequestSchema, body) : fromBinary(ExportMetricsServiceRequestSchema, body),
      };
    case 'logs':
      return {
        signal,
        message: encoding === 'json' ? decodeJson(ExportLogsServiceRequestSchema, body) : fromBinary(ExportLogsServiceRequestSchema, body),
      };
    case 'traces':
      return {
        signal,
        message: encoding === 'json' ? decodeJson(ExportTraceServiceRequestSchema, body) : fromBinary(ExportTraceServiceRequestSchema, body),
      };
  }
}

/** Encodes a decoded request as protobuf or OTLP/JSON. */
export function encodeRequest(d: DecodedRequest, encoding: 'protobuf' | 'json'): Uint8Array {
  switch (d.signal) {
    case 'metrics':
      return encoding === 'json' ? encodeJson(ExportMetricsServiceRequestSchema, d.message) : toBinary(ExportMetricsServiceRequestSchema, d.message);
    case 'logs':
      return encoding === 'json' ? encodeJson(ExportLogsServiceRequestSchema, d.message) : toBinary(ExportLogsServiceRequestSchema, d.message);
    case 'traces':
      return encoding === 'json' ? encodeJson(ExportTraceServiceRequestSchema, d.message) : toBinary(ExportTraceServiceRequestSchema, d.message);
  }
}

const EMPTY = new Uint8Array(0);

/** The Export response encoded for OTLP/HTTP. */
export function encodeExportResponse(signal: Signal, rejected: number, errorMessage: string, encoding: 'protobuf' | 'json'): Uint8Array | string {
  const partial = rejected > 0 || errorMessage !== '';
  // Full success, the common answer, is the same for every signal: an empty message.
  if (!partial) return encoding === 'json' ? '{}' : EMPTY;
  switch (signal) {
    case 'metrics': {
      const m = create(ExportMetricsServiceResponseSchema, partial ? { partialSuccess: { rejectedDataPoints: BigInt(rejected), errorMessage } } : {});
      return encoding === 'json' ? encodeJsonString(ExportMetricsServiceResponseSchema, m) : toBinary(ExportMetricsServiceResponseSchema, m);
    }
    case 'logs': {
      const m = create(ExportLogsServiceResponseSchema, partial ? { partialSuccess: { rejectedLogRecords: BigInt(rejected), errorMessage } } : {});
      return encoding === 'json' ? encodeJsonString(ExportLogsServiceResponseSchema, m) : toBinary(ExportLogsServiceResponseSchema, m);
    }
    case 'traces': {
      const m = create(ExportTraceServiceResponseSchema, partial ? { partialSuccess: { rejectedSpans: BigInt(rejected), errorMessage } } : {});
      return encoding === 'json' ? encodeJsonString(ExportTraceServiceResponseSchema, m) : toBinary(ExportTraceServiceResponseSchema, m);
    }
  }
}
