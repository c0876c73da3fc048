/**
 * Renders a metrics collection (our SDK's `collectMessages()`, cumulative) as the
 * Prometheus text exposition format 0.0.4: generic OTLP code, used by the gateway's `GET /metrics`.
 *
 * Mapping (OpenTelemetry "Prometheus and OpenMetrics Compatibility", OTLP → Prometheus):
 * - monotonic cumulative Sum → `counter` (`<name>[_<unit>]_total`);
 * - non-monotonic cumulative Sum and Gauge → `gauge`;
 * - cumulative Histogram → `histogram`: `_bucket{le}` (cumulative counts, `+Inf` = count),
 *   `_sum` (when the point has one), `_count`;
 * - cumulative ExponentialHistogram → a classic `histogram` whose `le` bounds are the
 *   exponential bucket boundaries (0.0.4 has no native histograms);
 * - Summary → `summary` (`{quantile}`, `_sum`, `_count`);
 * - delta points are left out: a scrape shows totals, and a delta cannot be summed
 *   here without keeping state between scrapes (the observer's consumer is cumulative);
 * - resource attributes → one `target_info` gauge per resource (value 1);
 * - scope name/version → `otel_scope_name`/`otel_scope_version` labels on every sample.
 * Samples carry no timestamps: the scrape time is the sample time, as Prometheus
 * recommends for exporters. All samples of one name are written together under one
 * HELP/TYPE, as the format requires; a later metric whose name maps to an existing
 * family of another type is left out (reported once).
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
import { warnOnce } from '../../internal/warn.js';
import { escapeHelp, escapeLabelValue, formatSampleValue, prometheusLabelName, prometheusMetricName, type PrometheusType } from './names.js';

/** The Content-Type of a text format 0.0.4 page. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Rendering options. */
export interface PrometheusRenderOptions {
  /**
   * Write a `target_info` gauge with each resource's attributes. Default true: the spec's
   * way to carry resource attributes without repeating them on every sample.
   */
  readonly targetInfo?: boolean;
  /**
   * Add `otel_scope_name`/`otel_scope_version` labels to every sample. Default true (spec
   * default): two meters may create instruments of the same name.
   */
  readonly scopeLabels?: boolean;
}

interface Family {
  readonly type: PrometheusType;
  readonly help: string;
  readonly lines: string[];
}

/** Renders `requests` as one text format 0.0.4 page (ends with a newline; '' when empty). */
export function renderPrometheus(requests: readonly ExportMetricsServiceRequest[], options: PrometheusRenderOptions = {}): string {
  const targetInfo = options.targetInfo ?? true;
  const scopeLabels = options.scopeLabels ?? true;
  const families = new Map<string, Family>();
  const targets: string[] = [];
  for (const req of requests) {
    for (const rm of req.resourceMetrics) {
      const resourceAttrs = rm.resource?.attributes ?? [];
      if (targetInfo && resourceAttrs.length > 0) targets.push(`target_info${labelSet(resourceAttrs, '')} 1`);
      for (const sm of rm.scopeMetrics) {
        let scope = '';
        if (scopeLabels && sm.scope !== undefined && sm.scope.name !== '') {
          scope = `otel_scope_name="${escapeLabelValue(sm.scope.name)}"`;
          if (sm.scope.version !== '') scope += `,otel_scope_version="${escapeLabelValue(sm.scope.version)}"`;
        }
        for (const metric of sm.metrics) renderMetric(families, metric, scope);
      }
    }
  }
  let out = '';
  if (targets.length > 0) {
    out += '# HELP target_info Target metadata\n# TYPE target_info gauge\n';
    // Identical resources (several requests of one collection) describe one target.
    for (const line of new Set(targets)) out += `${line}\n`;
  }
  for (const [name, f] of families) {
    if (f.lines.length === 0) continue;
    if (f.help !== '') out += `# HELP ${name} ${escapeHelp(f.help)}\n`;
    out += `# TYPE ${name} ${f.type}\n`;
    for (const line of f.lines) out += `${line}\n`;
  }
  return out;
}

function familyFor(families: Map<string, Family>, metric: Metric, type: PrometheusType): { name: string; family: Family } | undefined {
  const name = prometheusMetricName(metric.name, metric.unit, type);
  let family = families.get(name);
  if (family === undefined) {
    family = { type, help: metric.description, lines: [] };
    families.set(name, family);
  } else if (family.type !== type) {
    warnOnce(
      `prometheus-type:${name}`,
      `metric "${metric.name}" maps to Prometheus name ${name}, already a ${family.type}; this ${type} is left out of /metrics`,
    );
    return undefined;
  }
  return { name, family };
}

function renderMetric(families: Map<string, Family>, metric: Metric, scope: string): void {
  const d = metric.data;
  switch (d.case) {
    case 'gauge': {
      const f = familyFor(families, metric, 'gauge');
      if (f !== undefined) for (const p of d.value.dataPoints) numberLine(f.family.lines, f.name, p, scope);
      return;
    }
    case 'sum': {
      if (d.value.aggregationTemporality !== AggregationTemporality.CUMULATIVE) return deltaSkipped(metric);
      const f = familyFor(families, metric, d.value.isMonotonic ? 'counter' : 'gauge');
      if (f !== undefined) for (const p of d.value.dataPoints) numberLine(f.family.lines, f.name, p, scope);
      return;
    }
    case 'histogram': {
      if (d.value.aggregationTemporality !== AggregationTemporality.CUMULATIVE) return deltaSkipped(metric);
      const f = familyFor(families, metric, 'histogram');
      if (f !== undefined) for (const p of d.value.dataPoints) histogramLines(f.family.lines, f.name, p, scope);
      return;
    }
    case 'exponentialHistogram': {
      if (d.value.aggregationTemporality !== AggregationTemporality.CUMULATIVE) return deltaSkipped(metric);
      const f = familyFor(families, metric, 'histogram');
      if (f !== undefined) for (const p of d.value.dataPoints) exponentialLines(f.family.lines, f.name, p, scope);
      return;
    }
    case 'summary': {
      const f = familyFor(families, metric, 'summary');
      if (f !== undefined) for (const p of d.value.dataPoints) summaryLines(f.family.lines, f.name, p, scope);
      return;
    }
    default:
      return;
  }
}

function deltaSkipped(metric: Metric): void {
  warnOnce(
    `prometheus-delta:${metric.name}`,
    `metric "${metric.name}" has delta temporality; Prometheus shows cumulative values only, it is left out of /metrics`,
  );
}

function numberLine(lines: string[], name: string, p: NumberDataPoint, scope: string): void {
  const v = p.value;
  if (v.case === undefined) return;
  lines.push(`${name}${labelSet(p.attributes, scope)} ${formatSampleValue(v.value)}`);
}

function histogramLines(lines: string[], name: string, p: HistogramDataPoint, scope: string): void {
  const labels = labelPairs(p.attributes, scope);
  let cumulative = 0n;
  const n = p.explicitBounds.length;
  for (let i = 0; i < n; i++) {
    cumulative += p.bucketCounts[i] ?? 0n;
    lines.push(`${name}_bucket${withLe(labels, formatSampleValue(p.explicitBounds[i]!))} ${cumulative}`);
  }
  lines.push(`${name}_bucket${withLe(labels, '+Inf')} ${p.count}`);
  closeHistogram(lines, name, labels, p.sum, p.count);
}

/**
 * Exponential buckets as cumulative `le` buckets. Bucket `index` at `scale` covers
 * (base^index, base^(index+1)] with base = 2^(2^-scale); negative buckets mirror it.
 * Worked example: scale 1 (base √2), positive offset 2, counts [3, 1] → buckets
 * (2, 2.83] and (2.83, 4], written as le="2.828…" 3+zero+negatives and le="4" 4+….
 */
function exponentialLines(lines: string[], name: string, p: ExponentialHistogramDataPoint, scope: string): void {
  const labels = labelPairs(p.attributes, scope);
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
      lines.push(`${name}_bucket${withLe(labels, formatSampleValue(-bound(neg.offset + i)))} ${cumulative}`);
    }
  }
  if (p.zeroCount > 0n || (p.positive?.bucketCounts.length ?? 0) > 0) {
    cumulative += p.zeroCount;
    lines.push(`${name}_bucket${withLe(labels, formatSampleValue(p.zeroThreshold))} ${cumulative}`);
  }
  const pos = p.positive;
  if (pos !== undefined) {
    for (let i = 0; i < pos.bucketCounts.length; i++) {
      const c = pos.bucketCounts[i] ?? 0n;
      cumulative += c;
      // Empty buckets add nothing a query could use; skipping them keeps a sparse histogram short.
      if (c === 0n) continue;
      lines.push(`${name}_bucket${withLe(labels, formatSampleValue(bound(pos.offset + i + 1)))} ${cumulative}`);
    }
  }
  lines.push(`${name}_bucket${withLe(labels, '+Inf')} ${p.count}`);
  closeHistogram(lines, name, labels, p.sum, p.count);
}

function closeHistogram(lines: string[], name: string, labels: string, sum: number | undefined, count: bigint): void {
  const set = labels === '' ? '' : `{${labels}}`;
  if (sum !== undefined) lines.push(`${name}_sum${set} ${formatSampleValue(sum)}`);
  lines.push(`${name}_count${set} ${count}`);
}

function summaryLines(lines: string[], name: string, p: SummaryDataPoint, scope: string): void {
  const labels = labelPairs(p.attributes, scope);
  for (const q of p.quantileValues) {
    const pair = `quantile="${formatSampleValue(q.quantile)}"`;
    lines.push(`${name}{${labels === '' ? pair : `${labels},${pair}`}} ${formatSampleValue(q.value)}`);
  }
  closeHistogram(lines, name, labels, p.sum, p.count);
}

function withLe(labels: string, le: string): string {
  return labels === '' ? `{le="${le}"}` : `{${labels},le="${le}"}`;
}

function labelSet(attrs: readonly KeyValue[], scope: string): string {
  const pairs = labelPairs(attrs, scope);
  return pairs === '' ? '' : `{${pairs}}`;
}

/**
 * `k="v",…` for the attributes then the scope labels. Keys that sanitise to the same
 * label name are merged, their values joined with `;` in order of the original keys
 * (as the spec asks); the common case (no clash) builds no map.
 */
function labelPairs(attrs: readonly KeyValue[], scope: string): string {
  if (attrs.length === 0) return scope;
  const names = attrs.map((kv) => prometheusLabelName(kv.key));
  let clash = false;
  for (let i = 1; i < names.length && !clash; i++) if (names.indexOf(names[i]!) !== i) clash = true;
  let out = '';
  if (!clash) {
    for (let i = 0; i < attrs.length; i++) {
      if (out !== '') out += ',';
      out += `${names[i]}="${escapeLabelValue(labelValue(attrs[i]!.value))}"`;
    }
  } else {
    const merged = new Map<string, Array<{ key: string; value: string }>>();
    for (let i = 0; i < attrs.length; i++) {
      const list = merged.get(names[i]!) ?? [];
      list.push({ key: attrs[i]!.key, value: labelValue(attrs[i]!.value) });
      merged.set(names[i]!, list);
    }
    for (const [name, list] of merged) {
      list.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      if (out !== '') out += ',';
      out += `${name}="${escapeLabelValue(list.map((e) => e.value).join(';'))}"`;
    }
  }
  return scope === '' ? out : `${out},${scope}`;
}

/** An attribute value as label text: strings as they are, other scalars in their usual form, arrays and maps as JSON. */
function labelValue(v: AnyValue | undefined): string {
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
