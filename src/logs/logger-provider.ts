/**
 * LoggerProvider and Logger. Structurally an `@opentelemetry/api-logs` 0.223 LoggerProvider, so it
 * can be registered with `logs.setGlobalLoggerProvider()`.
 *
 * Until a sink is configured there is no buffer and no encoder: `emit()` reads one field and returns.
 */
import { systemClock, type Clock } from '../internal/clock.js';
import { warnOnce } from '../internal/warn.js';
import { encodeLogResource, encodeLogScope, type EncodedLogScope } from '../otlp/encode/logs.js';
import type { AnyValueInput, Attributes } from '../otlp/types.js';
import {
  BatchLogProcessor,
  validateLogBatchOptions,
  type LogBatchOptions,
  type LogProcessorStats,
  type ResolvedLogBatchOptions,
} from './batch-processor.js';
import { limitAttributesInto, validateLogRecordLimits, type LogRecordLimits, type ResolvedLogRecordLimits } from './limits.js';
import { buildLogRecord, type CommonAttributes } from './log-record.js';
import type { LogBatchSink } from './sink.js';
import type { Logger, LoggerOptions, LogRecordInput } from './types.js';

/** Options of `createLoggerProvider()`. */
export interface LoggerProviderOptions {
  /** Resource attributes of every record (one ResourceLogs per request). Default `{}`: the config layer detects the resource. */
  resource?: Attributes;
  /** `ResourceLogs.schema_url`. Default `''`. */
  schemaUrl?: string;
  /** Attribute limits of records and logger scopes. Defaults: 128 attributes, no length limit (spec). */
  limits?: LogRecordLimits;
  /**
   * Attributes added to every record; a record's own attribute of the same key wins. Default none.
   * For an identity that dashboards filter every signal by (a tenant, a node). Checked and cut to
   * the value length limit once, here; they do not count against `attributeCountLimit`, so a
   * record full of its own attributes still carries them.
   */
  attributes?: Attributes;
  /** Batch processor options. Defaults: the spec's 2048 / 512 / 1000 ms / 30000 ms. */
  batch?: LogBatchOptions;
  /**
   * Where encoded batches go. Default: none, and then nothing is recorded (no buffer, no encoding),
   * so an application with no backend configured pays almost nothing per `emit()`.
   */
  sink?: LogBatchSink;
  /** Source of observed timestamps. Default: the system clock; tests inject a manual one. */
  clock?: Clock;
}

/** Creates loggers and owns the shared batch buffer. */
export interface LoggerProvider {
  /**
   * The logger of one instrumentation scope. The same name, version, schemaUrl and attributes give
   * the same logger, so its records share one ScopeLogs per request.
   */
  getLogger(name: string, version?: string, options?: LoggerOptions): Logger;
  /** Starts recording into `sink`, or routes later batches to it when one was set already. Ignored after shutdown. */
  setSink(sink: LogBatchSink): void;
  /** Exports everything buffered now and flushes the sink. Never rejects. */
  forceFlush(): Promise<void>;
  /**
   * Flushes, shuts the sink down and stops: later `emit()` calls are dropped (one warning).
   * Idempotent; never rejects.
   */
  shutdown(): Promise<void>;
  /** Counters of the buffer (all zero until a sink is set). */
  stats(): LogProcessorStats;
}

// Loggers are usually a handful per library; the bound keeps a caller that makes names per request
// from growing the cache without limit (beyond it, loggers still work, uncached).
const MAX_CACHED_LOGGERS = 1000;

const EMPTY_STATS: LogProcessorStats = Object.freeze({
  queuedRecords: 0,
  droppedRecords: 0,
  exportedRecords: 0,
  failedRecords: 0,
});

interface ProviderState {
  /** Set once a sink is configured; cleared at shutdown. The only field `emit()` reads when idle. */
  processor: BatchLogProcessor | undefined;
  stopped: boolean;
  readonly limits: ResolvedLogRecordLimits;
  readonly clock: Clock;
  readonly common: CommonAttributes | undefined;
}

/** Creates a LoggerProvider. Options are validated once; bad values warn once and fall back to defaults. */
export function createLoggerProvider(options: LoggerProviderOptions = {}): LoggerProvider {
  const limits = validateLogRecordLimits(options.limits);
  const batch: ResolvedLogBatchOptions = validateLogBatchOptions(options.batch);
  const resource = encodeLogResource(options.resource ?? {}, options.schemaUrl ?? '');
  const state: ProviderState = {
    processor: undefined,
    stopped: false,
    limits,
    clock: options.clock ?? systemClock,
    common: commonAttributes(options.attributes, limits),
  };
  // Kept after shutdown so stats() still reports the final counters.
  let processor: BatchLogProcessor | undefined;
  const loggers = new Map<string, Logger>();

  const setSink = (sink: LogBatchSink): void => {
    if (state.stopped) return;
    if (processor === undefined) processor = new BatchLogProcessor(resource, batch, sink);
    else processor.setSink(sink);
    state.processor = processor;
  };
  if (options.sink !== undefined) setSink(options.sink);

  return {
    getLogger(name: string, version?: string, loggerOptions?: LoggerOptions): Logger {
      const scopeName = typeof name === 'string' ? name : '';
      if (typeof name !== 'string') warnOnce('logs.getLogger.name', `getLogger name must be a string, got ${typeof name}; using ''`);
      const scopeVersion = typeof version === 'string' ? version : '';
      const schemaUrl = typeof loggerOptions?.schemaUrl === 'string' ? loggerOptions.schemaUrl : '';
      const attributes = loggerOptions?.attributes;
      const key = `${scopeName}\u0000${scopeVersion}\u0000${schemaUrl}\u0000${attributes === undefined ? '' : canonicalKey(attributes)}`;
      const cached = loggers.get(key);
      if (cached !== undefined) return cached;
      const scopeAttrs = { attributes: undefined as { [key: string]: AnyValueInput } | undefined, droppedAttributesCount: 0 };
      if (attributes !== undefined && attributes !== null && typeof attributes === 'object') {
        limitAttributesInto(scopeAttrs, attributes, limits);
      }
      const scope = encodeLogScope(
        { name: scopeName, version: scopeVersion, schemaUrl, ...(scopeAttrs.attributes && { attributes: scopeAttrs.attributes }) },
        scopeAttrs.droppedAttributesCount,
      );
      const logger = createLogger(state, scope);
      if (loggers.size < MAX_CACHED_LOGGERS) loggers.set(key, logger);
      else warnOnce('logs.getLogger.cache', `more than ${MAX_CACHED_LOGGERS} distinct loggers; later ones are not cached`);
      return logger;
    },
    setSink,
    async forceFlush(): Promise<void> {
      await processor?.forceFlush();
    },
    async shutdown(): Promise<void> {
      state.stopped = true;
      state.processor = undefined;
      await processor?.shutdown();
    },
    stats(): LogProcessorStats {
      return processor?.stats() ?? EMPTY_STATS;
    },
  };
}

function createLogger(state: ProviderState, scope: EncodedLogScope): Logger {
  return {
    emit(record: LogRecordInput): void {
      const processor = state.processor;
      if (processor === undefined) {
        if (state.stopped) warnOnce('logs.emit.afterShutdown', 'a log record was emitted after shutdown; it is dropped');
        return;
      }
      if (typeof record !== 'object' || record === null) {
        warnOnce('logs.emit.record', `emit() takes a log record object, got ${record === null ? 'null' : typeof record}; ignored`);
        return;
      }
      try {
        processor.onEmit(buildLogRecord(scope, record, state.limits, state.clock, state.common));
      } catch (e) {
        // Getters or proxies in the caller's record may throw; logging must not break the caller.
        warnOnce('logs.emit.failed', `a log record could not be recorded: ${e instanceof Error ? e.message : String(e)}`);
      }
    },
    enabled(): boolean {
      return state.processor !== undefined;
    },
  };
}

/** The provider's `attributes`, limited once (values cut to the length limit, bad ones warned about and dropped). */
function commonAttributes(attributes: Attributes | undefined, limits: ResolvedLogRecordLimits): CommonAttributes | undefined {
  if (attributes === undefined || attributes === null) return undefined;
  if (typeof attributes !== 'object') {
    warnOnce('logs.provider.attributes', `logger provider attributes must be an object, got ${typeof attributes}; ignored`);
    return undefined;
  }
  const target = { attributes: undefined as { [key: string]: AnyValueInput } | undefined, droppedAttributesCount: 0 };
  // The count limit is for a record's own attributes; these are few and set by the deployment.
  limitAttributesInto(target, attributes, { ...limits, attributeCountLimit: Infinity });
  const values = target.attributes;
  if (values === undefined || Object.keys(values).length === 0) return undefined;
  return { values: Object.freeze(values), keys: Object.freeze(Object.keys(values)) };
}

/** A deterministic text key of an AnyValue, for logger identity (cold path: getLogger only). */
function canonicalKey(v: unknown, depth = 0): string {
  // A cycle cannot recurse forever; limitAnyValue reports it when the scope is encoded.
  if (depth > 32) return '~';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
    case 'boolean':
      return String(v);
    case 'bigint':
      return `${v}n`;
    case 'object': {
      if (v === null) return 'null';
      if (v instanceof Uint8Array) return `b[${v.join(',')}]`;
      if (Array.isArray(v)) return `[${v.map((item) => canonicalKey(item, depth + 1)).join(',')}]`;
      const map = v as { readonly [key: string]: unknown };
      const keys = Object.keys(map)
        .filter((k) => map[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalKey(map[k], depth + 1)}`).join(',')}}`;
    }
    default:
      return typeof v;
  }
}
