/**
 * A sink that keeps every batch in memory and decodes it with the generated schema: for tests, and
 * for applications that inspect their own logs.
 */
import type { ExportLogsServiceRequest } from '../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import type { LogRecord } from '../../gen/opentelemetry/proto/logs/v1/logs_pb.js';
import { decodeExportRequest } from '../otlp/decode.js';
import type { LogBatchSink } from './sink.js';

/** An in-memory `LogBatchSink` and readers of what it received. */
export interface InMemoryLogSink extends LogBatchSink {
  /** The request bodies received, oldest first. */
  readonly bodies: readonly Uint8Array[];
  /** Every body decoded with `fromBinary(ExportLogsServiceRequestSchema, …)`. */
  requests(): ExportLogsServiceRequest[];
  /** Every log record of every request, in order. */
  logRecords(): LogRecord[];
  /** Forgets what was received. */
  reset(): void;
}

/** Creates an in-memory sink. It accepts every batch synchronously. */
export function createInMemoryLogSink(): InMemoryLogSink {
  const bodies: Uint8Array[] = [];
  const requests = (): ExportLogsServiceRequest[] => bodies.map((b) => decodeExportRequest('logs', b));
  return {
    bodies,
    export(body: Uint8Array): void {
      bodies.push(body);
    },
    requests,
    logRecords(): LogRecord[] {
      const out: LogRecord[] = [];
      for (const req of requests()) {
        for (const rl of req.resourceLogs) for (const sl of rl.scopeLogs) out.push(...sl.logRecords);
      }
      return out;
    },
    reset(): void {
      bodies.length = 0;
    },
  };
}
