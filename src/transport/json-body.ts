/**
 * Turning an encoded protobuf request into an OTLP/JSON body, for callers of the JSON
 * transport that only hold protobuf bytes (the direct encoders produce protobuf).
 */
import { fromBinary } from '@bufbuild/protobuf';
import type { DescMessage } from '@bufbuild/protobuf';
import { encodeJson } from '../otlp/json.js';
import type { Signal } from '../otlp/types.js';
import { signalSchemas } from './signals.js';

/**
 * Decodes `protobufBytes` as the Export request of `signal` and encodes it as OTLP/JSON
 * (UTF-8). Throws the protobuf-es decode error for bytes that are not such a request.
 */
export function protobufToJsonBody(signal: Signal, protobufBytes: Uint8Array): Uint8Array {
  const schema: DescMessage = signalSchemas[signal].request;
  return encodeJson(schema, fromBinary(schema, protobufBytes));
}
