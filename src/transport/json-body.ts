/**
 * Turning an encoded protobuf request into an OTLP/JSON body, for callers of the JSON
 * transport that only hold protobuf bytes (the direct encoders produce protobuf).
 */
import type { DescMessage } from '@bufbuild/protobuf';
import { protobufToJson } from '../otlp/json-from-protobuf.js';
import type { Signal } from '../otlp/types.js';
import { signalSchemas } from '../otlp/signal-schemas.js';

/**
 * Converts `protobufBytes`, the Export request of `signal`, to OTLP/JSON (UTF-8) by
 * transcoding the wire format directly (no message objects; the same JSON value as
 * `encodeJson` of the decoded request). Throws `WireFormatError` for bytes that are
 * not such a request.
 */
export function protobufToJsonBody(signal: Signal, protobufBytes: Uint8Array): Uint8Array {
  const schema: DescMessage = signalSchemas[signal].request;
  return protobufToJson(schema, protobufBytes);
}
