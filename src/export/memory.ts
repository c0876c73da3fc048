/**
 * The in-memory backend's transport: it keeps every request it is given, decoded
 * into the generated OTLP messages, so that users' own tests can assert on their
 * instrumentation without a network. It sits behind the same queue, batching and
 * temporality as a network backend, so what it holds is exactly what would have
 * been sent.
 *
 * The decoder (protobuf-es reflection and the generated schemas) is loaded on the first
 * export, not when the library is imported: see src/otlp/decode.ts for its cost.
 */
import type { ExportMetricsServiceRequest } from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import type { ExportLogsServiceRequest } from '../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import type { ExportTraceServiceRequest } from '../../gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js';
import type { Metric } from '../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import type { LogRecord } from '../../gen/opentelemetry/proto/logs/v1/logs_pb.js';
import type { ExportResult, Transport } from '../transport/types.js';
import { TransportError } from '../transport/errors.js';

/** What an in-memory backend has received. */
export interface MemoryStore {
  readonly metrics: readonly ExportMetricsServiceRequest[];
  readonly logs: readonly ExportLogsServiceRequest[];
  readonly traces: readonly ExportTraceServiceRequest[];
  /** Every metric of every request, in arrival order (a metric appears once per collection). */
  metricsNamed(name: string): Metric[];
  /** Every log record received, in arrival order. */
  logRecords(): LogRecord[];
  /** Forgets everything received so far. */
  clear(): void;
}

export function createMemoryTransport(): Transport & MemoryStore {
  const metrics: ExportMetricsServiceRequest[] = [];
  const logs: ExportLogsServiceRequest[] = [];
  const traces: ExportTraceServiceRequest[] = [];
  const ok: ExportResult = { kind: 'ok' };
  let decoder: Promise<typeof import('../otlp/decode.js')> | undefined;
  return {
    encoding: 'protobuf',
    metrics,
    logs,
    traces,
    async export(signal, body) {
      try {
        const { decodeExportRequest } = await (decoder ??= import('../otlp/decode.js'));
        if (signal === 'metrics') metrics.push(decodeExportRequest('metrics', body));
        else if (signal === 'logs') logs.push(decodeExportRequest('logs', body));
        else traces.push(decodeExportRequest('traces', body));
        return ok;
      } catch (err) {
        // Only our own encoder feeds this transport, so undecodable bytes are a bug worth surfacing loudly.
        return {
          kind: 'failed',
          retryable: false,
          error: new TransportError('internal', `in-memory backend could not decode a ${signal} request: ${String(err)}`),
        };
      }
    },
    metricsNamed(name) {
      const out: Metric[] = [];
      for (const req of metrics)
        for (const rm of req.resourceMetrics) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) if (m.name === name) out.push(m);
      return out;
    },
    logRecords() {
      const out: LogRecord[] = [];
      for (const req of logs) for (const rl of req.resourceLogs) for (const sl of rl.scopeLogs) out.push(...sl.logRecords);
      return out;
    },
    clear() {
      metrics.length = 0;
      logs.length = 0;
      traces.length = 0;
    },
    close() {
      return Promise.resolve();
    },
  };
}
