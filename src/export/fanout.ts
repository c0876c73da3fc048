/**
 * Hands one encoded request to several backends: they share the very same bytes. Every
 * backend `createTelemetry()` builds takes protobuf; an OTLP/JSON target converts when it
 * sends (export/transport-factory.ts), so the converter loads only with such a target.
 * Never waits on a backend (enqueue is synchronous and bounded).
 */
import type { Signal } from '../otlp/types.js';
import type { Backend } from './backend.js';

/** Returns how many backends accepted the request. */
export function fanOut(backends: readonly Backend[], signal: Signal, body: Uint8Array, items: number): number {
  let accepted = 0;
  for (const b of backends) if (b.enqueue(signal, body, items)) accepted++;
  return accepted;
}
