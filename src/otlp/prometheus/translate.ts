/**
 * OTLP metrics → Prometheus samples: the one translation behind every Prometheus output we have
 * (the text and OpenMetrics pages of render.ts, the remote write series of write-request.ts). It walks
 * encoded `ExportMetricsServiceRequest` bytes — what a consumer's `collect()` returns, what the gateway
 * receives, what the scrape store re-encodes — in one pass over the wire format, without building
 * messages (like json-from-protobuf.ts: decoding into protobuf-es messages cost 53 ms of a 10,000-series
 * page, this walk a few), and hands each family and sample to a {@link SampleWriter}, which only formats.
 *
 * OpenTelemetry "Prometheus and OpenMetrics Compatibility", OTLP → Prometheus:
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
 *   joined with `;` in the order of the original keys; a point attribute wins over a scope or
 *   identity label of the same name.
 *
 * Field numbers are OTLP's (proto/opentelemetry/proto/metrics/v1/metrics.proto). A field of a message
 * may come anywhere among its siblings, so each level first notes where its parts are, then walks them.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { type AnyValue, AnyValueSchema } from '../../../gen/opentelemetry/proto/common/v1/common_pb.js';
import { WireFormatError } from '../scan.js';
import { I32, I64, LEN, VARINT } from '../wire.js';
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

/** What a family is described by. */
export interface MetricInfo {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
}

/** Receives the translation; labels are flat `[name, value, name, value, …]`, names unique. */
export interface SampleWriter {
  /** Read the points' times (remote write); a page does not need them, and they are 0n then. */
  readonly timestamps?: boolean;
  /**
   * A metric of family `name` (counters without `_total`) begins. Return false to leave it out
   * (a text page cannot hold one family name with two types).
   */
  family(name: string, type: PrometheusType | 'info', metric: MetricInfo | undefined): boolean;
  /**
   * One sample. The same `labels` array is passed for every sample of one point (a writer may cache
   * what it derived from it by identity); `extraName`/`extraValue` (`le`, `quantile`) come after them.
   */
  sample(name: string, labels: readonly string[], value: number | bigint, timeUnixNano: bigint, extraName?: string, extraValue?: string): void;
  /** A metric left out because its points are deltas (they are counted too). */
  leftOut?(metric: MetricInfo): void;
}

/** What the translation left out. */
export interface TranslateCounts {
  /** Points of delta Sums and Histograms, left out. */
  deltaPoints: number;
}

const TARGET_INFO = 'target_info';
const DELTA = 1; // AggregationTemporality.DELTA
const CUMULATIVE = 2;
/** The resource attributes that become `job` and `instance` in collector mode. */
const IDENTITY_KEYS = new Set(['service.name', 'service.namespace', 'service.instance.id']);
/** Label names by attribute key: keys repeat across every point and page. Bounded: cleared when full. */
const labelNames = new Map<string, string>();
const LABEL_NAME_CACHE = 4096;

// ---- the reader: one input at a time (translation is synchronous) ----

let buf: Uint8Array = new Uint8Array(0);
let text: Buffer = Buffer.alloc(0);
let view: DataView = new DataView(new ArrayBuffer(0));
let pos = 0;

function fail(what: string): never {
  throw new WireFormatError(`malformed metrics request: ${what} at byte ${pos}`);
}

function varint(): number {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) fail('truncated varint');
    const b = buf[pos++]!;
    if (shift < 28) result |= (b & 0x7f) << shift;
    else result += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return shift < 28 ? result >>> 0 : result;
    shift += 7;
    if (shift > 63) fail('varint too long');
  }
}

/** The end of a length-delimited field whose length is next. */
function lenEnd(end: number): number {
  const n = varint();
  const e = pos + n;
  if (e > end) fail('length past the end');
  return e;
}

function skip(wire: number, end: number): void {
  switch (wire) {
    case VARINT:
      varint();
      return;
    case I64:
      pos += 8;
      break;
    case LEN:
      pos = lenEnd(end);
      return;
    case I32:
      pos += 4;
      break;
    default:
      fail(`wire type ${wire}`);
  }
  if (pos > end) fail('truncated field');
}

function str(start: number, end: number): string {
  return start === end ? '' : text.toString('utf8', start, end);
}

function fixed64(): number {
  if (pos + 8 > buf.length) fail('truncated fixed64');
  const v = view.getUint32(pos, true) + view.getUint32(pos + 4, true) * 4294967296;
  pos += 8;
  return v;
}

function double(): number {
  if (pos + 8 > buf.length) fail('truncated double');
  const v = view.getFloat64(pos, true);
  pos += 8;
  return v;
}

function nanos(): bigint {
  if (pos + 8 > buf.length) fail('truncated fixed64');
  const v = view.getBigUint64(pos, true);
  pos += 8;
  return v;
}

/** An sfixed64 as a number when exact (|v| < 2^53), else a bigint. */
function int64(): number | bigint {
  if (pos + 8 > buf.length) fail('truncated sfixed64');
  const lo = view.getUint32(pos, true);
  const hi = view.getInt32(pos + 4, true);
  const big = hi < -2097152 || hi >= 2097152 ? view.getBigInt64(pos, true) : undefined;
  pos += 8;
  return big ?? hi * 4294967296 + lo;
}

/** Translates `requests` (encoded Export requests) into `writer`; throws WireFormatError on malformed bytes. */
export function translateMetrics(requests: readonly Uint8Array[], writer: SampleWriter, options: TranslateOptions = {}): TranslateCounts {
  const ctx: Context = {
    writer,
    targetInfo: options.targetInfo ?? true,
    scopeLabels: options.scopeLabels ?? true,
    collector: options.resource === 'collector',
    timestamps: writer.timestamps === true,
    counts: { deltaPoints: 0 },
    targetFamily: undefined,
  };
  for (const bytes of requests) {
    buf = bytes;
    text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    pos = 0;
    const end = bytes.length;
    while (pos < end) {
      const tag = varint();
      if (tag === ((1 << 3) | LEN)) {
        const e = lenEnd(end);
        resourceMetrics(ctx, pos, e);
        pos = e;
      } else skip(tag & 7, end);
    }
  }
  return ctx.counts;
}

interface Context {
  readonly writer: SampleWriter;
  readonly targetInfo: boolean;
  readonly scopeLabels: boolean;
  readonly collector: boolean;
  readonly timestamps: boolean;
  readonly counts: TranslateCounts;
  targetFamily: boolean | undefined;
}

/** An attribute as read: its key, and its value as label text. */
interface Attr {
  readonly key: string;
  readonly value: string;
}

function resourceMetrics(ctx: Context, start: number, end: number): void {
  let attrs: Attr[] = [];
  const scopes: number[] = [];
  pos = start;
  while (pos < end) {
    const tag = varint();
    if (tag === ((1 << 3) | LEN)) {
      const e = lenEnd(end);
      // Resource: attributes = 1.
      while (pos < e) {
        const t = varint();
        if (t === ((1 << 3) | LEN)) {
          const ke = lenEnd(e);
          attrs.push(keyValue(pos, ke));
          pos = ke;
        } else skip(t & 7, e);
      }
    } else if (tag === ((2 << 3) | LEN)) {
      const e = lenEnd(end);
      scopes.push(pos, e);
      pos = e;
    } else skip(tag & 7, end);
  }
  const identity = ctx.collector ? jobInstance(attrs) : [];
  if (ctx.collector) attrs = attrs.filter((a) => !IDENTITY_KEYS.has(a.key));
  // Stamped with a point's time where times matter (remote write); a resource with no point describes nothing then.
  const time = ctx.targetInfo && attrs.length > 0 && ctx.timestamps ? firstTime(scopes) : 0n;
  if (ctx.targetInfo && attrs.length > 0 && (!ctx.timestamps || time !== 0n)) {
    ctx.targetFamily ??= ctx.writer.family(TARGET_INFO, 'info', undefined);
    if (ctx.targetFamily) ctx.writer.sample(TARGET_INFO, [...identity, ...labelList(attrs)], 1, time);
  }
  for (let i = 0; i < scopes.length; i += 2) scopeMetrics(ctx, scopes[i]!, scopes[i + 1]!, identity);
}

function scopeMetrics(ctx: Context, start: number, end: number, identity: readonly string[]): void {
  const scope: string[] = [...identity];
  const metrics: number[] = [];
  pos = start;
  while (pos < end) {
    const tag = varint();
    if (tag === ((1 << 3) | LEN)) {
      const e = lenEnd(end);
      // InstrumentationScope: name = 1, version = 2.
      let name = '';
      let version = '';
      while (pos < e) {
        const t = varint();
        if (t === ((1 << 3) | LEN) || t === ((2 << 3) | LEN)) {
          const se = lenEnd(e);
          if (t >>> 3 === 1) name = str(pos, se);
          else version = str(pos, se);
          pos = se;
        } else skip(t & 7, e);
      }
      if (ctx.scopeLabels && name !== '') {
        scope.push('otel_scope_name', name);
        if (version !== '') scope.push('otel_scope_version', version);
      }
    } else if (tag === ((2 << 3) | LEN)) {
      const e = lenEnd(end);
      metrics.push(pos, e);
      pos = e;
    } else skip(tag & 7, end);
  }
  for (let i = 0; i < metrics.length; i += 2) metric(ctx, metrics[i]!, metrics[i + 1]!, scope);
}

/** Data cases by field number of Metric: gauge 5, sum 7, histogram 9, exponential histogram 10, summary 11. */
const GAUGE = 5;
const SUM = 7;
const HISTOGRAM = 9;
const EXPONENTIAL = 10;
const SUMMARY = 11;

function metric(ctx: Context, start: number, end: number, scope: readonly string[]): void {
  let name = '';
  let description = '';
  let unit = '';
  let kind = 0;
  let dataStart = 0;
  let dataEnd = 0;
  pos = start;
  while (pos < end) {
    const tag = varint();
    const field = tag >>> 3;
    if ((tag & 7) !== LEN) {
      skip(tag & 7, end);
      continue;
    }
    const e = lenEnd(end);
    if (field === 1) name = str(pos, e);
    else if (field === 2) description = str(pos, e);
    else if (field === 3) unit = str(pos, e);
    else if (field === GAUGE || field === SUM || field === HISTOGRAM || field === EXPONENTIAL || field === SUMMARY) {
      kind = field;
      dataStart = pos;
      dataEnd = e;
    }
    pos = e;
  }
  if (kind === 0) return;
  // The data message: data_points = 1, aggregation_temporality = 2, is_monotonic = 3 (Sum).
  const points: number[] = [];
  let temporality = kind === GAUGE || kind === SUMMARY ? CUMULATIVE : 0;
  let monotonic = false;
  pos = dataStart;
  while (pos < dataEnd) {
    const tag = varint();
    if (tag === ((1 << 3) | LEN)) {
      const e = lenEnd(dataEnd);
      points.push(pos, e);
      pos = e;
    } else if (tag === ((2 << 3) | VARINT)) temporality = varint();
    else if (tag === ((3 << 3) | VARINT)) monotonic = varint() !== 0;
    else skip(tag & 7, dataEnd);
  }
  if (points.length === 0) return;
  const info: MetricInfo = { name, description, unit };
  if (temporality === DELTA || (temporality !== CUMULATIVE && kind !== GAUGE && kind !== SUMMARY)) {
    if (temporality === DELTA) {
      ctx.counts.deltaPoints += points.length / 2;
      ctx.writer.leftOut?.(info);
    }
    // AGGREGATION_TEMPORALITY_UNSPECIFIED: not a value anyone can read; left out as the spec says.
    return;
  }
  const type: PrometheusType =
    kind === SUM ? (monotonic ? 'counter' : 'gauge') : kind === GAUGE ? 'gauge' : kind === SUMMARY ? 'summary' : 'histogram';
  const full = prometheusMetricName(name, unit, type);
  const family = type === 'counter' ? full.slice(0, -'_total'.length) : full;
  if (!ctx.writer.family(family, type, info)) return;
  for (let i = 0; i < points.length; i += 2) {
    const s = points[i]!;
    const e = points[i + 1]!;
    if (kind === GAUGE || kind === SUM) numberPoint(ctx, full, s, e, scope);
    else if (kind === HISTOGRAM) histogramPoint(ctx, family, s, e, scope);
    else if (kind === EXPONENTIAL) exponentialPoint(ctx, family, s, e, scope);
    else summaryPoint(ctx, family, s, e, scope);
  }
}

/** NumberDataPoint: attributes 7, time 3, as_double 4, as_int 6. */
function numberPoint(ctx: Context, name: string, start: number, end: number, scope: readonly string[]): void {
  const attrs: Attr[] = [];
  let time = 0n;
  let value: number | bigint | undefined;
  pos = start;
  while (pos < end) {
    const tag = varint();
    if (tag === ((7 << 3) | LEN)) {
      const e = lenEnd(end);
      attrs.push(keyValue(pos, e));
      pos = e;
    } else if (tag === ((3 << 3) | I64)) {
      if (ctx.timestamps) time = nanos();
      else pos += 8;
    } else if (tag === ((4 << 3) | I64)) value = double();
    else if (tag === ((6 << 3) | I64)) value = int64();
    else skip(tag & 7, end);
  }
  if (value === undefined) return;
  ctx.writer.sample(name, pointLabels(attrs, scope), value, time);
}

// Reused by the histogram readers (a point is emitted before the next is read).
const counts: number[] = [];
const bounds: number[] = [];

/** HistogramDataPoint: time 3, count 4, sum 5, bucket_counts 6 (packed fixed64), explicit_bounds 7 (packed double), attributes 9. */
function histogramPoint(ctx: Context, name: string, start: number, end: number, scope: readonly string[]): void {
  const attrs: Attr[] = [];
  let time = 0n;
  let count = 0;
  let sum: number | undefined;
  counts.length = 0;
  bounds.length = 0;
  pos = start;
  while (pos < end) {
    const tag = varint();
    switch (tag) {
      case (9 << 3) | LEN: {
        const e = lenEnd(end);
        attrs.push(keyValue(pos, e));
        pos = e;
        break;
      }
      case (3 << 3) | I64:
        if (ctx.timestamps) time = nanos();
        else pos += 8;
        break;
      case (4 << 3) | I64:
        count = fixed64();
        break;
      case (5 << 3) | I64:
        sum = double();
        break;
      case (6 << 3) | LEN: {
        const e = lenEnd(end);
        while (pos < e) counts.push(fixed64());
        break;
      }
      case (6 << 3) | I64:
        counts.push(fixed64());
        break;
      case (7 << 3) | LEN: {
        const e = lenEnd(end);
        while (pos < e) bounds.push(double());
        break;
      }
      case (7 << 3) | I64:
        bounds.push(double());
        break;
      default:
        skip(tag & 7, end);
    }
  }
  const labels = pointLabels(attrs, scope);
  const bucket = `${name}_bucket`;
  const w = ctx.writer;
  let cumulative = 0;
  for (let i = 0; i < bounds.length; i++) {
    cumulative += counts[i] ?? 0;
    w.sample(bucket, labels, cumulative, time, 'le', formatSampleValue(bounds[i]!));
  }
  w.sample(bucket, labels, count, time, 'le', '+Inf');
  if (sum !== undefined) w.sample(`${name}_sum`, labels, sum, time);
  w.sample(`${name}_count`, labels, count, time);
}

function zigzag(n: number): number {
  return (n >>> 1) ^ -(n & 1);
}

/** Buckets { offset 1 (sint32), bucket_counts 2 (packed uint64) } into `into`; returns the offset. */
function buckets(end: number, into: number[]): number {
  let offset = 0;
  while (pos < end) {
    const tag = varint();
    if (tag === ((1 << 3) | VARINT)) offset = zigzag(varint());
    else if (tag === ((2 << 3) | LEN)) {
      const e = lenEnd(end);
      while (pos < e) into.push(varint());
    } else if (tag === ((2 << 3) | VARINT)) into.push(varint());
    else skip(tag & 7, end);
  }
  return offset;
}

const negative: number[] = [];

/**
 * ExponentialHistogramDataPoint: attributes 1, time 3, count 4, sum 5, scale 6 (sint32), zero_count 7,
 * positive 8, negative 9, zero_threshold 14. As cumulative `le` buckets: bucket `index` at `scale`
 * covers (base^index, base^(index+1)] with base = 2^(2^-scale); negative buckets mirror it.
 * Worked example: scale 1 (base √2), positive offset 2, counts [3, 1] → buckets (2, 2.83] and
 * (2.83, 4], written as le="2.828…" 3+zero+negatives and le="4" 4+….
 */
function exponentialPoint(ctx: Context, name: string, start: number, end: number, scope: readonly string[]): void {
  const attrs: Attr[] = [];
  let time = 0n;
  let count = 0;
  let sum: number | undefined;
  let scale = 0;
  let zeroCount = 0;
  let zeroThreshold = 0;
  let posOffset = 0;
  let negOffset = 0;
  counts.length = 0;
  negative.length = 0;
  pos = start;
  while (pos < end) {
    const tag = varint();
    switch (tag) {
      case (1 << 3) | LEN: {
        const e = lenEnd(end);
        attrs.push(keyValue(pos, e));
        pos = e;
        break;
      }
      case (3 << 3) | I64:
        if (ctx.timestamps) time = nanos();
        else pos += 8;
        break;
      case (4 << 3) | I64:
        count = fixed64();
        break;
      case (5 << 3) | I64:
        sum = double();
        break;
      case (6 << 3) | VARINT:
        scale = zigzag(varint());
        break;
      case (7 << 3) | I64:
        zeroCount = fixed64();
        break;
      case (8 << 3) | LEN: {
        const e = lenEnd(end);
        posOffset = buckets(e, counts);
        break;
      }
      case (9 << 3) | LEN: {
        const e = lenEnd(end);
        negOffset = buckets(e, negative);
        break;
      }
      case (14 << 3) | I64:
        zeroThreshold = double();
        break;
      default:
        skip(tag & 7, end);
    }
  }
  const labels = pointLabels(attrs, scope);
  const bucket = `${name}_bucket`;
  const w = ctx.writer;
  const step = 2 ** -scale;
  const bound = (index: number): number => 2 ** (index * step);
  let cumulative = 0;
  // Most negative first: bucket offset+i covers [-base^(i+1), -base^i), so its upper bound is -base^i.
  for (let i = negative.length - 1; i >= 0; i--) {
    const c = negative[i]!;
    if (c === 0) continue;
    cumulative += c;
    w.sample(bucket, labels, cumulative, time, 'le', formatSampleValue(-bound(negOffset + i)));
  }
  if (zeroCount > 0 || counts.length > 0) {
    cumulative += zeroCount;
    w.sample(bucket, labels, cumulative, time, 'le', formatSampleValue(zeroThreshold));
  }
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    cumulative += c;
    // Empty buckets add nothing a query could use; skipping them keeps a sparse histogram short.
    if (c === 0) continue;
    w.sample(bucket, labels, cumulative, time, 'le', formatSampleValue(bound(posOffset + i + 1)));
  }
  w.sample(bucket, labels, count, time, 'le', '+Inf');
  if (sum !== undefined) w.sample(`${name}_sum`, labels, sum, time);
  w.sample(`${name}_count`, labels, count, time);
}

/** SummaryDataPoint: time 3, count 4, sum 5, quantile_values 6 { quantile 1, value 2 }, attributes 7. */
function summaryPoint(ctx: Context, name: string, start: number, end: number, scope: readonly string[]): void {
  const attrs: Attr[] = [];
  const quantiles: number[] = [];
  let time = 0n;
  let count = 0;
  let sum = 0;
  pos = start;
  while (pos < end) {
    const tag = varint();
    switch (tag) {
      case (7 << 3) | LEN: {
        const e = lenEnd(end);
        attrs.push(keyValue(pos, e));
        pos = e;
        break;
      }
      case (3 << 3) | I64:
        if (ctx.timestamps) time = nanos();
        else pos += 8;
        break;
      case (4 << 3) | I64:
        count = fixed64();
        break;
      case (5 << 3) | I64:
        sum = double();
        break;
      case (6 << 3) | LEN: {
        const e = lenEnd(end);
        let q = 0;
        let v = 0;
        while (pos < e) {
          const t = varint();
          if (t === ((1 << 3) | I64)) q = double();
          else if (t === ((2 << 3) | I64)) v = double();
          else skip(t & 7, e);
        }
        quantiles.push(q, v);
        break;
      }
      default:
        skip(tag & 7, end);
    }
  }
  const labels = pointLabels(attrs, scope);
  for (let i = 0; i < quantiles.length; i += 2)
    ctx.writer.sample(name, labels, quantiles[i + 1]!, time, 'quantile', formatSampleValue(quantiles[i]!));
  ctx.writer.sample(`${name}_sum`, labels, sum, time);
  ctx.writer.sample(`${name}_count`, labels, count, time);
}

/** A point's labels: its attributes (sanitised, clashes merged), then the scope's (and job/instance). */
function pointLabels(attrs: readonly Attr[], scope: readonly string[]): readonly string[] {
  if (attrs.length === 0) return scope;
  const out = labelList(attrs);
  for (let i = 0; i < scope.length; i += 2) if (!hasLabel(out, scope[i]!)) out.push(scope[i]!, scope[i + 1]!);
  return out;
}

function hasLabel(labels: readonly string[], name: string): boolean {
  for (let i = 0; i < labels.length; i += 2) if (labels[i] === name) return true;
  return false;
}

function labelName(key: string): string {
  let name = labelNames.get(key);
  if (name === undefined) {
    if (labelNames.size >= LABEL_NAME_CACHE) labelNames.clear();
    name = prometheusLabelName(key);
    labelNames.set(key, name);
  }
  return name;
}

/**
 * Attributes as flat label pairs. Keys that sanitise to the same label name are merged, their
 * values joined with `;` in order of the original keys (as the spec asks); the common case (no
 * clash) builds no map.
 */
function labelList(attrs: readonly Attr[]): string[] {
  const out: string[] = [];
  let clash = false;
  for (const a of attrs) {
    const name = labelName(a.key);
    if (!clash && hasLabel(out, name)) clash = true;
    out.push(name, a.value);
  }
  if (!clash) return out;
  const merged = new Map<string, Attr[]>();
  for (const a of attrs) {
    const name = labelName(a.key);
    const list = merged.get(name) ?? [];
    list.push(a);
    merged.set(name, list);
  }
  out.length = 0;
  for (const [name, list] of merged) {
    list.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    out.push(name, list.map((e) => e.value).join(';'));
  }
  return out;
}

/** `job`/`instance` labels of a resource (spec: job = namespace/name, instance = service.instance.id). */
function jobInstance(attrs: readonly Attr[]): string[] {
  let name: string | undefined;
  let namespace: string | undefined;
  let instance: string | undefined;
  for (const a of attrs) {
    if (a.key === 'service.name') name = a.value;
    else if (a.key === 'service.namespace') namespace = a.value;
    else if (a.key === 'service.instance.id') instance = a.value;
  }
  const out: string[] = [];
  if (name !== undefined && name !== '') out.push('job', namespace === undefined || namespace === '' ? name : `${namespace}/${name}`);
  if (instance !== undefined && instance !== '') out.push('instance', instance);
  return out;
}

/**
 * The first point's time among `scopes` (start/end pairs of ScopeMetrics), whatever its metric's kind or
 * temporality: what target_info is stamped with in remote write. 0n when there is no point.
 */
function firstTime(scopes: readonly number[]): bigint {
  const saved = pos;
  try {
    for (let i = 0; i < scopes.length; i += 2) {
      const t = within(scopes[i]!, scopes[i + 1]!, 2, (ms, me) =>
        // Metric → its data (gauge 5, sum 7, histogram 9, exponential 10, summary 11) → data_points 1 → time 3.
        within(ms, me, -1, (ds, de) => within(ds, de, 1, (ps, pe) => pointTime(ps, pe))),
      );
      if (t !== 0n) return t;
    }
    return 0n;
  } finally {
    pos = saved;
  }
}

/** Calls `f` on each length-delimited field `field` (-1: any data case of Metric) of [start, end) until it returns non-zero. */
function within(start: number, end: number, field: number, f: (s: number, e: number) => bigint): bigint {
  pos = start;
  while (pos < end) {
    const tag = varint();
    const n = tag >>> 3;
    if ((tag & 7) !== LEN) {
      skip(tag & 7, end);
      continue;
    }
    const e = lenEnd(end);
    const s = pos;
    if (field === -1 ? n === GAUGE || n === SUM || n === HISTOGRAM || n === EXPONENTIAL || n === SUMMARY : n === field) {
      const t = f(s, e);
      if (t !== 0n) return t;
    }
    pos = e;
  }
  return 0n;
}

/** time_unix_nano (field 3, fixed64) of any data point kind. */
function pointTime(start: number, end: number): bigint {
  pos = start;
  while (pos < end) {
    const tag = varint();
    if (tag === ((3 << 3) | I64)) return nanos();
    skip(tag & 7, end);
  }
  return 0n;
}

// The last attribute key read, and its bytes: consecutive points nearly always repeat their keys, and
// comparing a few bytes is cheaper than decoding them again.
let lastKey = '';
let lastKeyBytes = new Uint8Array(0);

function keyString(start: number, end: number): string {
  const n = end - start;
  if (n === lastKeyBytes.length) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (buf[start + i] !== lastKeyBytes[i]) {
        same = false;
        break;
      }
    }
    if (same) return lastKey;
  }
  lastKey = str(start, end);
  lastKeyBytes = buf.slice(start, end);
  return lastKey;
}

/** KeyValue: key 1, value 2 (AnyValue). */
function keyValue(start: number, end: number): Attr {
  let key = '';
  let value = '';
  pos = start;
  while (pos < end) {
    const tag = varint();
    if (tag === ((1 << 3) | LEN)) {
      const e = lenEnd(end);
      key = keyString(pos, e);
      pos = e;
    } else if (tag === ((2 << 3) | LEN)) {
      const e = lenEnd(end);
      value = anyValue(pos, e);
      pos = e;
    } else skip(tag & 7, end);
  }
  return { key, value };
}

/**
 * AnyValue as label text: string 1 as it is; bool 2, int 3, double 4 in their usual form; bytes 7 as
 * base64; arrays 5 and maps 6 as JSON (decoded through the schema: rare, and JSON needs the structure).
 */
function anyValue(start: number, end: number): string {
  pos = start;
  let out = '';
  while (pos < end) {
    const tag = varint();
    switch (tag) {
      case (1 << 3) | LEN: {
        const e = lenEnd(end);
        out = str(pos, e);
        pos = e;
        break;
      }
      case (2 << 3) | VARINT:
        out = varint() !== 0 ? 'true' : 'false';
        break;
      case (3 << 3) | VARINT: {
        // int64 as a varint: a negative one is 10 bytes of two's complement.
        const s = pos;
        varint();
        out = String(BigInt.asIntN(64, readVarint64(s)));
        break;
      }
      case (4 << 3) | I64:
        out = String(double());
        break;
      case (7 << 3) | LEN: {
        const e = lenEnd(end);
        out = text.toString('base64', pos, e);
        pos = e;
        break;
      }
      case (5 << 3) | LEN:
      case (6 << 3) | LEN: {
        const e = lenEnd(end);
        pos = e;
        let decoded: AnyValue;
        try {
          decoded = fromBinary(AnyValueSchema, buf.subarray(start, end));
        } catch (err) {
          // Malformed or nested past protobuf-es's depth limit: one error type for every bad input.
          throw new WireFormatError(`malformed metrics request: attribute value (${err instanceof Error ? err.message : String(err)})`);
        }
        out = JSON.stringify(jsonOf(decoded));
        break;
      }
      default:
        skip(tag & 7, end);
    }
  }
  return out;
}

function readVarint64(at: number): bigint {
  let v = 0n;
  let shift = 0n;
  for (let i = at; ; i++) {
    const b = buf[i]!;
    v |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return v;
    shift += 7n;
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
