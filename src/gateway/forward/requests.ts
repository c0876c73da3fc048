/**
 * The per-signal message work the gateway does besides zero-decode scanning: decode and
 * encode whole requests, and encode Export responses for OTLP/HTTP. The schemas and the
 * partial-success rule come from the signal table (otlp/signals.ts, otlp/signal-schemas.ts).
 */
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DescMessage } from '@bufbuild/protobuf';
import { encodeMetricsRequest } from '../../otlp/encode/metrics-request.js';
import { decodeJson, encodeJson, encodeJsonString } from '../../otlp/json.js';
import { exportResponse, signalSchemas } from '../../otlp/signal-schemas.js';
import { isPartialSuccess } from '../../otlp/signals.js';
import type { Signal } from '../../otlp/types.js';
import type { DecodedRequest } from '../observe/events.js';

/** Decodes an Export request; throws the protobuf-es error or OtlpJsonError. */
export function decodeRequest(signal: Signal, body: Uint8Array, encoding: 'protobuf' | 'json'): DecodedRequest {
  // Widened once here: the three signals differ only in their message types.
  const schema: DescMessage = signalSchemas[signal].request;
  const message = encoding === 'json' ? decodeJson(schema, body) : fromBinary(schema, body);
  return { signal, message } as DecodedRequest;
}

/** Encodes a decoded request as protobuf or OTLP/JSON. */
export function encodeRequest(d: DecodedRequest, encoding: 'protobuf' | 'json'): Uint8Array {
  // Metrics to protobuf (every OTLP/HTTP JSON metrics request): the direct encoder, byte-identical
  // to toBinary and ~3× faster (BENCHMARKS.md, Encode); a decoded JSON request has no unknown fields to lose.
  if (d.signal === 'metrics' && encoding === 'protobuf') return encodeMetricsRequest(d.message);
  const schema: DescMessage = signalSchemas[d.signal].request;
  return encoding === 'json' ? encodeJson(schema, d.message) : toBinary(schema, d.message);
}

const EMPTY = new Uint8Array(0);

/** The Export response encoded for OTLP/HTTP. */
export function encodeExportResponse(signal: Signal, rejected: number, errorMessage: string, encoding: 'protobuf' | 'json'): Uint8Array | string {
  // Full success, the common answer, is the same for every signal: an empty message.
  if (!isPartialSuccess(rejected, errorMessage)) return encoding === 'json' ? '{}' : EMPTY;
  const schema: DescMessage = signalSchemas[signal].response;
  const m = exportResponse(signal, rejected, errorMessage);
  return encoding === 'json' ? encodeJsonString(schema, m) : toBinary(schema, m);
}
