/**
 * The 2.x line of the official OpenTelemetry JS packages (sdk-* 2.x, exporters 0.2xx): this
 * repository's devDependencies, installable on every Node we support. official.ts loads it unless
 * OTLP_FANOUT_OTEL_PEERS names another line; peers-3x/line.js exports the same names.
 */
export * as api from '@opentelemetry/api';
export * as logsApi from '@opentelemetry/api-logs';
export * as core from '@opentelemetry/core';
export * as resources from '@opentelemetry/resources';
export * as sdkLogs from '@opentelemetry/sdk-logs';
export * as sdkMetrics from '@opentelemetry/sdk-metrics';
export * as sdkTrace from '@opentelemetry/sdk-trace-base';
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
