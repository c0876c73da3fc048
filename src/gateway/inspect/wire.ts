/**
 * What the inspector sends to the browser: the server-sent events' payloads (JSON). Types only:
 * the front end (ui/) imports them too, so both sides read one definition.
 *
 * Events on `GET /api/events`:
 * - `hello` (first): {@link Hello} — the windows' history and the rings' contents, then
 * - `tick` (every second): {@link Tick} — the second just closed, upstreams, queues;
 * - `request` / `points` / `logs` / `spans`: one decoded request's entries (only while a browser is connected);
 * - `reload`: a {@link ReloadEntry}; `lost`: {@link Lost} (entries not sent to this client: it read too slowly).
 */

/** Counts of one second: [requests, items]. */
export type Pair = [number, number];

/** One name's per-second history, oldest first (the current second left out). */
export interface RowHistory {
  readonly requests: number[];
  readonly items: number[];
}

/** An upstream as the inspector shows it. */
export interface UpstreamEntry {
  readonly name: string;
  readonly endpoint: string;
  readonly protocol: string;
  readonly tenant: string | null;
  /** `failing`: its last export attempt failed; `ok`: the last one succeeded; `idle`: none yet. */
  readonly health: 'ok' | 'failing' | 'idle';
  readonly lastError: { readonly message: string; readonly atMs: number; readonly retryable: boolean } | null;
  readonly itemsSent: number;
  readonly itemsFailed: number;
  readonly itemsRejected: number;
  readonly itemsDropped: number;
  readonly requestsSent: number;
  readonly requestsFailed: number;
  readonly retries: number;
  readonly queueBytes: number;
  readonly queueRequests: number;
  readonly inFlight: number;
  /** Export latency of the calls of the last 10 s (ms); null without calls. */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

/** A reload's outcome, as shown on the upstreams page. */
export interface ReloadEntry {
  readonly atMs: number;
  readonly outcome: 'applied' | 'rejected' | 'unchanged';
  readonly trigger: string;
  readonly source: string;
  readonly error: string | null;
  /** `+added ~changed -removed` of upstreams and tenants, and other settings changed. */
  readonly summary: string;
  readonly needsRestart: readonly string[];
}

/** How much of the traffic is decoded for the browser. */
export interface DecodeFigures {
  /** Requests decoded in the second just closed, and skipped (over the budget). */
  readonly decoded: number;
  readonly skipped: number;
  /** Bodies a full decode refused since start (the gateway only scans protobuf down to the items). */
  readonly errors: number;
  readonly clients: number;
}

/** The second just closed. */
export interface Tick {
  /** End of the second, ms since the epoch. */
  readonly t: number;
  readonly signals: Record<string, Pair>;
  readonly services: Record<string, Pair>;
  readonly tenants: Record<string, Pair>;
  readonly refusals: Record<string, number>;
  /** Bytes queued for the upstreams (memory queues, or the durable log's backlog) and its limit. */
  readonly queuedBytes: number;
  readonly maxQueuedBytes: number;
  /** Durable storage: bytes of the log on disk and its bound; null without storage. */
  readonly diskBytes: number | null;
  readonly diskMaxBytes: number | null;
  readonly upstreams: readonly UpstreamEntry[];
  readonly decode: DecodeFigures;
  readonly draining: boolean;
}

/** The first event: history of the windows, then the rings' entries (each as its own event's payload). */
export interface Hello {
  readonly t: number;
  /** Seconds of history in the windows. */
  readonly window: number;
  readonly version: string;
  readonly addresses: { readonly grpc: string | null; readonly http: string | null };
  readonly signals: Record<string, RowHistory>;
  readonly services: Record<string, RowHistory>;
  readonly tenants: Record<string, RowHistory>;
  readonly refusals: Record<string, number[]>;
  readonly queuedBytes: number[];
  readonly diskBytes: number[] | null;
  readonly reloads: readonly ReloadEntry[];
  /** Bounds of what the server keeps, for the page to say. */
  readonly limits: { readonly ringBytes: Record<string, number>; readonly decodeRequestsPerSecond: number; readonly decodeBytesPerSecond: number };
}

/** Attribute values as shown: strings, numbers, booleans; arrays, maps and bytes as their JSON-like text. */
export type AttrValue = string | number | boolean;
export type Attrs = Record<string, AttrValue>;

/** One accepted request, for the live tail. */
export interface RequestEntry {
  readonly seq: number;
  /** When it was accepted, ms since the epoch. */
  readonly t: number;
  readonly signal: 'metrics' | 'logs' | 'traces';
  readonly protocol: string;
  readonly tenant: string | null;
  readonly services: readonly string[];
  readonly items: number;
  readonly bytes: number;
  readonly upstreams: readonly string[];
  /** Metric names, span names (distinct, at most 50). */
  readonly names: readonly string[];
  /** Log severities present (text, or `SEVERITY_NUMBER_n`). */
  readonly severities: readonly string[];
  /** The first items as readable lines (at most 20). */
  readonly preview: readonly string[];
  /** Searchable text: names, bodies, attribute keys and values (at most 4096 characters). */
  readonly text: string;
}

/** A metric data point. `v`: the value (a sum or gauge), or a histogram's or summary's count; `sum` when it has one. */
export interface PointEntry {
  readonly t: number;
  readonly metric: string;
  readonly type: 'gauge' | 'sum' | 'histogram' | 'exponentialHistogram' | 'summary';
  readonly monotonic: boolean;
  readonly temporality: 'delta' | 'cumulative' | null;
  readonly unit: string;
  readonly service: string;
  readonly tenant: string | null;
  readonly v: number;
  readonly sum: number | null;
  readonly attrs: Attrs;
}

export interface LogEntry {
  readonly t: number;
  readonly service: string;
  readonly tenant: string | null;
  readonly severityNumber: number;
  readonly severity: string;
  readonly body: string;
  readonly attrs: Attrs;
  readonly traceId: string;
  readonly spanId: string;
}

export interface SpanEntry {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
  /** Start and end, ms since the epoch (fractional: sub-millisecond spans keep their width). */
  readonly start: number;
  readonly end: number;
  /** 0 unset, 1 ok, 2 error. */
  readonly status: number;
  readonly statusMessage: string;
  readonly service: string;
  readonly tenant: string | null;
  readonly attrs: Attrs;
}

/** Entries this client did not get because its connection fell behind. */
export interface Lost {
  readonly events: number;
}
