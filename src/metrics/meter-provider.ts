/**
 * The meter provider: meters, views, and the consumers that collect them.
 *
 * A consumer (a reader: one per backend, say) registers with its temporality
 * preference and collects when it wants. A collection
 * 1. runs the observable callbacks for this consumer (awaiting async ones),
 * 2. reads the clock once,
 * 3. drains every synchronous series into every consumer's state in one synchronous
 *    pass (see sync-stream.ts), then
 * 4. writes this consumer's view straight to `ExportMetricsServiceRequest` bytes.
 *
 * Start times:
 * - delta: the consumer's previous collection; for its first, the instrument's
 *   creation or the consumer's registration, whichever is later (registration drains
 *   everything into the consumers already there, so a new consumer starts empty).
 * - cumulative, synchronous: the last drain of the stream (any consumer's collection
 *   or registration, else the instrument's creation) before the series' first
 *   measurement, or the consumer's registration if later; fixed for the life of the
 *   series. This is the start of the interval the first measurement fell in: never
 *   after it, as the data model requires, and known without reading the clock on the
 *   hot path (the exact instant would cost a clock read and a bigint per series).
 * - cumulative, observable: the instrument's creation (see observable-stream.ts).
 */
import { BinaryWriter } from '../otlp/encode/binary-writer.js';
import type { ExportMetricsServiceRequest } from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { systemClock, type Clock } from '../internal/clock.js';
import { warnOnce } from '../internal/warn.js';
import { isAttributeValue } from '../otlp/encode/common.js';
import { encodeResource } from '../otlp/encode/metrics.js';
import type { Attributes } from '../otlp/types.js';
import type { DefaultHistogramAggregation } from './aggregate/aggregation.js';
import { attributesText } from './attribute-key.js';
import { MetricsConfigError } from './errors.js';
import type { InstrumentKind } from './instrument-descriptor.js';
import { MeterImpl, type Meter, type MeterContext, type MeterOptions } from './meter.js';
import { RequestBuilder, type RequestLimits } from './request-builder.js';
import { SyncStream } from './sync-stream.js';
import { temporalityFor, validateTemporality, type Temporality, type TemporalityPreference } from './temporality.js';
import { validateView, type View, type ViewOptions } from './view.js';

/** Provider options. */
export interface MeterProviderOptions {
  /** Resource attributes of every request; default none (the config layer supplies service.name and friends). */
  readonly resource?: Attributes;
  /** `ResourceMetrics.schema_url`; default ''. */
  readonly resourceSchemaUrl?: string;
  /** Views, applied to every instrument created afterwards; default none. */
  readonly views?: readonly ViewOptions[];
  /**
   * Attributes added to every point of every metric; a point's own attribute of the same key
   * wins. Default none. For an identity that dashboards filter every signal by (a tenant, a
   * node). Added when a series' attributes are first encoded, so a measurement pays nothing;
   * they make no series (no cardinality cost) and views' `attributeKeys` do not filter them.
   */
  readonly attributes?: Attributes;
  /**
   * Most series per stream, overflow series included; default 2000, the spec's
   * default: a bound on memory that typical instrumentation stays far below.
   */
  readonly cardinalityLimit?: number;
  /**
   * Aggregation of histograms that no view configures; default
   * 'explicit_bucket_histogram', as the spec and the environment variable default.
   */
  readonly defaultHistogramAggregation?: DefaultHistogramAggregation;
  /** Time source; default the system clock. Tests inject `manualClock()`. */
  readonly clock?: Clock;
}

/** Consumer options. */
export interface ConsumerOptions {
  /**
   * Temporality per instrument kind: a preset ('cumulative', 'delta', 'lowmemory', see
   * temporality.ts) or a function; default 'cumulative', as the OTLP exporter spec says.
   */
  readonly temporality?: TemporalityPreference;
}

/** Options of one collection. */
export interface CollectOptions extends RequestLimits {
  /**
   * Stops waiting for async callbacks when aborted: the collection goes on with what
   * was observed so far and later observations are dropped. Default: wait for all.
   */
  readonly signal?: AbortSignal;
}

/** A registered consumer of the provider's metrics. */
export interface MetricConsumer {
  readonly temporality: TemporalityPreference;
  /**
   * Collects this consumer's view as complete `ExportMetricsServiceRequest` bodies, each
   * within `maxPointsPerRequest`/`maxRequestBytes`; none when there is nothing to report.
   * Collections of one consumer run one after the other.
   */
  collect(options?: CollectOptions): Promise<Uint8Array[]>;
  /**
   * `collect()` without waiting: async callbacks are started but not awaited, and what
   * they observe after returning is dropped (with a warning). For exit handlers, which
   * cannot wait, and for callers that only use synchronous callbacks. Must not run
   * while an async `collect()` of the same consumer is waiting for its callbacks.
   */
  collectSync(options?: RequestLimits): Uint8Array[];
  /** `collect()` decoded to messages (same bytes, one data model). */
  collectMessages(options?: CollectOptions): Promise<ExportMetricsServiceRequest[]>;
  /** Stops collecting; what this consumer held is dropped. Idempotent. */
  unregister(): void;
}

/** Creates meters and registers consumers; structurally `@opentelemetry/api`'s `MeterProvider`. */
export interface MeterProvider {
  getMeter(name: string, version?: string, options?: MeterOptions): Meter;
  registerConsumer(options?: ConsumerOptions): MetricConsumer;
  /** Unregisters every consumer. */
  shutdown(): Promise<void>;
}

interface ValidOptions {
  readonly resource: Attributes;
  readonly resourceSchemaUrl: string;
  readonly views: readonly View[];
  readonly cardinalityLimit: number;
  readonly defaultHistogramAggregation: DefaultHistogramAggregation;
  readonly clock: Clock;
  readonly attributes: Attributes;
}

/** Spec default cardinality limit. */
export const DEFAULT_CARDINALITY_LIMIT = 2000;

/** Validates provider options into a frozen, fully-populated shape; throws `MetricsConfigError`. */
export function validateMeterProviderOptions(options: MeterProviderOptions = {}): ValidOptions {
  const o = options as { [k: string]: unknown };
  const resource = attributesOption(o['resource'], 'resource');
  const attributes = attributesOption(o['attributes'], 'attributes');
  const rsu = o['resourceSchemaUrl'] ?? '';
  if (typeof rsu !== 'string') throw new MetricsConfigError('resourceSchemaUrl', rsu, 'a string');
  const viewsIn = o['views'] ?? [];
  if (!Array.isArray(viewsIn)) throw new MetricsConfigError('views', viewsIn, 'an array of views');
  const views = viewsIn.map((v: unknown, i) => validateView(v, `views[${i}]`));
  const limit = o['cardinalityLimit'] ?? DEFAULT_CARDINALITY_LIMIT;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw new MetricsConfigError('cardinalityLimit', limit, 'an integer ≥ 1');
  }
  const dh = o['defaultHistogramAggregation'] ?? 'explicit_bucket_histogram';
  if (dh !== 'explicit_bucket_histogram' && dh !== 'base2_exponential_bucket_histogram') {
    throw new MetricsConfigError('defaultHistogramAggregation', dh, "'explicit_bucket_histogram' or 'base2_exponential_bucket_histogram'");
  }
  const clock = o['clock'] ?? systemClock;
  if (typeof clock !== 'object' || clock === null || typeof (clock as { nowNanos?: unknown }).nowNanos !== 'function') {
    throw new MetricsConfigError('clock', clock, 'an object with nowNanos(): bigint');
  }
  return Object.freeze({
    resource: Object.freeze(resource),
    resourceSchemaUrl: rsu,
    views: Object.freeze(views),
    cardinalityLimit: limit,
    defaultHistogramAggregation: dh,
    clock: clock as Clock,
    attributes: Object.freeze(attributes),
  });
}

function attributesOption(value: unknown, field: string): { [k: string]: Attributes[string] } {
  const out: { [k: string]: Attributes[string] } = {};
  if (value === undefined) return out;
  if (typeof value !== 'object' || value === null) throw new MetricsConfigError(field, value, 'an attributes object');
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    if (!isAttributeValue(v)) throw new MetricsConfigError(`${field}.${k}`, v, 'a string, number, boolean or homogeneous array');
    out[k] = v;
  }
  return out;
}

class Consumer implements MetricConsumer {
  readonly temporality: TemporalityPreference;
  readonly registered: bigint;
  /** Time of this consumer's previous collection. */
  last: bigint | undefined = undefined;
  closed = false;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly provider: Provider,
    readonly slot: number,
    temporality: TemporalityPreference,
    registered: bigint,
  ) {
    this.temporality = temporality;
    this.registered = registered;
  }

  collect(options: CollectOptions = {}): Promise<Uint8Array[]> {
    const run = this.#queue.then(() => this.provider.collectFor(this, options));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  collectSync(options: RequestLimits = {}): Uint8Array[] {
    return this.provider.collectSyncFor(this, options);
  }

  async collectMessages(options: CollectOptions = {}): Promise<ExportMetricsServiceRequest[]> {
    const bodies = await this.collect(options);
    // Loaded here, not at import: reflection and the schemas are a reader's cost (src/otlp/decode.ts).
    const { decodeExportRequest } = await import('../otlp/decode.js');
    return bodies.map((b) => decodeExportRequest('metrics', b));
  }

  unregister(): void {
    this.provider.unregister(this);
  }
}

class Provider implements MeterProvider, MeterContext {
  readonly clock: Clock;
  readonly views: readonly View[];
  readonly cardinalityLimit: number;
  readonly defaultHistogramAggregation: DefaultHistogramAggregation;
  readonly commonAttributes: Attributes;
  readonly meters: MeterImpl[] = [];
  /** By slot, in registration order; a slot is never reused. */
  readonly consumers: (Consumer | undefined)[] = [];
  readonly #meterByKey = new Map<string, MeterImpl>();
  readonly #resourceBytes: Uint8Array;
  readonly #resourceSchemaUrl: string;
  // Shared by every collection (emission is synchronous): its buffer keeps the size of
  // the largest body, instead of growing from 1 KiB by doubling each time.
  #writer = new BinaryWriter();

  constructor(o: ValidOptions) {
    this.clock = o.clock;
    this.views = o.views;
    this.cardinalityLimit = o.cardinalityLimit;
    this.defaultHistogramAggregation = o.defaultHistogramAggregation;
    this.commonAttributes = o.attributes;
    this.#resourceBytes = encodeResource(o.resource);
    this.#resourceSchemaUrl = o.resourceSchemaUrl;
  }

  temporalities(kind: InstrumentKind): (Temporality | undefined)[] {
    return this.consumers.map((c) => (c === undefined ? undefined : temporalityFor(c.temporality, kind)));
  }

  getMeter(name: string, version = '', options: MeterOptions = {}): Meter {
    if (typeof name !== 'string' || name === '') {
      warnOnce('meter-name', `getMeter got an empty or invalid name (${String(name)}); the meter works, with name ''`);
      name = typeof name === 'string' ? name : '';
    }
    const schemaUrl = options.schemaUrl ?? '';
    const attrsKey = options.attributes === undefined ? '' : attributesText(options.attributes);
    const key = `${name}\u0000${version}\u0000${schemaUrl}\u0000${attrsKey}`;
    let m = this.#meterByKey.get(key);
    if (m === undefined) {
      m = new MeterImpl(this, `${name}@${version}`, name, version, options);
      this.#meterByKey.set(key, m);
      this.meters.push(m);
    }
    return m;
  }

  registerConsumer(options: ConsumerOptions = {}): MetricConsumer {
    const temporality = validateTemporality(options.temporality, 'temporality');
    // What was measured so far belongs to the consumers already there.
    const now = this.clock.nowNanos();
    this.#drainAll(now);
    const c = new Consumer(this, this.consumers.length, temporality, now);
    this.consumers.push(c);
    for (const m of this.meters) {
      for (const st of m.streams) st.addConsumer(temporalityFor(temporality, st.info.kind) === 'delta');
    }
    return c;
  }

  unregister(c: Consumer): void {
    if (c.closed) return;
    c.closed = true;
    this.consumers[c.slot] = undefined;
    for (const m of this.meters) for (const st of m.streams) st.removeConsumer(c.slot);
  }

  async shutdown(): Promise<void> {
    for (const c of this.consumers) if (c !== undefined) this.unregister(c);
  }

  #drainAll(now: bigint): void {
    for (const m of this.meters) {
      for (const st of m.streams) if (st instanceof SyncStream) st.drain(now);
    }
  }

  async collectFor(c: Consumer, options: CollectOptions): Promise<Uint8Array[]> {
    if (c.closed) return [];
    const runs = this.meters.map((m) => m.observe(c.slot));
    const pending = runs.flatMap((r) => r.pending);
    if (pending.length > 0) await settle(pending, options.signal);
    for (const r of runs) r.close();
    return this.emitFor(c, options);
  }

  /** Runs the callbacks without waiting for async ones, then emits. */
  collectSyncFor(c: Consumer, options: RequestLimits): Uint8Array[] {
    if (c.closed) return [];
    for (const m of this.meters) m.observe(c.slot).close();
    return this.emitFor(c, options);
  }

  /** Steps 2–4 of a collection: one clock read, the drain, this consumer's bodies. */
  emitFor(c: Consumer, options: RequestLimits): Uint8Array[] {
    if (c.closed) return [];
    const now = this.clock.nowNanos();
    this.#drainAll(now);
    const b = new RequestBuilder(this.#resourceBytes, this.#resourceSchemaUrl, options, this.#writer);
    const deltaStart = c.last ?? c.registered;
    for (const m of this.meters) {
      b.scope(m.scopeBytes, m.identity.schemaUrl);
      for (const st of m.streams) {
        const created = st.info.created;
        if (st instanceof SyncStream) {
          st.emit(b, c.slot, deltaStart > created ? deltaStart : created, c.registered, now);
        } else {
          st.emit(b, c.slot, c.last !== undefined && c.last > created ? c.last : created, now);
        }
      }
    }
    c.last = now;
    const bodies = b.finish();
    if (b.largest > RETAIN_MAX) this.#writer = new BinaryWriter();
    return bodies;
  }
}

/** Largest body whose writer buffer (at most twice its size) is kept for the next collection. */
const RETAIN_MAX = 2 * 1024 * 1024;

/** Waits for every promise (all already caught) or for `signal` to abort, whichever is first. */
function settle(pending: Promise<unknown>[], signal: AbortSignal | undefined): Promise<void> {
  const all = Promise.all(pending).then(() => undefined);
  if (signal === undefined) return all;
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    void all.then(done);
  });
}

/** Creates a meter provider; throws `MetricsConfigError` for invalid options. */
export function createMeterProvider(options: MeterProviderOptions = {}): MeterProvider {
  return new Provider(validateMeterProviderOptions(options));
}
