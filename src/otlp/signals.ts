/**
 * The per-signal facts of OTLP that need no generated schema: paths, names, the partial-success
 * field, and the partial-success rule. Receivers, transports, the scanner and the printers read
 * them here. Schema-free on purpose: the main entry may load this module, and it must never load
 * gen/ or protobuf-es reflection at start-up (test/layering.test.ts). The schemas of each signal,
 * and the Export responses built from them, are in signal-schemas.ts.
 */
import type { Signal } from './types.js';

/** What one signal is on the wire. */
export interface SignalSpec {
  /** OTLP/HTTP path of its Export call. */
  readonly httpPath: string;
  /** Fully-qualified gRPC service. */
  readonly grpcService: string;
  /** gRPC path of its Export method (`/<service>/Export`). */
  readonly grpcPath: string;
  /** What its items are called, singular and plural (`data point`, `data points`). */
  readonly item: readonly [singular: string, plural: string];
  /**
   * Proto field names of the request's three levels (resource entries, scope entries, items),
   * for messages about the wire format.
   */
  readonly fields: readonly [resource: string, scope: string, items: string];
  /** Fully-qualified name of its `Export*PartialSuccess` message. */
  readonly partialSuccessType: string;
  /** The `Export*PartialSuccess` field with the rejected count, as protobuf-es names it. */
  readonly rejectedField: 'rejectedDataPoints' | 'rejectedLogRecords' | 'rejectedSpans';
}

function spec(
  signal: Signal,
  pkg: string,
  name: string,
  item: SignalSpec['item'],
  fields: SignalSpec['fields'],
  rejectedField: SignalSpec['rejectedField'],
): SignalSpec {
  const grpcService = `opentelemetry.proto.collector.${pkg}.v1.${name}Service`;
  return Object.freeze({
    httpPath: `/v1/${signal}`,
    grpcService,
    grpcPath: `/${grpcService}/Export`,
    item,
    fields,
    partialSuccessType: `opentelemetry.proto.collector.${pkg}.v1.Export${name}PartialSuccess`,
    rejectedField,
  });
}

/** Every signal's facts. */
export const SIGNAL_SPECS: Readonly<Record<Signal, SignalSpec>> = Object.freeze({
  metrics: spec(
    'metrics',
    'metrics',
    'Metrics',
    ['data point', 'data points'],
    ['resource_metrics', 'scope_metrics', 'metrics'],
    'rejectedDataPoints',
  ),
  logs: spec('logs', 'logs', 'Logs', ['log record', 'log records'], ['resource_logs', 'scope_logs', 'log_records'], 'rejectedLogRecords'),
  traces: spec('traces', 'trace', 'Trace', ['span', 'spans'], ['resource_spans', 'scope_spans', 'spans'], 'rejectedSpans'),
});

/** Every signal, in a fixed order (metrics, logs, traces). */
export const SIGNALS: readonly Signal[] = Object.freeze(Object.keys(SIGNAL_SPECS) as Signal[]);

/** The signal of an OTLP/HTTP path (`/v1/metrics` → metrics). */
export const SIGNAL_BY_HTTP_PATH: ReadonlyMap<string, Signal> = new Map(SIGNALS.map((s) => [SIGNAL_SPECS[s].httpPath, s]));

/** The signal of a gRPC method path. */
export const SIGNAL_BY_GRPC_PATH: ReadonlyMap<string, Signal> = new Map(SIGNALS.map((s) => [SIGNAL_SPECS[s].grpcPath, s]));

/** `1 data point`, `2 data points`. */
export function countItems(signal: Signal, n: number): string {
  return `${n} ${SIGNAL_SPECS[signal].item[n === 1 ? 0 : 1]}`;
}

/**
 * Whether an Export response carries a partial success: when items were rejected, or when there
 * is a message for the client even with none rejected. The OTLP spec
 * (https://opentelemetry.io/docs/specs/otlp/#partial-success) says a server MUST set
 * `partial_success` when it rejected some items, and MAY set it with `error_message` and a zero
 * count to pass a warning; with neither it MUST leave the field unset. Both receivers answer by
 * this rule and both transports read by it, so gRPC and HTTP agree.
 */
export function isPartialSuccess(rejected: number | bigint, message: string): boolean {
  return rejected > 0 || message !== '';
}
