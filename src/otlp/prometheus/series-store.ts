/**
 * The state behind a scrape page of received metrics (the gateway's `kind: prometheus` upstream):
 * one cell per series — resource × scope × metric (name, kind) × point attributes — holding what a
 * scrape must show, as cumulative OTLP points that render.ts turns into a page:
 * - Gauges, cumulative Sums and Histograms, Summaries: the latest point (by time: a point older than
 *   the one held, a late retry, is ignored);
 * - delta Sums and Histograms (and exponential ones): accumulated into a running total from the first
 *   delta seen, which is the point's start time; a histogram whose bounds (or scale) change starts over;
 * - a series not updated for `stalenessMillis` is removed (the Collector's Prometheus exporter does
 *   the same with `metric_expiration`): a scrape then reports it gone and Prometheus marks it stale;
 * - at most `maxSeries` cells: a new series past it is dropped and counted (the limit is checked only
 *   when a series is created, after evicting what went stale), so memory is bounded whatever arrives.
 *
 * Series keys are built per received point (sorted attributes, joined): this runs on decoded
 * requests, whose decoding costs far more; the library's hot path never comes here.
 */
import { create } from '@bufbuild/protobuf';
import {
  type ExportMetricsServiceRequest,
  ExportMetricsServiceRequestSchema,
} from '../../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import type { AnyValue, InstrumentationScope, KeyValue } from '../../../gen/opentelemetry/proto/common/v1/common_pb.js';
import {
  AggregationTemporality,
  type ExponentialHistogramDataPoint,
  type ExponentialHistogramDataPoint_Buckets,
  type HistogramDataPoint,
  type Metric,
  MetricSchema,
  type NumberDataPoint,
  type SummaryDataPoint,
} from '../../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import type { Resource } from '../../../gen/opentelemetry/proto/resource/v1/resource_pb.js';

/** Options of {@link createSeriesStore}. */
export interface SeriesStoreOptions {
  /** Series kept at most; a new one past it is dropped and counted. */
  readonly maxSeries: number;
  /** A series not updated for this long is removed. */
  readonly stalenessMillis: number;
  /** Milliseconds clock; injectable for tests. Default `Date.now`. */
  readonly now?: () => number;
}

/** Counters of a store. */
export interface SeriesStoreStats {
  /** Series held now. */
  readonly series: number;
  /** Points of new series refused at the limit. */
  readonly pointsDropped: number;
  /** Series removed as stale. */
  readonly seriesExpired: number;
}

/** The aggregated state of received metrics. */
export interface SeriesStore {
  /** Takes every point of `request`; returns how many points were dropped at the series limit. */
  ingest(request: ExportMetricsServiceRequest): number;
  /** Removes stale series and returns the rest as one cumulative request (for render.ts). */
  snapshot(): ExportMetricsServiceRequest;
  stats(): SeriesStoreStats;
}

type Kind = Exclude<Metric['data']['case'], undefined>;
type AnyPoint = NumberDataPoint | HistogramDataPoint | ExponentialHistogramDataPoint | SummaryDataPoint;

interface Cell {
  point: AnyPoint;
  seen: number;
  /** The held point is a running total of deltas. */
  accumulating: boolean;
}

interface MetricState {
  readonly name: string;
  readonly kind: Kind;
  description: string;
  unit: string;
  monotonic: boolean;
  readonly cells: Map<string, Cell>;
}

interface ScopeState {
  readonly scope: InstrumentationScope | undefined;
  readonly metrics: Map<string, MetricState>;
}

interface ResourceState {
  readonly resource: Resource | undefined;
  readonly scopes: Map<string, ScopeState>;
}

/** Sweeps for stale series at most this often when the limit is hit (a sweep walks every series). */
const SWEEP_INTERVAL_MS = 1000;

export function createSeriesStore(options: SeriesStoreOptions): SeriesStore {
  const now = options.now ?? Date.now;
  const resources = new Map<string, ResourceState>();
  let series = 0;
  let pointsDropped = 0;
  let seriesExpired = 0;
  let lastSweep = Number.NEGATIVE_INFINITY;

  function sweep(at: number): void {
    lastSweep = at;
    const oldest = at - options.stalenessMillis;
    for (const [rk, r] of resources) {
      for (const [sk, s] of r.scopes) {
        for (const [mk, m] of s.metrics) {
          for (const [ck, c] of m.cells) {
            if (c.seen < oldest) {
              m.cells.delete(ck);
              series--;
              seriesExpired++;
            }
          }
          if (m.cells.size === 0) s.metrics.delete(mk);
        }
        if (s.metrics.size === 0) r.scopes.delete(sk);
      }
      if (r.scopes.size === 0) resources.delete(rk);
    }
  }

  /** Whether a new series may be created now. */
  function room(at: number): boolean {
    if (series < options.maxSeries) return true;
    if (at - lastSweep >= SWEEP_INTERVAL_MS) sweep(at);
    return series < options.maxSeries;
  }

  return {
    ingest(request) {
      const at = now();
      let dropped = 0;
      for (const rm of request.resourceMetrics) {
        const rk = attributesKey(rm.resource?.attributes ?? []);
        let r = resources.get(rk);
        for (const sm of rm.scopeMetrics) {
          const sk = sm.scope === undefined ? '' : `${sm.scope.name}\u0000${sm.scope.version}\u0000${attributesKey(sm.scope.attributes)}`;
          let s = r?.scopes.get(sk);
          for (const metric of sm.metrics) {
            const d = metric.data;
            if (d.case === undefined) continue;
            const mk = `${metric.name}\u0000${d.case}`;
            let m = s?.metrics.get(mk);
            const temporality = 'aggregationTemporality' in d.value ? d.value.aggregationTemporality : AggregationTemporality.CUMULATIVE;
            const delta = temporality === AggregationTemporality.DELTA;
            for (const p of d.value.dataPoints as readonly AnyPoint[]) {
              const ck = attributesKey(p.attributes);
              const cell = m?.cells.get(ck);
              if (cell === undefined) {
                if (!room(at)) {
                  dropped++;
                  continue;
                }
                if (r === undefined) {
                  r = { resource: rm.resource, scopes: new Map() };
                  resources.set(rk, r);
                }
                if (s === undefined) {
                  s = { scope: sm.scope, metrics: new Map() };
                  r.scopes.set(sk, s);
                }
                if (m === undefined) {
                  m = { name: metric.name, kind: d.case, description: '', unit: '', monotonic: false, cells: new Map() };
                  s.metrics.set(mk, m);
                }
                m.cells.set(ck, { point: p, seen: at, accumulating: delta });
                series++;
              } else {
                merge(d.case, cell, p, delta);
                cell.seen = at;
              }
              // The latest description, unit and monotonicity describe the family.
              m!.description = metric.description;
              m!.unit = metric.unit;
              m!.monotonic = d.case === 'sum' && d.value.isMonotonic;
            }
          }
        }
      }
      pointsDropped += dropped;
      return dropped;
    },
    snapshot() {
      sweep(now());
      const req = create(ExportMetricsServiceRequestSchema);
      for (const r of resources.values()) {
        const scopeMetrics = [];
        for (const s of r.scopes.values()) {
          const metrics: Metric[] = [];
          for (const m of s.metrics.values()) metrics.push(asMetric(m));
          scopeMetrics.push({ $typeName: 'opentelemetry.proto.metrics.v1.ScopeMetrics' as const, scope: s.scope, metrics, schemaUrl: '' });
        }
        req.resourceMetrics.push({ $typeName: 'opentelemetry.proto.metrics.v1.ResourceMetrics', resource: r.resource, scopeMetrics, schemaUrl: '' });
      }
      return req;
    },
    stats() {
      return { series, pointsDropped, seriesExpired };
    },
  };
}

function asMetric(m: MetricState): Metric {
  const dataPoints = [...m.cells.values()].map((c) => c.point);
  const cumulative = AggregationTemporality.CUMULATIVE;
  const base = { name: m.name, description: m.description, unit: m.unit };
  switch (m.kind) {
    case 'gauge':
      return create(MetricSchema, { ...base, data: { case: 'gauge', value: { dataPoints: dataPoints as NumberDataPoint[] } } });
    case 'sum':
      return create(MetricSchema, {
        ...base,
        data: { case: 'sum', value: { dataPoints: dataPoints as NumberDataPoint[], aggregationTemporality: cumulative, isMonotonic: m.monotonic } },
      });
    case 'histogram':
      return create(MetricSchema, {
        ...base,
        data: { case: 'histogram', value: { dataPoints: dataPoints as HistogramDataPoint[], aggregationTemporality: cumulative } },
      });
    case 'exponentialHistogram':
      return create(MetricSchema, {
        ...base,
        data: {
          case: 'exponentialHistogram',
          value: { dataPoints: dataPoints as ExponentialHistogramDataPoint[], aggregationTemporality: cumulative },
        },
      });
    case 'summary':
      return create(MetricSchema, { ...base, data: { case: 'summary', value: { dataPoints: dataPoints as SummaryDataPoint[] } } });
  }
}

/** Folds a newly received point into a cell. */
function merge(kind: Kind, cell: Cell, p: AnyPoint, delta: boolean): void {
  const held = cell.point;
  if (!delta || !cell.accumulating) {
    // Latest wins; a late arrival (a retry of older data) does not move the series back.
    if (p.timeUnixNano >= held.timeUnixNano) {
      cell.point = p;
      cell.accumulating = delta;
    }
    return;
  }
  switch (kind) {
    case 'sum': {
      const h = held as NumberDataPoint;
      const n = p as NumberDataPoint;
      if (h.value.case === 'asInt' && n.value.case === 'asInt') h.value = { case: 'asInt', value: h.value.value + n.value.value };
      else h.value = { case: 'asDouble', value: Number(h.value.value ?? 0) + Number(n.value.value ?? 0) };
      break;
    }
    case 'histogram': {
      const h = held as HistogramDataPoint;
      const n = p as HistogramDataPoint;
      if (!sameBounds(h.explicitBounds, n.explicitBounds) || h.bucketCounts.length !== n.bucketCounts.length) {
        // New bounds: what was summed cannot be carried over; start over from this point.
        cell.point = p;
        return;
      }
      for (let i = 0; i < h.bucketCounts.length; i++) h.bucketCounts[i] = h.bucketCounts[i]! + n.bucketCounts[i]!;
      h.count += n.count;
      if (h.sum !== undefined || n.sum !== undefined) h.sum = (h.sum ?? 0) + (n.sum ?? 0);
      if (n.min !== undefined) h.min = h.min === undefined ? n.min : Math.min(h.min, n.min);
      if (n.max !== undefined) h.max = h.max === undefined ? n.max : Math.max(h.max, n.max);
      break;
    }
    case 'exponentialHistogram': {
      const h = held as ExponentialHistogramDataPoint;
      const n = p as ExponentialHistogramDataPoint;
      if (h.zeroThreshold !== n.zeroThreshold) {
        cell.point = p;
        return;
      }
      // Both at the coarser scale: one step down merges pairs of buckets (index i → i >> 1).
      const scale = Math.min(h.scale, n.scale);
      h.positive = mergeBuckets(h.positive, h.scale - scale, n.positive, n.scale - scale);
      h.negative = mergeBuckets(h.negative, h.scale - scale, n.negative, n.scale - scale);
      h.scale = scale;
      h.count += n.count;
      h.zeroCount += n.zeroCount;
      if (h.sum !== undefined || n.sum !== undefined) h.sum = (h.sum ?? 0) + (n.sum ?? 0);
      if (n.min !== undefined) h.min = h.min === undefined ? n.min : Math.min(h.min, n.min);
      if (n.max !== undefined) h.max = h.max === undefined ? n.max : Math.max(h.max, n.max);
      break;
    }
    default:
      cell.point = p;
      return;
  }
  held.timeUnixNano = p.timeUnixNano;
}

function sameBounds(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The sum of two bucket runs, each first reduced by its `down` scale steps (bucket i becomes
 * i >> down). Worked example: offset 4, counts [1, 2, 3] down 1 → indexes 4,5,6 → 2,2,3 → offset 2, [3, 3].
 */
function mergeBuckets(
  a: ExponentialHistogramDataPoint_Buckets | undefined,
  downA: number,
  b: ExponentialHistogramDataPoint_Buckets | undefined,
  downB: number,
): ExponentialHistogramDataPoint_Buckets | undefined {
  const counts = new Map<number, bigint>();
  const add = (x: ExponentialHistogramDataPoint_Buckets | undefined, down: number): void => {
    if (x === undefined) return;
    for (let i = 0; i < x.bucketCounts.length; i++) {
      const c = x.bucketCounts[i]!;
      if (c === 0n) continue;
      const index = (x.offset + i) >> down;
      counts.set(index, (counts.get(index) ?? 0n) + c);
    }
  };
  add(a, downA);
  add(b, downB);
  const template = a ?? b;
  if (template === undefined) return undefined;
  if (counts.size === 0) return { ...template, offset: 0, bucketCounts: [] };
  const indexes = [...counts.keys()];
  const low = Math.min(...indexes);
  const high = Math.max(...indexes);
  const bucketCounts: bigint[] = new Array<bigint>(high - low + 1).fill(0n);
  for (const [i, c] of counts) bucketCounts[i - low] = c;
  return { ...template, offset: low, bucketCounts };
}

/** A canonical key of attributes: sorted by key, values in a typed text form. */
function attributesKey(attrs: readonly KeyValue[]): string {
  if (attrs.length === 0) return '';
  const parts = attrs.map((kv) => `${kv.key}\u0001${valueKey(kv.value)}`);
  parts.sort();
  return parts.join('\u0000');
}

function valueKey(v: AnyValue | undefined): string {
  const x = v?.value;
  if (x === undefined || x.case === undefined) return '';
  switch (x.case) {
    case 'stringValue':
      return `s${x.value}`;
    case 'boolValue':
      return `b${x.value}`;
    case 'intValue':
      return `i${x.value}`;
    case 'doubleValue':
      return `d${x.value}`;
    case 'bytesValue':
      return `y${Buffer.from(x.value).toString('base64')}`;
    case 'arrayValue':
      return `a[${x.value.values.map(valueKey).join('\u0002')}]`;
    case 'kvlistValue':
      return `k{${attributesKey(x.value.values)}}`;
  }
}
