/**
 * Public shapes of the logs API. They are structural supersets of `@opentelemetry/api-logs` 0.223
 * (`LogRecord`, `Logger`, `LoggerOptions`), so our provider can be registered with
 * `logs.setGlobalLoggerProvider()` and code written against that API reaches us unchanged.
 */
import type { AnyValueInput } from '../otlp/types.js';

/** Severity numbers of the OTLP log data model (same values as api-logs' `SeverityNumber` enum). */
export const SeverityNumber = Object.freeze({
  UNSPECIFIED: 0,
  TRACE: 1,
  TRACE2: 2,
  TRACE3: 3,
  TRACE4: 4,
  DEBUG: 5,
  DEBUG2: 6,
  DEBUG3: 7,
  DEBUG4: 8,
  INFO: 9,
  INFO2: 10,
  INFO3: 11,
  INFO4: 12,
  WARN: 13,
  WARN2: 14,
  WARN3: 15,
  WARN4: 16,
  ERROR: 17,
  ERROR2: 18,
  ERROR3: 19,
  ERROR4: 20,
  FATAL: 21,
  FATAL2: 22,
  FATAL3: 23,
  FATAL4: 24,
} as const);

/** A severity number, 0..24. */
export type SeverityNumber = (typeof SeverityNumber)[keyof typeof SeverityNumber];

/**
 * A point in time, as `@opentelemetry/api`'s `TimeInput` plus bigint nanoseconds:
 * - `number`: epoch milliseconds; a value below half of `performance.timeOrigin` is taken as a
 *   `performance.now()` reading, as the official SDK does;
 * - `[seconds, nanoseconds]` (HrTime), `Date`, or `bigint` epoch nanoseconds.
 */
export type TimeInput = number | bigint | Date | readonly [number, number];

/** The part of api's `SpanContext` we read. */
export interface SpanContextLike {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceFlags: number;
}

/** The part of api's `Context` we read: the active span lives under `Symbol.for('OpenTelemetry Context Key SPAN')`. */
export interface ContextLike {
  getValue(key: symbol): unknown;
}

/** What `Logger.emit()` accepts: api-logs' `LogRecord` plus explicit trace ids. */
export interface LogRecordInput {
  /** Event time. Default: none (time_unix_nano 0, "unknown" in the data model); backends then use the observed time. */
  timestamp?: TimeInput;
  /** When the record was observed. Default: now, from the provider's clock. */
  observedTimestamp?: TimeInput;
  /** 0..24; anything else becomes 0 (UNSPECIFIED) with a one-time warning. */
  severityNumber?: number;
  severityText?: string;
  body?: AnyValueInput;
  attributes?: { readonly [key: string]: AnyValueInput };
  eventName?: string;
  /**
   * An error (or message) to describe with the semantic-convention attributes `exception.type`,
   * `exception.message` and `exception.stacktrace`, unless `attributes` already set them (api-logs, experimental).
   */
  exception?: unknown;
  /** Where to read the span from; default: the active context of a registered `@opentelemetry/api`. */
  context?: ContextLike;
  /** 32 hex digits. Explicit ids win over `context`; bad hex drops the explicit ids with a one-time warning. */
  traceId?: string;
  /** 16 hex digits. */
  spanId?: string;
  /** W3C trace flags, 0..255; kept only when the record has a trace id (explicit or from a context). */
  traceFlags?: number;
}

/** Emits log records for one instrumentation scope. */
export interface Logger {
  /** Records `record`. Never throws: bad fields are replaced by safe defaults with a one-time warning. */
  emit(record: LogRecordInput): void;
  /**
   * Whether an emitted record would be kept: false when no sink is configured or after shutdown,
   * so callers can skip building expensive records.
   */
  enabled(options?: { context?: ContextLike; severityNumber?: number; eventName?: string }): boolean;
}

/** Options of `getLogger()`, as api-logs' `LoggerOptions`. */
export interface LoggerOptions {
  /** `ScopeLogs.schema_url`. Default: `''`. */
  schemaUrl?: string;
  /** Instrumentation scope attributes; they take part in logger identity. */
  attributes?: { readonly [key: string]: AnyValueInput };
}
