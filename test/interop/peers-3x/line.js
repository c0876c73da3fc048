/**
 * The 3.x line of the official OpenTelemetry JS packages (sdk-* 3.x, exporters 0.30x), installed
 * in this folder only (they need Node >= 22.15; the repository's own lock file must install on 20).
 * Exports the same names as ../line-2x.ts; where 3.x moved a package, the name stays and the
 * source changes, so the move is written down here once:
 * - the logs API (SeverityNumber, AnyValue, the `logs` global) moved into @opentelemetry/api 1.10;
 * - @opentelemetry/sdk-trace-base became @opentelemetry/sdk-trace (BasicTracerProvider became
 *   TracerProvider: official-sdk.ts picks whichever the line has).
 */
export * as api from '@opentelemetry/api';
export * as logsApi from '@opentelemetry/api';
export * as core from '@opentelemetry/core';
export * as resources from '@opentelemetry/resources';
export * as sdkLogs from '@opentelemetry/sdk-logs';
export * as sdkMetrics from '@opentelemetry/sdk-metrics';
export * as sdkTrace from '@opentelemetry/sdk-trace';
export * as transformer from '@opentelemetry/otlp-transformer';
export * as logsGrpc from '@opentelemetry/exporter-logs-otlp-grpc';
export * as logsJson from '@opentelemetry/exporter-logs-otlp-http';
export * as logsProto from '@opentelemetry/exporter-logs-otlp-proto';
export * as metricsGrpc from '@opentelemetry/exporter-metrics-otlp-grpc';
export * as metricsJson from '@opentelemetry/exporter-metrics-otlp-http';
export * as metricsProto from '@opentelemetry/exporter-metrics-otlp-proto';
export * as traceGrpc from '@opentelemetry/exporter-trace-otlp-grpc';
export * as traceJson from '@opentelemetry/exporter-trace-otlp-http';
export * as traceProto from '@opentelemetry/exporter-trace-otlp-proto';

/** Where this line's package names resolve from. */
export const resolveFrom = import.meta.url;
