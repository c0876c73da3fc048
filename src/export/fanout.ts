/**
 * Hands one encoded request to several backends: protobuf backends share the very same
 * bytes; JSON backends share one JSON encoding made on first need. Never waits on a
 * backend (enqueue is synchronous and bounded).
 */
import type { Signal } from '../otlp/types.js';
import { protobufToJsonBody } from '../transport/json-body.js';
import { warnOnce } from '../internal/warn.js';
import type { Backend } from './backend.js';

/** Returns how many backends accepted the request. */
export function fanOut(backends: readonly Backend[], signal: Signal, body: Uint8Array, items: number): number {
  let json: Uint8Array | undefined;
  let accepted = 0;
  for (const b of backends) {
    let payload = body;
    if (b.encoding === 'json') {
      try {
        json ??= protobufToJsonBody(signal, body);
      } catch (err) {
        warnOnce(`fanout-json:${signal}`, `could not convert a ${signal} request to OTLP/JSON: ${String(err)}`);
        continue;
      }
      payload = json;
    }
    if (b.enqueue(signal, payload, items)) accepted++;
  }
  return accepted;
}
