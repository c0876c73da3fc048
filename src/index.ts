/**
 * otlp-fanout public API: what an application needs to record and export. Transports,
 * encoders and the gateway's building blocks are in `otlp-fanout/integration`
 * (src/integration.ts), so that importing this entry does not load undici, connect-node
 * or the gateway (~120 ms of start-up) before a backend needs them.
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
  StorageOptions,
  FsyncPolicy,
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

// Types of the integration entry, free to re-export (erased at run time).
export type { Encoding, ExportResult, ExportCallOptions, Transport } from './transport/types.js';
