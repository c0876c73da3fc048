/**
 * The contract between the gateway (receivers, auth, routing, forwarding: G1) and its
 * observability (console summary, detailed printing, self-metrics, GET /metrics: G2).
 *
 * The gateway calls an observer synchronously on its request path, so every method must
 * be cheap, must not throw (the gateway guards each call anyway: an observer bug never
 * fails a request) and must not keep `body` beyond the call unless it copies it. Events
 * are plain readonly objects created once per request; nothing here is decoded unless the
 * observer asks (`decode()`), so basic/normal verbosity costs no protobuf work.
 */
import type { ExportLogsServiceRequest } from '../../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import type { ExportMetricsServiceRequest } from '../../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import type { ExportTraceServiceRequest } from '../../../gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js';
import type { BackendStats } from '../../export/backend.js';
import type { LatencyHistogram } from '../../internal/latency.js';
import type { MeterProvider } from '../../metrics/meter-provider.js';
import type { Signal } from '../../otlp/types.js';
import type { Verbosity } from '../config/gateway-config.js';
import type { Protocol, UpstreamProtocol } from '../../transport/protocols.js';

/** The decoded request of any signal (what `decode()` returns). */
export type DecodedRequest =
  | { readonly signal: 'metrics'; readonly message: ExportMetricsServiceRequest }
  | { readonly signal: 'logs'; readonly message: ExportLogsServiceRequest }
  | { readonly signal: 'traces'; readonly message: ExportTraceServiceRequest };

/**
 * Why a request was refused. A closed set, so counters have bounded label values.
 * - `unauthenticated`: auth is on and the credentials were missing or unknown (401 / UNAUTHENTICATED);
 * - `too_large`: over `limits.maxRequestBytes`, received or after gunzip (413 / RESOURCE_EXHAUSTED);
 * - `malformed`: the body is not a valid Export request (400 / INVALID_ARGUMENT);
 * - `unsupported_media_type`: Content-Type or Content-Encoding not OTLP (415 / gRPC: connect answers itself);
 * - `not_found`: unknown HTTP path (404); `method_not_allowed`: not POST (405);
 * - `wrong_port`: an HTTP/1.1 request (OTLP/HTTP) at the gRPC port (400, naming the HTTP port);
 * - `backpressure`: a healthy upstream's queue would overflow, or queued bytes over `limits.maxQueuedBytes` (429 / RESOURCE_EXHAUSTED + RetryInfo);
 * - `draining`: the gateway is shutting down (503 / UNAVAILABLE);
 * - `storage_unavailable`: durable storage could not write the request (disk full, an I/O error; 503 / UNAVAILABLE + Retry-After);
 * - `internal`: a bug caught at the edge (500 / INTERNAL).
 */
export type RefusalReason =
  | 'unauthenticated'
  | 'too_large'
  | 'malformed'
  | 'unsupported_media_type'
  | 'not_found'
  | 'method_not_allowed'
  | 'wrong_port'
  | 'backpressure'
  | 'draining'
  | 'storage_unavailable'
  | 'internal';

/** An accepted request: queued for every upstream its routes matched (possibly none). */
export interface RequestEvent {
  readonly signal: Signal;
  /** How it reached the gateway. */
  readonly protocol: Protocol;
  /** The tenant its credentials named; undefined when auth is off. */
  readonly tenant: string | undefined;
  /**
   * Distinct `service.name` values of its resources, in order of appearance (a resource
   * without one is not listed). Unbounded as received: the observer bounds its own counters.
   */
  readonly serviceNames: readonly string[];
  /** Data points, log records or spans in the request. */
  readonly items: number;
  /** Body size after decompression, in bytes. */
  readonly bytes: number;
  /** Body size as received (before gunzip), in bytes. */
  readonly wireBytes: number;
  /** Names of the upstreams it was queued for, in configuration order. */
  readonly upstreams: readonly string[];
  /**
   * Items of resource entries that matched no route and went nowhere: dropped by the operator's
   * routes, told to the client as a partial success, counted as dropped with reason `no_route`.
   * 0 when the gateway forwards nowhere at all (observing only: nothing is dropped).
   */
  readonly unrouted: number;
  /** The body after decompression, in the received encoding. Do not keep or modify it. */
  readonly body: Uint8Array;
  /** Encoding of `body`. */
  readonly encoding: 'protobuf' | 'json';
  /**
   * Decodes the body with the gen/ schemas. Cached: the gateway's own decode (JSON
   * bodies, or protobuf re-encoded for a JSON upstream) is reused. May throw for a
   * protobuf body: the gateway only scans those down to the item level (zero-decode), so
   * an accepted body can still hold a malformed item that a full decode refuses.
   */
  decode(): DecodedRequest;
}

/** A refused request. Nothing of it was forwarded. */
export interface RefusedEvent {
  readonly reason: RefusalReason;
  /** Undefined when the path named no signal (404) or the refusal came before routing. */
  readonly signal: Signal | undefined;
  /** Undefined when the refusal came before the encoding was known (404, 405, 415). */
  readonly protocol: Protocol | 'http' | undefined;
  /** The answer sent: an HTTP status, or a gRPC status code (numeric `Code`) for gRPC. */
  readonly status: number;
  /** What was sent back to the client as the error message (never contains secrets). */
  readonly message: string;
  /** Tenant when authentication succeeded before the refusal (e.g. backpressure), else undefined. */
  readonly tenant: string | undefined;
}

/** One request handed to one upstream's queue. */
export interface ForwardedEvent {
  readonly upstream: string;
  readonly signal: Signal;
  readonly items: number;
  /** Size of the body queued for this upstream. */
  readonly bytes: number;
  /**
   * How the forwarded body was made: `as_received` (the received bytes, shared),
   * `spliced` (a subset of resource entries), `reencoded` (JSON ↔ protobuf), `processed`
   * (entries rewritten by the processors of the upstream or its routes).
   */
  readonly body: 'as_received' | 'spliced' | 'reencoded' | 'processed';
  /** false when the upstream's queue refused it (it is shutting down); counted in its stats too. */
  readonly queued: boolean;
}

/**
 * Why a processor dropped items: a closed set, so counters have bounded label values.
 * Filters (forward/processors/item-processors.ts): `metric_name` (a metric's name matched a drop glob:
 * all its points), `log_severity` (a log record below the minimum severity), `log_match` (a log
 * record whose body or attribute matched), `span_name` (a span's name matched).
 * Temporality conversion (forward/processors/temporality.ts): `first_point` (a stream's first
 * cumulative point, with nothing to subtract), `late` (not after the stream's previous point, or
 * from an older run), `overlap` (a delta point overlapping the previous one).
 */
export type ProcessorDropReason = 'metric_name' | 'log_severity' | 'log_match' | 'span_name' | 'first_point' | 'late' | 'overlap';

/** An upstream's temporality state, after a request. */
export interface StreamsSnapshot {
  /** Streams tracked now. */
  readonly tracked: number;
  /** Streams forgotten since the state was made: to make room (`maxStreams`), and not seen for `staleAfter`. */
  readonly evictedLru: number;
  readonly evictedStale: number;
}

/**
 * What the processors of one upstream did to one accepted request: sent for upstreams whose
 * processors dropped items or keep state (temporality conversion), before the request's
 * `onForwarded` for that upstream (which, when nothing was left to send, does not follow).
 */
export interface ProcessedEvent {
  readonly upstream: string;
  readonly signal: Signal;
  /** Items the processors dropped, by reason; empty when none. */
  readonly dropped: ReadonlyMap<ProcessorDropReason, number>;
  /** The upstream's temporality state after the request; undefined when it converts nothing. */
  readonly streams: StreamsSnapshot | undefined;
}

/** A read-only view of one upstream, for summaries and observable metrics. */
export interface UpstreamView {
  /** Unique name: the config key, or `tenant:<tenant>/<name>` for a tenant's own upstream. */
  readonly name: string;
  /** The endpoint URL, without credentials (headers are never exposed). */
  readonly endpoint: string;
  readonly protocol: UpstreamProtocol;
  /** The tenant that owns it, or undefined for a shared upstream. */
  readonly tenant: string | undefined;
  /** Live counters; cheap, call on every summary/collection. */
  stats(): BackendStats;
  /** Export latency histogram (ms) of completed calls. */
  readonly latency: LatencyHistogram;
  /**
   * Health for an operator's view (the inspector): `failing` while its last export attempt failed,
   * and that failure's message and time (kept after a success). Optional: views made elsewhere may lack it.
   */
  health?(): UpstreamHealth;
}

/** What {@link UpstreamView.health} tells. */
export interface UpstreamHealth {
  readonly failing: boolean;
  readonly lastError: { readonly message: string; readonly atMs: number; readonly retryable: boolean } | undefined;
}

/** Addresses the gateway is listening on, as `host:port` (IPv6 hosts bracketed). */
export interface ListenAddresses {
  /** undefined when the gRPC receiver is disabled. */
  readonly grpc: string | undefined;
  /** undefined when the HTTP receiver is disabled. */
  readonly http: string | undefined;
}

/** What the gateway exposes to its observer once it is listening; every member reads the current state (a reload changes them). */
export interface GatewayView {
  readonly addresses: ListenAddresses;
  /** Every forwarding upstream: shared ones first, then tenants' own, in configuration order. A new array after a reload. */
  readonly upstreams: readonly UpstreamView[];
  /** Bytes queued across all upstreams right now (what backpressure compares with the limit). */
  queuedBytes(): number;
  /** The backpressure limit on `queuedBytes()`. */
  readonly maxQueuedBytes: number;
  /** True once draining started. */
  draining(): boolean;
  /** Durable storage, when on: its log's counters (export/durable/log.ts `DurableLogStats`). */
  readonly storage?: { stats(): StorageFigures } | undefined;
}

/** What the observer reads of durable storage. */
export interface StorageFigures {
  /** Bytes of the log on disk, and its bound (`storage.maxBytes`). */
  readonly bytesOnDisk: number;
  readonly maxBytes: number;
  /** Records lost to damage found by readers or at start (skipped, counted). */
  readonly corruptRecords: number;
  /** Appends that failed on an I/O error or a full disk (refused with `storage_unavailable`). */
  readonly appendFailures: number;
}

/** What one upstream could not deliver at shutdown. */
export interface UpstreamShutdownReport {
  readonly name: string;
  /** Lost: acknowledged to clients and not delivered (always 0 with durable storage). */
  readonly undeliveredRequests: number;
  readonly undeliveredItems: number;
  /** Durable storage: records of the log it had not passed, kept on disk for the next start. */
  readonly keptRequests?: number;
  readonly keptBytes?: number;
}

/** The outcome of a graceful shutdown. */
export interface ShutdownReport {
  /** True when every upstream drained before the deadline. */
  readonly drained: boolean;
  readonly elapsedMs: number;
  readonly upstreams: readonly UpstreamShutdownReport[];
}

/** What happened to a receiver in a reload (unchanged receivers are not listed). */
export interface ReceiverChange {
  readonly receiver: 'grpc' | 'http';
  /**
   * `started` (it was off), `stopped` (now off), `rebound` (a new address: the new one listens
   * before the old one closes), `certificate` (same address, new certificate or key: new TLS
   * connections get it; open ones keep theirs).
   */
  readonly change: 'started' | 'stopped' | 'rebound' | 'certificate';
  /** The bound address (`host:port`) after the reload; undefined when stopped. */
  readonly address: string | undefined;
}

/** Names of what a reload added, changed and removed (configuration order). */
export interface ReloadDiff {
  readonly added: readonly string[];
  readonly changed: readonly string[];
  readonly removed: readonly string[];
}

/** A setting a reload could not apply: it keeps its running value until a restart. */
export interface RestartNeeded {
  /** Its key path in the configuration file (`limits.maxRequestBytes`). */
  readonly path: string;
  /** Why it cannot change while running. */
  readonly reason: string;
}

/** Something the reloaded document held that is not applied, by design (not even after a restart). */
export interface IgnoredSetting {
  /** Its key path in the document (`opamp`). */
  readonly path: string;
  /** Why it is not applied. */
  readonly reason: string;
}

/** Why a reload was rejected: a configuration problem, in the shape of GatewayConfigError. */
export interface ReloadProblem {
  /** The key path (`upstreams.main.timeout`, `--config`), empty for the document as a whole. */
  readonly path: string;
  /** The value given and what is allowed, in words. */
  readonly problem: string;
  /** The whole message, as printed. */
  readonly message: string;
}

/**
 * What one reload did; the value of `Gateway.reload()` and the observer's `onReload` event.
 * A reload never throws: an invalid configuration is a `rejected` result.
 */
export interface ReloadResult {
  /**
   * `applied`: every request accepted from the swap on uses the new configuration; `rejected`:
   * it was invalid or could not be applied (`error` says why), and the running configuration
   * serves on, untouched; `unchanged`: equal to the running configuration, nothing was done
   * (`needsRestart` may still list settings that differ).
   */
  readonly outcome: 'applied' | 'rejected' | 'unchanged';
  /** What asked for it: `SIGHUP`, `watch`, `api`, `opamp`, …; of coalesced requests, the last one. */
  readonly trigger: string;
  /** Where the configuration came from: the file's path, a document's label, or `api`. */
  readonly source: string;
  /** Set when rejected. */
  readonly error: ReloadProblem | undefined;
  /** Forwarding upstreams (a tenant's own as `tenant/name`). A changed one is rebuilt and inherits its queue, unless only its processors changed. */
  readonly upstreams: ReloadDiff;
  readonly tenants: ReloadDiff;
  /** Other reloadable settings that changed, by key path: `routes`, `limits.maxQueuedBytes`, `limits.retryAfter`, `auth.apiKeyHeader`, `drainTimeout`. */
  readonly settings: readonly string[];
  readonly receivers: readonly ReceiverChange[];
  /** Settings that differ from the running ones but change only at a restart. */
  readonly needsRestart: readonly RestartNeeded[];
  /** What the document held that is never applied from it: a remote config's `opamp` and `storage` sections (the local ones are kept). */
  readonly ignored: readonly IgnoredSetting[];
  /** From the start of the reload (loading the configuration) to its end. */
  readonly elapsedMs: number;
}

/** An upstream a reload replaced or removed, once it finished: what it could not deliver. */
export interface RetiredEvent extends UpstreamShutdownReport {
  /**
   * `removed`: no longer configured; it delivered what it held for at most `drainTimeout`.
   * `replaced`: its settings changed; what it held went to its replacement, it only finished its calls in flight.
   */
  readonly reason: 'removed' | 'replaced';
  /** From the swap to the end of its drain. */
  readonly elapsedMs: number;
}

/** A response to `GET /metrics`. */
export interface MetricsPage {
  readonly contentType: string;
  readonly body: string | Uint8Array;
}

/**
 * What the gateway reports to. Every method is optional except the request/refusal
 * pair; the gateway guards every call with try/catch.
 */
export interface GatewayObserver {
  /** Once, when the receivers are listening and the upstreams exist. */
  attach?(view: GatewayView): void;
  /** An accepted request (after it was queued for its upstreams). */
  onRequest(event: RequestEvent): void;
  /** A refused request, whatever the reason. */
  onRefused(event: RefusedEvent): void;
  /** One (request, upstream) pair queued. Called before the request's `onRequest`. */
  onForwarded?(event: ForwardedEvent): void;
  /** What an upstream's processors dropped or kept from one request; before that pair's `onForwarded`. */
  onProcessed?(event: ProcessedEvent): void;
  /** Shutdown began: receivers closed, upstreams draining for at most `deadlineMs`. */
  onDrain?(deadlineMs: number): void;
  /** Shutdown finished. */
  onStop?(report: ShutdownReport): void;
  /** A reload ended (applied, rejected or unchanged). */
  onReload?(result: ReloadResult): void;
  /** An upstream a reload removed or replaced finished draining (not reported once shutdown began: the shutdown report has it). */
  onRetired?(event: RetiredEvent): void;
  /**
   * Serves `GET /metrics` on the HTTP receiver; when absent (or it returns undefined) the
   * path answers 404. May be async (it may run observable callbacks).
   */
  metricsPage?(): MetricsPage | undefined | Promise<MetricsPage | undefined>;
  /** Stops timers and flushes what the observer owns. Called after `onStop`. */
  close?(): Promise<void>;
}

/**
 * Options of G2's `createObserver(options): GatewayObserver` (observe/observer.ts).
 * The CLI passes `verbosity` from `--verbosity`/config, `out` = process.stdout, and a
 * `meterProvider` whose consumers the gateway exports to the configured self-telemetry
 * upstreams (the observer creates its instruments on it; Prometheus registers its own
 * cumulative consumer).
 */
export interface ObserverOptions {
  /** Default `normal`. */
  readonly verbosity?: Verbosity;
  /** Console summary period. Default 10000 ms. */
  readonly intervalMillis?: number;
  /** Where summaries go. Default process.stdout. */
  readonly out?: { write(chunk: string): unknown };
  /** Provider for the gateway's own metrics. Default: the observer creates its own. */
  readonly meterProvider?: MeterProvider;
}

/** An observer that does nothing: the default when none is given, and for tests. */
export const noopObserver: GatewayObserver = Object.freeze({
  onRequest() {},
  onRefused() {},
});
