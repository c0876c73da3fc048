/**
 * OTLP metrics → Prometheus samples: the one translation behind every Prometheus output we have
 * (the text and OpenMetrics pages of render.ts, the remote write requests of write-request.ts).
 * It walks decoded Export requests and hands each family and sample to a {@link SampleWriter};
 * the writers only format. OpenTelemetry "Prometheus and OpenMetrics Compatibility", OTLP → Prometheus:
 * - monotonic cumulative Sum → counter (`<name>[_<unit>]_total`); non-monotonic Sum and Gauge → gauge;
 * - cumulative Histogram → histogram: `_bucket{le}` (cumulative counts, `+Inf` = count), `_sum` (when
 *   the point has one), `_count`;
 * - cumulative ExponentialHistogram → the same classic histogram, its `le` bounds the exponential bucket
 *   boundaries (neither text format 0.0.4 nor remote write 1.0 carries native histograms);
 * - Summary → summary (`{quantile}`, `_sum`, `_count`);
 * - delta Sums and Histograms are left out and counted (`deltaPoints`): a delta is not a Prometheus
 *   value until something keeps the running total (the gateway's scrape store does, series-store.ts);
 * - resources: `target_info` (an info metric, value 1) with the resource attributes. In `sdk` mode (one
 *   process's own endpoint, Prometheus adds job/instance itself) it has them all and samples get no
 *   resource label. In `collector` mode (many sources behind one page, or remote write) every sample
 *   gets `job` (`service.namespace/service.name`, or `service.name`) and `instance`
 *   (`service.instance.id`), and target_info has those two plus the remaining attributes;
 * - scope name/version → `otel_scope_name`/`otel_scope_version` labels (spec default);
 * - attribute keys sanitised to label names; keys that sanitise to one name are merged, their values
 *   joined with `;` in the order of the original keys.
 */
import type { ExportMetricsServiceRequest } from '../../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import type { AnyValue, KeyValue } from '../../../gen/opentelemetry/proto/common/v1/common_pb.js';
import {
  AggregationTemporality,
  type ExponentialHistogramDataPoint,
  type HistogramDataPoint,
  type Metric,
  type NumberDataPoint,
  type SummaryDataPoint,
} from '../../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import { formatSampleValue, prometheusLabelName, prometheusMetricName, type PrometheusType } from './names.js';

/** Where resource attributes go (see the top of this file). */
export type ResourceMode = 'sdk' | 'collector';

/** Translation options; each has the spec's default. */
export interface TranslateOptions {
  /** Write `target_info` per resource. Default true: the spec's way to carry resource attributes. */
  readonly targetInfo?: boolean;
  /** `otel_scope_name`/`otel_scope_version` on every sample. Default true (spec default). */
  readonly scopeLabels?: boolean;
  /** Default `sdk`. */
  readonly resource?: ResourceMode;
}

/** Receives the translation; labels are flat `[name, value, name, value, …]`, names unique. */
export interface SampleWriter {
  /**
   * A metric of family `name` (counters without `_total`) begins. Return false to leave it out
   * (a text page cannot hold one family name with two types).
   */
  family(name: string, type: PrometheusType | 'info', metric: Metric | undefined): boolean;
  /**
   * One sample. The same `labels` array is passed for every sample of one point (a writer may cache
   * what it derived from it by identity); `extraName`/`extraValue` (`le`, `quantile`) come after them.
   */
  sample(name: string, labels: readonly string[], value: number | bigint, timeUnixNano: bigint, extraName?: string, extraValue?: string): void;
  /** A metric left out because its points are deltas (they are counted too). */
  leftOut?(metric: Metric): void;
}

/** What the translation left out. */
export interface TranslateCounts {
  /** Points of delta Sums and Histograms, left out. */
  deltaPoints: number;
}

const TARGET_INFO = 'target_info';

/** Translates `requests` into `writer`; returns what was left out. */
export function translateMetrics(
  requests: readonly ExportMetricsServiceRequest[],
  writer: SampleWriter,
  options: TranslateOptions = {},
): TranslateCounts {
  const targetInfo = options.targetInfo ?? true;
  const scopeLabels = options.scopeLabels ?? true;
  const collector = options.resource === 'collector';
  const counts: TranslateCounts = { deltaPoints: 0 };
  let targetFamily: boolean | undefined;
  for (const req of requests) {
    for (const rm of req.resourceMetrics) {
      const attrs = rm.resource?.attributes ?? [];
      const identity = collector ? jobInstance(attrs) : [];
      const time = firstTime(rm.scopeMetrics);
      if (targetInfo) {
        const info = collector ? [...identity, ...labelList(attrs.filter((kv) => !IDENTITY_KEYS.has(kv.key)))] : labelList(attrs);
        if (info.length > identity.length || (!collector && info.length > 0)) {
          targetFamily ??= writer.family(TARGET_INFO, 'info', undefined);
          if (targetFamily) writer.sample(TARGET_INFO, info, 1, time);
        }
      }
      for (const sm of rm.scopeMetrics) {
        const scope: string[] = [...identity];
        if (scopeLabels && sm.scope !== undefined && sm.scope.name !== '') {
          scope.push('otel_scope_name', sm.scope.name);
          if (sm.scope.version !== '') scope.push('otel_scope_version', sm.scope.version);
        }
        for (const metric of sm.metrics) translateMetric(metric, scope, writer, counts);
      }
    }
  }
  return counts;
}

/** The resource attributes that become `job` and `instance` in collector mode. */
const IDENTITY_KEYS = new Set(['service.name', 'service.namespace', 'service.instance.id']);

/** `job`/`instance` labels of a resource (spec: job = namespace/name, instance = service.instance.id). */
export function jobInstance(attrs: readonly KeyValue[]): string[] {
  let name: string | undefined;
  let namespace: string | undefined;
  let instance: string | undefined;
  for (const kv of attrs) {
    if (kv.key === 'service.name') name = labelValue(kv.value);
    else if (kv.key === 'service.namespace') namespace = labelValue(kv.value);
    else if (kv.key === 'service.instance.id') instance = labelValue(kv.value);
  }
  const out: string[] = [];
  if (name !== undefined && name !== '') out.push('job', namespace === undefined || namespace === '' ? name : `${namespace}/${name}`);
  if (instance !== undefined && instance !== '') out.push('instance', instance);
  return out;
}

/** A point time to stamp target_info with (remote write needs one): the first point's. */
function firstTime(scopes: ExportMetricsServiceRequest['resourceMetrics'][number]['scopeMetrics']): bigint {
  for (const sm of scopes) {
    for (const m of sm.metrics) {
      const d = m.data;
      if (d.case !== undefined && d.value.dataPoints.length > 0) return d.value.dataPoints[0]!.timeUnixNano;
    }
  }
  return 0n;
}

function translateMetric(metric: Metric, scope: readonly string[], writer: SampleWriter, counts: TranslateCounts): void {
  const d = metric.data;
  switch (d.case) {
    case 'gauge':
      if (open(writer, metric, 'gauge')) for (const p of d.value.dataPoints) numberSample(writer, metric, 'gauge', p, scope);
      return;
    case 'sum': {
      if (d.value.aggregationTemporality !== AggregationTemporality.CUMULATIVE) {
        counts.deltaPoints += d.value.dataPoints.length;
        writer.leftOut?.(metric);
        return;
      }
      const type = d.value.isMonotonic ? 'counter' : 'gauge';
      if (open(writer, metric, type)) for (const p of d.value.dataPoints) numberSample(writer, metric, type, p, scope);
      return;
    }
    case 'histogram':
      if (d.value.aggregationTemporality !== AggregationTemporality.CUMULATIVE) {
        counts.deltaPoints += d.value.dataPoints.length;
        writer.leftOut?.(metric);
        return;
      }
      if (open(writer, metric, 'histogram')) for (const p of d.value.dataPoints) histogramSamples(writer, familyName(metric, 'histogram'), p, scope);
      return;
    case 'exponentialHistogram':
      if (d.value.aggregationTemporality !== AggregationTemporality.CUMULATIVE) {
        counts.deltaPoints += d.value.dataPoints.length;
        writer.leftOut?.(metric);
        return;
      }
      if (open(writer, metric, 'histogram'))
        for (const p of d.value.dataPoints) exponentialSamples(writer, familyName(metric, 'histogram'), p, scope);
      return;
    case 'summary':
      if (open(writer, metric, 'summary')) for (const p of d.value.dataPoints) summarySamples(writer, familyName(metric, 'summary'), p, scope);
      return;
    default:
      return;
  }
}

/** The family name: what prometheusMetricName gives, counters without their `_total`. */
export function familyName(metric: Pick<Metric, 'name' | 'unit'>, type: PrometheusType): string {
  const name = prometheusMetricName(metric.name, metric.unit, type);
  return type === 'counter' ? name.slice(0, -'_total'.length) : name;
}

function open(writer: SampleWriter, metric: Metric, type: PrometheusType): boolean {
  return writer.family(familyName(metric, type), type, metric);
}

function numberSample(writer: SampleWriter, metric: Metric, type: PrometheusType, p: NumberDataPoint, scope: readonly string[]): void {
  const v = p.value;
  if (v.case === undefined) return;
  const name = prometheusMetricName(metric.name, metric.unit, type);
  writer.sample(name, pointLabels(p.attributes, scope), v.value, p.timeUnixNano);
}

function histogramSamples(writer: SampleWriter, name: string, p: HistogramDataPoint, scope: readonly string[]): void {
  const labels = pointLabels(p.attributes, scope);
  const bucket = `${name}_bucket`;
  let cumulative = 0n;
  const n = p.explicitBounds.length;
  for (let i = 0; i < n; i++) {
    cumulative += p.bucketCounts[i] ?? 0n;
    writer.sample(bucket, labels, cumulative, p.timeUnixNano, 'le', formatSampleValue(p.explicitBounds[i]!));
  }
  writer.sample(bucket, labels, p.count, p.timeUnixNano, 'le', '+Inf');
  closeHistogram(writer, name, labels, p.sum, p.count, p.timeUnixNano);
}

/**
 * Exponential buckets as cumulative `le` buckets. Bucket `index` at `scale` covers
 * (base^index, base^(index+1)] with base = 2^(2^-scale); negative buckets mirror it.
 * Worked example: scale 1 (base √2), positive offset 2, counts [3, 1] → buckets
 * (2, 2.83] and (2.83, 4], written as le="2.828…" 3+zero+negatives and le="4" 4+….
 */
function exponentialSamples(writer: SampleWriter, name: string, p: ExponentialHistogramDataPoint, scope: readonly string[]): void {
  const labels = pointLabels(p.attributes, scope);
  const bucket = `${name}_bucket`;
  const t = p.timeUnixNano;
  const step = 2 ** -p.scale;
  const bound = (index: number): number => 2 ** (index * step);
  let cumulative = 0n;
  const neg = p.negative;
  if (neg !== undefined) {
    // Most negative first: bucket offset+i covers [-base^(i+1), -base^i), so its upper bound is -base^i.
    for (let i = neg.bucketCounts.length - 1; i >= 0; i--) {
      const c = neg.bucketCounts[i] ?? 0n;
      if (c === 0n) continue;
      cumulative += c;
      writer.sample(bucket, labels, cumulative, t, 'le', formatSampleValue(-bound(neg.offset + i)));
    }
  }
  if (p.zeroCount > 0n || (p.positive?.bucketCounts.length ?? 0) > 0) {
    cumulative += p.zeroCount;
    writer.sample(bucket, labels, cumulative, t, 'le', formatSampleValue(p.zeroThreshold));
  }
  const pos = p.positive;
  if (pos !== undefined) {
    for (let i = 0; i < pos.bucketCounts.length; i++) {
      const c = pos.bucketCounts[i] ?? 0n;
      cumulative += c;
      // Empty buckets add nothing a query could use; skipping them keeps a sparse histogram short.
      if (c === 0n) continue;
      writer.sample(bucket, labels, cumulative, t, 'le', formatSampleValue(bound(pos.offset + i + 1)));
    }
  }
  writer.sample(bucket, labels, p.count, t, 'le', '+Inf');
  closeHistogram(writer, name, labels, p.sum, p.count, t);
}

function closeHistogram(writer: SampleWriter, name: string, labels: readonly string[], sum: number | undefined, count: bigint, t: bigint): void {
  if (sum !== undefined) writer.sample(`${name}_sum`, labels, sum, t);
  writer.sample(`${name}_count`, labels, count, t);
}

function summarySamples(writer: SampleWriter, name: string, p: SummaryDataPoint, scope: readonly string[]): void {
  const labels = pointLabels(p.attributes, scope);
  for (const q of p.quantileValues) writer.sample(name, labels, q.value, p.timeUnixNano, 'quantile', formatSampleValue(q.quantile));
  closeHistogram(writer, name, labels, p.sum, p.count, p.timeUnixNano);
}

/** A point's labels: its attributes (sanitised, clashes merged), then the scope's (and job/instance). */
function pointLabels(attrs: readonly KeyValue[], scope: readonly string[]): string[] {
  if (attrs.length === 0) return scope as string[];
  const out = labelList(attrs);
  // A point attribute that sanitises to a scope or identity label: the attribute wins, said once in the spec's terms.
  for (let i = 0; i < scope.length; i += 2) if (!hasLabel(out, scope[i]!)) out.push(scope[i]!, scope[i + 1]!);
  return out;
}

function hasLabel(labels: readonly string[], name: string): boolean {
  for (let i = 0; i < labels.length; i += 2) if (labels[i] === name) return true;
  return false;
}

/**
 * Attributes as flat label pairs. Keys that sanitise to the same label name are merged, their
 * values joined with `;` in order of the original keys (as the spec asks); the common case (no
 * clash) builds no map.
 */
export function labelList(attrs: readonly KeyValue[]): string[] {
  const names = attrs.map((kv) => prometheusLabelName(kv.key));
  let clash = false;
  for (let i = 1; i < names.length && !clash; i++) if (names.indexOf(names[i]!) !== i) clash = true;
  const out: string[] = [];
  if (!clash) {
    for (let i = 0; i < attrs.length; i++) out.push(names[i]!, labelValue(attrs[i]!.value));
    return out;
  }
  const merged = new Map<string, Array<{ key: string; value: string }>>();
  for (let i = 0; i < attrs.length; i++) {
    const list = merged.get(names[i]!) ?? [];
    list.push({ key: attrs[i]!.key, value: labelValue(attrs[i]!.value) });
    merged.set(names[i]!, list);
  }
  for (const [name, list] of merged) {
    list.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    out.push(name, list.map((e) => e.value).join(';'));
  }
  return out;
}

/** An attribute value as label text: strings as they are, other scalars in their usual form, arrays and maps as JSON. */
export function labelValue(v: AnyValue | undefined): string {
  const x = v?.value;
  if (x === undefined || x.case === undefined) return '';
  switch (x.case) {
    case 'stringValue':
      return x.value;
    case 'boolValue':
    case 'intValue':
    case 'doubleValue':
      return String(x.value);
    case 'bytesValue':
      return Buffer.from(x.value).toString('base64');
    default:
      return JSON.stringify(jsonOf(v));
  }
}

function jsonOf(v: AnyValue | undefined): unknown {
  const x = v?.value;
  if (x === undefined || x.case === undefined) return null;
  switch (x.case) {
    case 'stringValue':
    case 'boolValue':
      return x.value;
    case 'intValue':
      // An int64 beyond 2^53 keeps its digits as a string.
      return Number.isSafeInteger(Number(x.value)) ? Number(x.value) : x.value.toString();
    case 'doubleValue':
      return Number.isFinite(x.value) ? x.value : String(x.value);
    case 'bytesValue':
      return Buffer.from(x.value).toString('base64');
    case 'arrayValue':
      return x.value.values.map(jsonOf);
    case 'kvlistValue': {
      const o: { [k: string]: unknown } = {};
      for (const kv of x.value.values) o[kv.key] = jsonOf(kv.value);
      return o;
    }
  }
}
