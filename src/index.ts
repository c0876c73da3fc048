/**
 * otlp-fanout public API. User-facing symbols first; integration symbols (transports,
 * encoders, the gateway's building blocks) after the marker below.
 */

// ---- one recording, many backends ----
export { createTelemetry } from './telemetry.js';
export type { CreateTelemetryOptions, Telemetry, TelemetryBackendStats, ShutdownReport } from './telemetry.js';
export type { MemoryStore } from './export/memory.js';
export type {
  TelemetryOptions,
  BackendOptions,
  TargetOptions,
  TlsOptions,
  QueueOptions,
  RetryOptions,
  MetricsOptions,
  LogsOptions,
  LogBatchOptions,
  LogLimitsOptions,
  Protocol,
  Compression,
  Temporality,
  HistogramAggregation,
  BackendKind,
  ExportSignal,
} from './config/options.js';
export { ConfigError } from './config/config-error.js';
export { setDiagnosticSink, type DiagnosticSink } from './internal/warn.js';

// ---- metrics (structurally @opentelemetry/api's MeterProvider) ----
export { createMeterProvider } from './metrics/meter-provider.js';
export type { MeterProvider, MeterProviderOptions, MetricConsumer, ConsumerOptions, CollectOptions } from './metrics/meter-provider.js';
export type { Meter, MeterOptions } from './metrics/meter.js';
export type {
  Counter,
  UpDownCounter,
  Histogram,
  Gauge,
  BoundCounter,
  BoundRecorder,
  Observable,
  ObservableResult,
  ObservableCallback,
  BatchObservableResult,
  BatchObservableCallback,
} from './metrics/instruments.js';
export { ValueType } from './metrics/instrument-descriptor.js';
export type { InstrumentKind, MetricOptions, MetricAdvice } from './metrics/instrument-descriptor.js';
export type { ViewOptions } from './metrics/view.js';
export type { TemporalityPreference } from './metrics/temporality.js';
export { MetricsConfigError } from './metrics/errors.js';
export { registerRuntimeMetrics } from './metrics/runtime/runtime-metrics.js';
export type { RuntimeMetrics, RuntimeMetricsOptions } from './metrics/runtime/runtime-metrics.js';

// ---- logs (structurally @opentelemetry/api-logs' LoggerProvider) ----
export { createLoggerProvider } from './logs/logger-provider.js';
export type { LoggerProvider, LoggerProviderOptions } from './logs/logger-provider.js';
export { SeverityNumber } from './logs/types.js';
export type { Logger, LoggerOptions, LogRecordInput, TimeInput } from './logs/types.js';
export type { LogBatchSink } from './logs/sink.js';

// ---- shared value shapes ----
export type { AttributeValue, Attributes, AnyValueInput, Signal, ScopeInfo } from './otlp/types.js';

// ---- integration API ----
export type { Encoding, ExportResult, ExportCallOptions, Transport } from './transport/types.js';
export { TransportError, TransportOptionError, type TransportErrorCode } from './transport/errors.js';
export { createOtlpGrpcTransport, type OtlpGrpcTransportOptions } from './transport/grpc.js';
export { createOtlpHttpTransport, type OtlpHttpTransportOptions } from './transport/http.js';
export { protobufToJsonBody } from './transport/json-body.js';
export { createBackend } from './export/backend.js';
export type { Backend, BackendStats, BackendShutdownReport, QueueLimits } from './export/backend.js';
export type { RetryPolicy } from './export/retry.js';
export { createMemoryTransport } from './export/memory.js';
export { encodeMetricsRequest, type ExportMetricsRequestShape } from './otlp/encode/metrics-request.js';
export { encodeJson, decodeJson, OtlpJsonError } from './otlp/json.js';
export { protobufToJson } from './otlp/json-from-protobuf.js';
export { scanRequest, spliceEntries, WireFormatError } from './otlp/scan.js';
export { startGateway } from './gateway/gateway.js';
export type { Gateway, GatewayOptions } from './gateway/gateway.js';
export { loadGatewayConfig, GatewayConfigError } from './gateway/config.js';
export type { GatewayConfig } from './gateway/config.js';
