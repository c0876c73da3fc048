/**
 * The console backend's transport (OTEL_METRICS_EXPORTER / OTEL_LOGS_EXPORTER = console):
 * one OTLP/JSON line per request on a writable, for local debugging. The JSON is the
 * OTLP mapping, so it can be replayed to a collector's OTLP/HTTP JSON endpoint. The converter
 * is loaded on the first export (it needs protobuf-es reflection, see src/otlp/decode.ts).
 */
import type { Transport } from '../transport/types.js';
import { TransportError } from '../transport/errors.js';

/** Anything with a `write(chunk)`, such as `process.stdout`. */
export interface LineSink {
  write(chunk: string): unknown;
}

export function createConsoleTransport(out: LineSink = process.stdout): Transport {
  const decoder = new TextDecoder();
  let converter: Promise<typeof import('../transport/json-body.js')> | undefined;
  return {
    encoding: 'protobuf',
    async export(signal, body) {
      try {
        const { protobufToJsonBody } = await (converter ??= import('../transport/json-body.js'));
        out.write(`${JSON.stringify({ signal, request: JSON.parse(decoder.decode(protobufToJsonBody(signal, body))) as unknown })}\n`);
        return { kind: 'ok' };
      } catch (err) {
        return {
          kind: 'failed',
          retryable: false,
          error: new TransportError('internal', `console backend could not print a ${signal} request: ${String(err)}`),
        };
      }
    },
    close() {
      return Promise.resolve();
    },
  };
}
