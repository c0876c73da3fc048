/**
 * The gateway's own metrics, recorded through our metrics SDK (src/metrics) and named in
 * docs/gateway-metrics.md. Request-path counters use bound handles looked up in small
 * maps (no attribute object per request); upstream figures are observed from each
 * backend's `stats()` once per collection, so forwarding itself records nothing.
 *
 * Client-supplied values are bounded before they become attributes: the first
 * `maxServiceNames` distinct `service.name`s (and `maxTenants` tenants) get their own
 * series for the life of the process, later ones share `(other)`. First-come rather than
 * top-N because a cumulative series cannot move between buckets without its total
 * going backwards.
 */
import type { Attributes } from '../../otlp/types.js';
import type { Clock } from '../../internal/clock.js';
import type { BoundCounter, Histogram } from '../../metrics/instruments.js';
import { ValueType } from '../../metrics/instrument-descriptor.js';
import { createMeterProvider, type MeterProvider } from '../../metrics/meter-provider.js';
import type { Meter } from '../../metrics/meter.js';
import { GatewayConfigError } from '../config/config-error.js';
import type { BackendStats } from '../../export/backend.js';
import type { ForwardedEvent, GatewayView, ProcessedEvent, RefusedEvent, ReloadResult, RequestEvent, UpstreamView } from './events.js';
import { latencyBucketBoundsMs, LatencyDelta } from './latency.js';
import { OTHER_ROW } from './tally.js';

/** Instrumentation scope of the gateway's metrics. */
export const GATEWAY_METER_NAME = 'otlp-fanout/gateway';

/**
 * Boundaries (seconds) of the export duration histogram: 0.5 ms to 10 s, dense where a
 * healthy loopback or LAN backend answers; the spec's default (0..10000) assumes ms.
 */
export const EXPORT_DURATION_BOUNDARIES_S: readonly number[] = Object.freeze([
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

/** Options of `createGatewayMeterProvider`. */
export interface GatewayMeterProviderOptions {
  /**
   * Resource attributes; merged over `{ 'service.name': 'otlp-fanout-gateway' }` so the
   * gateway's telemetry is recognisable in a backend it also forwards to.
   */
  readonly resource?: Attributes;
  /** Time source; default the system clock. */
  readonly clock?: Clock;
}

/** A meter provider for the gateway's own metrics (export consumers and `/metrics` register on it). */
export function createGatewayMeterProvider(options: GatewayMeterProviderOptions = {}): MeterProvider {
  return createMeterProvider({
    resource: { 'service.name': 'otlp-fanout-gateway', ...options.resource },
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
}

/** Options of `createGatewayMetrics`. */
export interface GatewayMetricsOptions {
  /**
   * Distinct `service.name` values with their own series; later ones share `(other)`.
   * Default 100: enough for a fleet's services, small enough for any metrics backend.
   */
  readonly maxServiceNames?: number;
  /** Distinct tenants with their own series; default 1000 (tenants come from the config, not clients). */
  readonly maxTenants?: number;
}

/** What the observer reports to the gateway's metrics. */
export interface GatewayMetrics {
  /** Counts an accepted request: requests, items (per tenant), body bytes, items per service. */
  request(event: RequestEvent): void;
  /** Counts a refused request: requests (outcome refused) and refusals by reason. */
  refused(event: RefusedEvent): void;
  /** Counts one (request, upstream) handed to a queue. */
  forwarded(event: ForwardedEvent): void;
  /** Counts what an upstream's processors dropped (by reason) and keeps its temporality state's figures. */
  processed(event: ProcessedEvent): void;
  /** Counts a reload by outcome. */
  reload(result: ReloadResult): void;
  /** Starts observing the upstreams and the queue of `view` (once; later calls are ignored). */
  attach(view: GatewayView): void;
}

const SIGNAL_INDEX = { metrics: 0, logs: 1, traces: 2 } as const;
const BODY_INDEX = { as_received: 0, spliced: 1, reencoded: 2, processed: 3 } as const;

type SignalHandles = { readonly metrics: BoundCounter; readonly logs: BoundCounter; readonly traces: BoundCounter };

function bySignal(counter: { bind(a?: Attributes): BoundCounter }, extra: Attributes): SignalHandles {
  return {
    metrics: counter.bind({ ...extra, signal: 'metrics' }),
    logs: counter.bind({ ...extra, signal: 'logs' }),
    traces: counter.bind({ ...extra, signal: 'traces' }),
  };
}

/** Creates the gateway's instruments on `provider`. */
export function createGatewayMetrics(provider: MeterProvider, options: GatewayMetricsOptions = {}): GatewayMetrics {
  const maxServiceNames = positiveInt(options.maxServiceNames, 100, 'maxServiceNames');
  const maxTenants = positiveInt(options.maxTenants, 1000, 'maxTenants');
  const meter = provider.getMeter(GATEWAY_METER_NAME);
  const int = { valueType: ValueType.INT };

  const requests = meter.createCounter('otlp_fanout.gateway.requests', {
    ...int,
    unit: '{request}',
    description: 'Export requests received, by signal, receiving protocol and outcome (accepted or refused).',
  });
  const items = meter.createCounter('otlp_fanout.gateway.items', {
    ...int,
    unit: '{item}',
    description: 'Data points, log records and spans in accepted requests, by signal (and tenant when auth is on).',
  });
  const received = meter.createCounter('otlp_fanout.gateway.received.size', {
    ...int,
    unit: 'By',
    description: 'Body bytes of accepted requests after decompression, by signal and protocol.',
  });
  const serviceItems = meter.createCounter('otlp_fanout.gateway.service.items', {
    ...int,
    unit: '{item}',
    description: `Items of accepted requests by service.name (first ${maxServiceNames} names; later ones as "${OTHER_ROW}").`,
  });
  const dropped = meter.createCounter('otlp_fanout.gateway.items.dropped', {
    ...int,
    unit: '{item}',
    description:
      'Items of accepted requests the gateway itself dropped, by signal and reason (no_route: matched no route; ' +
      'for an upstream, by its processors: metric_name, log_severity, log_match, span_name, first_point, late, overlap).',
  });
  const noRoute = bySignal(dropped, { reason: 'no_route' });
  // Per upstream, reason and signal: bounded by the config (upstreams) and the closed reason set.
  const droppedHandles = new Map<string, BoundCounter>();
  // Temporality state per converting upstream: the latest figures, and evictions summed across state replacements (a reload with new settings).
  interface StreamFigures {
    tracked: number;
    lru: number;
    stale: number;
    lastLru: number;
    lastStale: number;
    readonly attrs: Attributes;
    readonly full: Attributes;
    readonly staleAttrs: Attributes;
  }
  const streams = new Map<string, StreamFigures>();
  const tracked = meter.createObservableUpDownCounter('otlp_fanout.gateway.upstream.streams', {
    ...int,
    unit: '{stream}',
    description: "Metric streams whose state an upstream's temporality conversion keeps.",
  });
  const evicted = meter.createObservableCounter('otlp_fanout.gateway.upstream.streams.evicted', {
    ...int,
    unit: '{stream}',
    description:
      'Streams a temporality conversion forgot, by reason: full (maxStreams reached, least recently seen first) or stale (not seen for staleAfter).',
  });
  meter.addBatchObservableCallback(
    (r) => {
      for (const s of streams.values()) {
        r.observe(tracked, s.tracked, s.attrs);
        r.observe(evicted, s.lru, s.full);
        r.observe(evicted, s.stale, s.staleAttrs);
      }
    },
    [tracked, evicted],
  );
  const refusals = meter.createCounter('otlp_fanout.gateway.refusals', {
    ...int,
    unit: '{request}',
    description: 'Refused requests by reason (and signal when known).',
  });
  const forwarded = meter.createCounter('otlp_fanout.gateway.forwarded', {
    ...int,
    unit: '{request}',
    description: 'Requests handed to an upstream queue, by upstream, signal, body (as_received, spliced, reencoded, processed) and queued.',
  });
  const reloads = meter.createCounter('otlp_fanout.gateway.reloads', {
    ...int,
    unit: '{reload}',
    description: 'Configuration reloads by outcome: applied, rejected (invalid; the running configuration was kept), unchanged.',
  });
  // Every outcome shows (at 0) from the start, so an alert on `rejected` has a series before the first reload.
  const reloadHandles = {
    applied: reloads.bind({ outcome: 'applied' }),
    rejected: reloads.bind({ outcome: 'rejected' }),
    unchanged: reloads.bind({ outcome: 'unchanged' }),
  };
  for (const h of Object.values(reloadHandles)) h.add(0);
  const duration: Histogram = meter.createHistogram('otlp_fanout.gateway.upstream.export.duration', {
    unit: 's',
    description: 'Duration of export attempts to each upstream (bucketed at about 4% resolution).',
    advice: { explicitBucketBoundaries: EXPORT_DURATION_BOUNDARIES_S },
  });

  // Request path: handles bound once per (signal, protocol, outcome), per tenant, per service.
  const requestHandles = new Map<string, SignalHandles>();
  const requestFor = (protocol: string, outcome: 'accepted' | 'refused'): SignalHandles => {
    const key = outcome === 'accepted' ? protocol : `refused:${protocol}`;
    let h = requestHandles.get(key);
    if (h === undefined) {
      h = bySignal(requests, { protocol, outcome });
      requestHandles.set(key, h);
    }
    return h;
  };
  const refusedUnknownSignal = new Map<string, BoundCounter>();
  const receivedHandles = new Map<string, SignalHandles>();
  const itemsNoTenant = bySignal(items, {});
  const itemsByTenant = new Map<string, SignalHandles>();
  const serviceHandles = new Map<string, SignalHandles>();
  const refusalHandles = new Map<string, SignalHandles>();
  const refusalNoSignal = new Map<string, BoundCounter>();
  // Per upstream, 3 signals × 3 body kinds × queued or not, bound on first use.
  const forwardedHandles = new Map<string, (BoundCounter | undefined)[]>();

  function bounded(map: Map<string, SignalHandles>, max: number, name: string, make: (name: string) => SignalHandles): SignalHandles {
    let h = map.get(name);
    if (h !== undefined) return h;
    const key = map.size >= max ? OTHER_ROW : name;
    h = map.get(key);
    if (h === undefined) {
      h = make(key);
      map.set(key, h);
    }
    return h;
  }

  let attached = false;
  return {
    request(e) {
      requestFor(e.protocol, 'accepted')[e.signal].add(1);
      let r = receivedHandles.get(e.protocol);
      if (r === undefined) {
        r = bySignal(received, { protocol: e.protocol });
        receivedHandles.set(e.protocol, r);
      }
      r[e.signal].add(e.bytes);
      const t = e.tenant === undefined ? itemsNoTenant : bounded(itemsByTenant, maxTenants, e.tenant, (tenant) => bySignal(items, { tenant }));
      t[e.signal].add(e.items);
      if (e.unrouted > 0) noRoute[e.signal].add(e.unrouted);
      const names = e.serviceNames;
      for (let i = 0; i < names.length; i++) {
        bounded(serviceHandles, maxServiceNames, names[i]!, (n) => bySignal(serviceItems, { 'service.name': n }))[e.signal].add(e.items);
      }
    },
    refused(e) {
      const protocol = e.protocol ?? 'unknown';
      if (e.signal === undefined) {
        let h = refusedUnknownSignal.get(protocol);
        if (h === undefined) {
          h = requests.bind({ protocol, outcome: 'refused', signal: 'unknown' });
          refusedUnknownSignal.set(protocol, h);
        }
        h.add(1);
        let rh = refusalNoSignal.get(e.reason);
        if (rh === undefined) {
          rh = refusals.bind({ reason: e.reason });
          refusalNoSignal.set(e.reason, rh);
        }
        rh.add(1);
        return;
      }
      requestFor(protocol, 'refused')[e.signal].add(1);
      let rh = refusalHandles.get(e.reason);
      if (rh === undefined) {
        rh = bySignal(refusals, { reason: e.reason });
        refusalHandles.set(e.reason, rh);
      }
      rh[e.signal].add(1);
    },
    forwarded(e) {
      // Upstream names come from the configuration, so this map is bounded by it.
      let table = forwardedHandles.get(e.upstream);
      if (table === undefined) {
        table = new Array<BoundCounter | undefined>(24).fill(undefined);
        forwardedHandles.set(e.upstream, table);
      }
      const slot = SIGNAL_INDEX[e.signal] * 8 + BODY_INDEX[e.body] * 2 + (e.queued ? 1 : 0);
      let h = table[slot];
      if (h === undefined) {
        h = forwarded.bind({ upstream: e.upstream, signal: e.signal, body: e.body, queued: e.queued });
        table[slot] = h;
      }
      h.add(1);
    },
    processed(e) {
      for (const [reason, n] of e.dropped) {
        const key = `${e.upstream}\n${reason}\n${e.signal}`;
        let h = droppedHandles.get(key);
        if (h === undefined) {
          h = dropped.bind({ signal: e.signal, reason, upstream: e.upstream });
          droppedHandles.set(key, h);
        }
        h.add(n);
      }
      const now = e.streams;
      if (now === undefined) return;
      let s = streams.get(e.upstream);
      if (s === undefined) {
        const upstream = e.upstream;
        s = {
          tracked: 0,
          lru: 0,
          stale: 0,
          lastLru: 0,
          lastStale: 0,
          attrs: Object.freeze({ upstream }),
          full: Object.freeze({ upstream, reason: 'full' }),
          staleAttrs: Object.freeze({ upstream, reason: 'stale' }),
        };
        streams.set(e.upstream, s);
      }
      s.tracked = now.tracked;
      // A replaced state (new settings) counts from zero again: its whole count is new.
      s.lru += now.evictedLru >= s.lastLru ? now.evictedLru - s.lastLru : now.evictedLru;
      s.stale += now.evictedStale >= s.lastStale ? now.evictedStale - s.lastStale : now.evictedStale;
      s.lastLru = now.evictedLru;
      s.lastStale = now.evictedStale;
    },
    reload(result) {
      reloadHandles[result.outcome].add(1);
    },
    attach(view) {
      if (attached) return;
      attached = true;
      observeView(meter, view, duration);
    },
  };
}

/** Registers the observable instruments that read `view` at each collection. */
function observeView(meter: Meter, view: GatewayView, duration: Histogram): void {
  const int = { valueType: ValueType.INT };
  const upItems = meter.createObservableCounter('otlp_fanout.gateway.upstream.items', {
    ...int,
    unit: '{item}',
    description: 'Items per upstream by outcome: sent, rejected (partial success), failed (given up), dropped (queue full or shutdown).',
  });
  const upAttempts = meter.createObservableCounter('otlp_fanout.gateway.upstream.attempts', {
    ...int,
    unit: '{request}',
    description: 'Export attempts per upstream by outcome (success, failure); a retried request counts once per attempt.',
  });
  const upRetries = meter.createObservableCounter('otlp_fanout.gateway.upstream.retries', {
    ...int,
    unit: '{request}',
    description: 'Retries scheduled per upstream.',
  });
  const upQueueBytes = meter.createObservableUpDownCounter('otlp_fanout.gateway.upstream.queue.size', {
    ...int,
    unit: 'By',
    description: 'Bytes of request bodies waiting in each upstream queue.',
  });
  const upQueueRequests = meter.createObservableUpDownCounter('otlp_fanout.gateway.upstream.queue.requests', {
    ...int,
    unit: '{request}',
    description: 'Requests waiting in each upstream queue.',
  });
  const upInFlight = meter.createObservableUpDownCounter('otlp_fanout.gateway.upstream.in_flight', {
    ...int,
    unit: '{request}',
    description: 'Export calls in flight per upstream.',
  });
  const queueBytes = meter.createObservableUpDownCounter('otlp_fanout.gateway.queue.size', {
    ...int,
    unit: 'By',
    description: 'Bytes queued across all upstreams (what backpressure compares with the limit).',
  });
  const queueLimit = meter.createObservableGauge('otlp_fanout.gateway.queue.limit', {
    ...int,
    unit: 'By',
    description: 'The backpressure limit on otlp_fanout.gateway.queue.size.',
  });

  const storageSize = meter.createObservableUpDownCounter('otlp_fanout.gateway.storage.size', {
    ...int,
    unit: 'By',
    description: 'Bytes of the durable storage log on disk (with --storage).',
  });
  const storageLimit = meter.createObservableGauge('otlp_fanout.gateway.storage.limit', {
    ...int,
    unit: 'By',
    description: 'The bound on otlp_fanout.gateway.storage.size (storage.maxBytes).',
  });
  const storageCorrupt = meter.createObservableCounter('otlp_fanout.gateway.storage.corrupt', {
    ...int,
    unit: '{record}',
    description: 'Records of the durable storage log lost to damage (skipped at start or when read).',
  });
  const storageFailures = meter.createObservableCounter('otlp_fanout.gateway.storage.write_failures', {
    ...int,
    unit: '{write}',
    description: 'Writes to durable storage that failed (disk full, I/O error): their requests were refused.',
  });

  const bounds = latencyBucketBoundsMs();
  interface Observed {
    readonly u: UpstreamView;
    /**
     * Counters of the instances this name had before a reload replaced them (as they were at the
     * first collection after the swap): added to the current one's, so an upstream's cumulative
     * series keep growing across its rebuilds.
     */
    readonly base: Counted;
    readonly attrs: Attributes;
    readonly sent: Attributes;
    readonly rejected: Attributes;
    readonly failed: Attributes;
    readonly dropped: Attributes;
    readonly success: Attributes;
    readonly failure: Attributes;
    readonly delta: LatencyDelta;
    readonly recorder: ReturnType<Histogram['bind']>;
  }
  const observe = (u: UpstreamView, base: Counted): Observed => {
    const a = (extra: Attributes): Attributes => Object.freeze({ upstream: u.name, ...extra });
    return {
      u,
      base,
      attrs: a({}),
      sent: a({ outcome: 'sent' }),
      rejected: a({ outcome: 'rejected' }),
      failed: a({ outcome: 'failed' }),
      dropped: a({ outcome: 'dropped' }),
      success: a({ outcome: 'success' }),
      failure: a({ outcome: 'failure' }),
      delta: new LatencyDelta(u.latency),
      recorder: duration.bind({ upstream: u.name }),
    };
  };
  // The view's list is a new array after each reload: re-read then, keyed by name. A removed
  // upstream's series are no longer reported (a name added again later starts from zero).
  let seen: readonly UpstreamView[] | undefined;
  let ups: Observed[] = [];
  const sync = (): void => {
    if (view.upstreams === seen) return;
    seen = view.upstreams;
    const byName = new Map(ups.map((x) => [x.u.name, x]));
    ups = seen.map((u) => {
      const x = byName.get(u.name);
      if (x === undefined) return observe(u, ZERO);
      return x.u === u ? x : observe(u, add(x.base, x.u.stats()));
    });
  };
  // Now, so the calls completed before the first collection are counted in it.
  sync();
  meter.addBatchObservableCallback(
    (r) => {
      sync();
      for (const x of ups) {
        const now = x.u.stats();
        const s = x.base === ZERO ? now : add(x.base, now);
        r.observe(upItems, s.itemsSent, x.sent);
        r.observe(upItems, s.itemsRejected, x.rejected);
        r.observe(upItems, s.itemsFailed, x.failed);
        r.observe(upItems, s.itemsDropped, x.dropped);
        r.observe(upAttempts, s.requestsSent - s.requestsFailed, x.success);
        r.observe(upAttempts, s.requestsFailed, x.failure);
        r.observe(upRetries, s.retries, x.attrs);
        r.observe(upQueueBytes, now.queueBytes, x.attrs);
        r.observe(upQueueRequests, now.queueRequests, x.attrs);
        r.observe(upInFlight, now.inFlightRequests, x.attrs);
        // Callbacks run before the synchronous series are drained (meter-provider.ts), so
        // the calls recorded here land in this very collection, and in every consumer's.
        const h = x.delta.next();
        if (h.count === 0) continue;
        for (let i = 0; i < h.counts.length; i++) {
          const n = h.counts[i]!;
          if (n === 0) continue;
          const seconds = Math.min(bounds[i]!, h.max) / 1000;
          for (let k = 0; k < n; k++) x.recorder.record(seconds);
        }
      }
      r.observe(queueBytes, view.queuedBytes());
      r.observe(queueLimit, view.maxQueuedBytes);
      const storage = view.storage?.stats();
      if (storage !== undefined) {
        r.observe(storageSize, storage.bytesOnDisk);
        r.observe(storageLimit, storage.maxBytes);
        r.observe(storageCorrupt, storage.corruptRecords);
        r.observe(storageFailures, storage.appendFailures);
      }
    },
    [
      upItems,
      upAttempts,
      upRetries,
      upQueueBytes,
      upQueueRequests,
      upInFlight,
      queueBytes,
      queueLimit,
      storageSize,
      storageLimit,
      storageCorrupt,
      storageFailures,
    ],
  );
}

/** The cumulative counters of a backend. */
type Counted = Pick<BackendStats, 'itemsSent' | 'itemsRejected' | 'itemsFailed' | 'itemsDropped' | 'requestsSent' | 'requestsFailed' | 'retries'>;

const ZERO: Counted = Object.freeze({
  itemsSent: 0,
  itemsRejected: 0,
  itemsFailed: 0,
  itemsDropped: 0,
  requestsSent: 0,
  requestsFailed: 0,
  retries: 0,
});

function add(a: Counted, b: Counted): Counted {
  return {
    itemsSent: a.itemsSent + b.itemsSent,
    itemsRejected: a.itemsRejected + b.itemsRejected,
    itemsFailed: a.itemsFailed + b.itemsFailed,
    itemsDropped: a.itemsDropped + b.itemsDropped,
    requestsSent: a.requestsSent + b.requestsSent,
    requestsFailed: a.requestsFailed + b.requestsFailed,
    retries: a.retries + b.retries,
  };
}

function positiveInt(v: number | undefined, fallback: number, field: string): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < 1) throw new GatewayConfigError(field, `expected an integer ≥ 1, got ${String(v)}`);
  return v;
}
