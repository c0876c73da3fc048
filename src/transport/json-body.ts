/**
 * Turning an encoded protobuf request into an OTLP/JSON body, for callers of the JSON
 * transport that only hold protobuf bytes (the direct encoders produce protobuf).
 */
import type { DescMessage } from '@bufbuild/protobuf';
import { protobufToJson } from '../otlp/json-from-protobuf.js';
import type { Signal } from '../otlp/types.js';
import { signalSchemas } from '../otlp/signal-schemas.js';
import { TransportError } from './errors.js';
import type { Transport } from './types.js';

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

/**
 * A layer in front of `json`, a transport that sends OTLP/JSON: it takes protobuf bodies and
 * converts each one when it is sent. The library's backends queue protobuf and convert here,
 * at the last moment, so that the converter (protobuf-es reflection and the schemas, which
 * cost start-up time, see src/otlp/decode.ts) loads only with a JSON target and the queue
 * holds the smaller bytes. A retry converts again: retries are rare, and keeping the JSON
 * would double what a queue of a backend that is down holds.
 */
export function protobufOverJson(json: Transport): Transport {
  return {
    encoding: 'protobuf',
    export(signal, body, options) {
      let converted: Uint8Array;
      try {
        converted = protobufToJsonBody(signal, body);
      } catch (err) {
        return Promise.resolve({
          kind: 'failed',
          retryable: false,
          error: new TransportError('internal', `could not convert a ${signal} request to OTLP/JSON: ${String(err)}`, undefined, { cause: err }),
        });
      }
      return json.export(signal, converted, options);
    },
    close: () => json.close(),
  };
}
