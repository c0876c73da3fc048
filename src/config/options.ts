/**
 * The public configuration of otlp-fanout: what `createTelemetry(options)` accepts.
 * Every field is optional; `resolveConfig()` (validate.ts) merges these over the
 * environment (env.ts) and fills every default listed here into a frozen `ResolvedConfig`.
 * The defaults live in `DEFAULTS` below so the docs, the resolver and the tests agree.
 */
import type { ViewOptions } from '../metrics/view.js';
import type { Attributes, Signal } from '../otlp/types.js';
import type { Protocol } from '../transport/protocols.js';
import {
  DEFAULT_COMPRESSION,
  DEFAULT_GRPC_ENDPOINT,
  DEFAULT_HTTP_ENDPOINT,
  DEFAULT_MAX_REQUEST_BYTES,
  DEFAULT_TIMEOUT_MILLIS,
} from '../transport/options.js';
import type { Compression, TlsOptions as TransportTlsOptions } from '../transport/options.js';
import { DEFAULT_QUEUE_LIMITS } from '../export/backend.js';
import type { QueueLimits } from '../export/backend.js';
import { DEFAULT_RETRY_POLICY } from '../export/retry.js';
import type { RetryPolicy } from '../export/retry.js';
import type { FsyncPolicy } from '../export/durable/options.js';

/** The signals otlp-fanout exports (traces are out of scope). */
export type ExportSignal = Exclude<Signal, 'traces'>;

/** OTLP transport and encoding, named as `OTEL_EXPORTER_OTLP_PROTOCOL` names them (transport/protocols.ts). */
export type { Protocol };

/** Request body compression (transport/options.ts). */
export type { Compression };

/**
 * Aggregation temporality a backend asks for, as `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`
 * defines it: `delta` makes counters, histograms and observable counters delta (up-down counters stay
 * cumulative); `lowmemory` is delta only for synchronous counters and histograms.
 */
export type Temporality = 'cumulative' | 'delta' | 'lowmemory';

/** The aggregation histograms get unless a view says otherwise. */
export type HistogramAggregation = 'explicit_bucket_histogram' | 'base2_exponential_bucket_histogram';

/**
 * Where a backend's data goes: `otlp` to a server; `console` prints each export (what
 * `OTEL_METRICS_EXPORTER=console` selects); `memory` keeps exports in memory for tests;
 * `prometheus` serves metrics on a scrape endpoint (`host`, `port`, `path`; what
 * `OTEL_METRICS_EXPORTER=prometheus` selects), collected when scraped.
 */
export type BackendKind = 'otlp' | 'console' | 'memory' | 'prometheus';

/**
 * TLS material: the transports' TLS options (transport/options.ts, their owner), plus paths.
 * From code, `ca`/`cert`/`key` are PEM text or bytes; `caFile`/`certFile`/`keyFile` are paths read
 * once when the configuration is resolved (that is what the `*_CERTIFICATE` and `*_CLIENT_*`
 * variables set). Content wins over a path given at the same level.
 */
export interface TlsOptions extends Omit<TransportTlsOptions, 'ca'> {
  /** Trusted CA certificates (PEM; one text or buffer here). Default: Node's bundled roots, so public CAs just work. */
  readonly ca?: string | Uint8Array;
  /** Path of a PEM file with trusted CA certificates. */
  readonly caFile?: string;
  /** Path of a PEM file with the client certificate chain. */
  readonly certFile?: string;
  /** Path of a PEM file with the client private key. */
  readonly keyFile?: string;
}

/**
 * Settings of one OTLP connection. A backend has one such set, and may override any of it per
 * signal (`metrics: {...}`, `logs: {...}`), as the `OTEL_EXPORTER_OTLP_<SIGNAL>_*` variables do.
 */
export interface TargetOptions {
  /**
   * Server URL. At backend level it is a base: HTTP protocols append `/v1/metrics` or `/v1/logs`
   * to its path. Per signal it is used as is. gRPC keeps only scheme, host and port.
   * Default: `http://localhost:4317` for grpc, `http://localhost:4318` for HTTP (the OTLP spec's).
   */
  readonly endpoint?: string;
  /**
   * Transport and encoding. Default `http/protobuf`: the OTLP spec's default for SDKs, and the one
   * the official JS exporters use, so an unchanged collector setup keeps working.
   */
  readonly protocol?: Protocol;
  /** Extra request headers (gRPC metadata). Names are lower-cased. Default: none. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Request compression. Default `none`, the OTLP spec's default: every server accepts it and
   * loopback/sidecar collectors (the common case) gain nothing from gzip's CPU cost.
   */
  readonly compression?: Compression;
  /** Time allowed for one export request, in ms. Default 10000, the OTLP spec's (the transports' default). */
  readonly timeoutMillis?: number;
  /** TLS material and the scheme-less plaintext switch. */
  readonly tls?: TlsOptions;
}

/** Queue bounds; each field defaults as `QueueLimits` (export/backend.ts, their owner) says. */
export type QueueOptions = Partial<QueueLimits>;

/**
 * Exponential backoff for retryable failures (OTLP spec: retry with exponential backoff and jitter,
 * and honour the server's own delay). The knobs and their defaults are `RetryPolicy`'s
 * (export/retry.ts, their owner).
 */
export interface RetryOptions extends Partial<RetryPolicy> {
  /** Retry at all. Default true: the spec asks exporters to retry transient failures. */
  readonly enabled?: boolean;
}

/** One place telemetry goes. */
export interface BackendOptions extends TargetOptions {
  /**
   * Identifies the backend in diagnostics and in the environment: a backend named `tenant` also
   * reads `OTEL_FANOUT_BACKEND_TENANT_*`, and one named `otlp` reads `OTEL_EXPORTER_OTLP_*`;
   * what code sets wins. Letters, digits, `_`, `-`, `.`; at most 64 characters. Required.
   */
  readonly name: string;
  /** Default `otlp`. */
  readonly kind?: BackendKind;
  /** Signals sent to this backend. Default `['metrics', 'logs']`: a backend gets everything unless told. */
  readonly signals?: readonly ExportSignal[];
  /**
   * Temporality this backend wants. Default: `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`, else
   * `cumulative` (the spec's default; what Prometheus-style backends need).
   */
  readonly temporality?: Temporality;
  /** Overrides for the metrics requests (endpoint used as is). */
  readonly metrics?: TargetOptions;
  /** Overrides for the logs requests (endpoint used as is). */
  readonly logs?: TargetOptions;
  /** Queue bounds. */
  readonly queue?: QueueOptions;
  /** Retry policy. */
  readonly retry?: RetryOptions;
  /**
   * Largest encoded request, in bytes; bigger collections are split, and a single item that
   * cannot fit is dropped, never sent. Default 64 MiB: far below what servers refuse by default
   * and the most a queue slot should pin. Lowered to `queue.maxBytes` if that is smaller.
   */
  readonly maxRequestBytes?: number;
  /**
   * Most metric data points in one request. Default Infinity: servers limit bytes, which
   * `maxRequestBytes` covers; set it for backends with a per-request point limit.
   */
  readonly maxPointsPerRequest?: number;
  /**
   * Kind `prometheus`: the host or IP the scrape endpoint listens on. Default `localhost`
   * (`OTEL_EXPORTER_PROMETHEUS_HOST`, else the spec's default): nothing is exposed beyond the
   * machine unless asked.
   */
  readonly host?: string;
  /**
   * Kind `prometheus`: its TCP port, 0 for any free one (`telemetry.prometheusEndpoint(name)` tells
   * which). Default 9464 (`OTEL_EXPORTER_PROMETHEUS_PORT`, else the spec's default).
   */
  readonly port?: number;
  /** Kind `prometheus`: the page's path. Default `/metrics`, where every scrape config looks first. */
  readonly path?: string;
}

/** Batching of log records (the spec's batch log record processor). */
export interface LogBatchOptions {
  /** Records buffered before new ones are dropped. Default 2048 (spec, `OTEL_BLRP_MAX_QUEUE_SIZE`). */
  readonly maxQueueSize?: number;
  /** Records per export; at most `maxQueueSize`. Default 512 (spec, `OTEL_BLRP_MAX_EXPORT_BATCH_SIZE`). */
  readonly maxExportBatchSize?: number;
  /** Delay between two exports, in ms. Default 1000 (spec, `OTEL_BLRP_SCHEDULE_DELAY`). */
  readonly scheduledDelayMillis?: number;
  /** Time allowed for one export, in ms. Default 30000 (spec, `OTEL_BLRP_EXPORT_TIMEOUT`). */
  readonly exportTimeoutMillis?: number;
}

/** Log record attribute limits. */
export interface LogLimitsOptions {
  /** Attributes kept per record. Default 128 (spec, `OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT`). */
  readonly attributeCountLimit?: number;
  /** Longest string attribute value kept. Default Infinity (spec: no limit unless set). */
  readonly attributeValueLengthLimit?: number;
}

/** Metrics settings. */
export interface MetricsOptions {
  /**
   * Series per instrument, the overflow series included. Default 2000, the metrics SDK spec's:
   * bounds memory when an attribute carries unbounded values.
   */
  readonly cardinalityLimit?: number;
  /** Default `explicit_bucket_histogram`, the spec's (every backend understands it). */
  readonly defaultHistogramAggregation?: HistogramAggregation;
  /**
   * Views applied to every instrument (docs/metrics.md, Views). Default: none. A view that is not
   * valid is skipped with one warning naming its field, the value and what is allowed, as for
   * any bad setting: the others still apply.
   */
  readonly views?: readonly ViewOptions[];
}

/** Logs settings. */
export interface LogsOptions {
  /** Batching; each field defaults as `LogBatchOptions` says. */
  readonly batch?: LogBatchOptions;
  /** Attribute limits; each field defaults as `LogLimitsOptions` says. */
  readonly limits?: LogLimitsOptions;
}

/**
 * When the on-disk queue's writes reach stable storage (export/durable/options.ts, its owner):
 * every policy survives a crash or `kill -9`; `always` also survives power loss, `interval` may lose
 * the last interval's appends (1 s) to it, `never` the last ~30 s.
 */
export type { FsyncPolicy };

/**
 * Durable queues: the requests of `otlp` backends wait on disk instead of in memory, so that a
 * process that exits or is killed during an outage delivers them after its next start (delta data
 * has no other copy: a restarted process starts counting from zero). One log in `directory` for all
 * backends, each backend × signal reading it through its own cursor (`<backend>/<signal>`); memory
 * holds what is in flight, never the backlog. `console` and `memory` backends do not use it.
 *
 * With storage, a backend retries a retryable failure until it is delivered (the disk, not the
 * time, bounds what waits: `retry.maxElapsedMillis` and `retry.enabled` do not apply) and its
 * `queue` limits bound only the requests recorded while the log opens. Cursors of backends no
 * longer configured are deleted at start, with their data (one warning says how much).
 * A value that cannot be used, a directory that cannot be opened, or one that another live process
 * has open: one warning, and the queues stay in memory. Default: no storage, nothing touches the disk.
 */
export interface StorageOptions {
  /**
   * Directory of the queue, created if missing; a relative path is taken from the current directory.
   * One process at a time (a `LOCK` file holds the owner's pid). Required; default
   * `OTEL_FANOUT_STORAGE_DIRECTORY`.
   */
  readonly directory: string;
  /**
   * Bytes the queue may use on disk, at least 8192. Default 1 GiB (`OTEL_FANOUT_STORAGE_MAX_BYTES`
   * otherwise): hours of a busy process's telemetry, and a bound a host notices. When full, backends
   * whose last export failed drop their oldest requests (counted as dropped) to make room; when the
   * room is held by backends that are delivering but behind, the new request is dropped (counted).
   */
  readonly maxBytes?: number;
  /**
   * Default `interval` (`OTEL_FANOUT_STORAGE_FSYNC` otherwise): survives `kill -9` (a request is
   * written to the file before it counts as queued) and leaves power loss the last second, without
   * a disk sync per request as `always` costs.
   */
  readonly fsync?: FsyncPolicy;
}

/** Everything `createTelemetry()` accepts; each field merges over its environment variable. */
export interface TelemetryOptions {
  /** `service.name`. Default: `OTEL_SERVICE_NAME`, then `OTEL_RESOURCE_ATTRIBUTES`, then `unknown_service:<executable>`. */
  readonly serviceName?: string;
  /** Resource attributes; win over `OTEL_RESOURCE_ATTRIBUTES` and the detected ones. */
  readonly resource?: Attributes;
  /**
   * Attributes added to every metric point and every log record, merged by key over
   * `OTEL_FANOUT_ATTRIBUTES` (same `k=v,k2=v2` form as `OTEL_RESOURCE_ATTRIBUTES`). Default: none.
   *
   * Why, when the resource exists: many backends index point and record attributes but not the
   * resource's (or drop it on the way to a query), so a deployment identity (sandbox, tenant, node
   * id) that dashboards filter on goes on every item too. Set it on `resource` as well if wanted.
   * A point's or record's own attribute of the same key wins. They are added when a series is
   * created (metrics: no cost per measurement) and to each record as it is emitted (logs); they
   * create no series, so they do not count against a cardinality limit, views' `attributeKeys`
   * do not filter them, and they do not count against a log record's attribute count limit.
   */
  readonly attributes?: Attributes;
  /**
   * Where telemetry goes; merged by name with the backends the environment declares. Default:
   * only what the environment declares, and with nothing declared nothing is exported.
   */
  readonly backends?: readonly BackendOptions[];
  /** Time between metric collections, in ms. Default 60000 (spec, `OTEL_METRIC_EXPORT_INTERVAL`). */
  readonly exportIntervalMillis?: number;
  /**
   * Time allowed for one metrics export, in ms; at most the interval, so exports never overlap.
   * Default 30000 (spec, `OTEL_METRIC_EXPORT_TIMEOUT`).
   */
  readonly exportTimeoutMillis?: number;
  /** Metrics settings; each field defaults as `MetricsOptions` says. */
  readonly metrics?: MetricsOptions;
  /** Logs settings; each field defaults as `LogsOptions` says. */
  readonly logs?: LogsOptions;
  /** Turns everything into a no-op. Default: `OTEL_SDK_DISABLED`, else false. */
  readonly disabled?: boolean;
  /** Record Node.js runtime metrics (event loop, heap, GC). Default false: opt-in, it costs a timer. */
  readonly runtimeMetrics?: boolean;
  /**
   * Durable queues for the `otlp` backends (see `StorageOptions`), merged by field over
   * `OTEL_FANOUT_STORAGE_*`. Default: none, queues in memory; nothing touches the disk.
   */
  readonly storage?: StorageOptions;
}

/** Every default, in one place. */
export const DEFAULTS = Object.freeze({
  exportIntervalMillis: 60_000,
  exportTimeoutMillis: 30_000,
  disabled: false,
  runtimeMetrics: false,
  metrics: Object.freeze({
    cardinalityLimit: 2000,
    defaultHistogramAggregation: 'explicit_bucket_histogram' as HistogramAggregation,
  }),
  logs: Object.freeze({
    batch: Object.freeze({
      maxQueueSize: 2048,
      maxExportBatchSize: 512,
      scheduledDelayMillis: 1000,
      exportTimeoutMillis: 30_000,
    }),
    limits: Object.freeze({ attributeCountLimit: 128, attributeValueLengthLimit: Infinity }),
  }),
  backend: Object.freeze({
    kind: 'otlp' as BackendKind,
    protocol: 'http/protobuf' as Protocol,
    compression: DEFAULT_COMPRESSION,
    timeoutMillis: DEFAULT_TIMEOUT_MILLIS,
    temporality: 'cumulative' as Temporality,
    signals: Object.freeze(['metrics', 'logs'] as const) as readonly ExportSignal[],
    insecure: false,
    // The transports' defaults (the OTLP spec's ports), so the two layers cannot disagree.
    grpcEndpoint: DEFAULT_GRPC_ENDPOINT,
    httpEndpoint: DEFAULT_HTTP_ENDPOINT,
    // The owners' defaults (export/backend.ts, export/retry.ts, transport/options.ts).
    queue: DEFAULT_QUEUE_LIMITS,
    retry: Object.freeze({ enabled: true, ...DEFAULT_RETRY_POLICY }),
    maxRequestBytes: DEFAULT_MAX_REQUEST_BYTES,
    maxPointsPerRequest: Infinity,
    // The OpenTelemetry spec's defaults for OTEL_EXPORTER_PROMETHEUS_HOST/PORT; `/metrics` by convention.
    prometheus: Object.freeze({ host: 'localhost', port: 9464, path: '/metrics' }),
  }),
});
