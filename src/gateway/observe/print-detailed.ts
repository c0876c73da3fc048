/**
 * `detailed` verbosity: every metric point, log record and span of a decoded request,
 * readably, in the spirit of the Collector's debug exporter: resource, scope, names,
 * attributes, values and buckets, timestamps as ISO-8601 with nanoseconds, trace and
 * span ids as hex. Only the observer's detailed mode calls this (decoding costs).
 *
 * Values are typed by their look: strings JSON-quoted, ints bare, doubles always with a
 * decimal point or exponent (`2.0`), bytes as `0x…`, arrays `[…]`, maps `{k: v}`.
 */
import type { AnyValue, InstrumentationScope, KeyValue } from '../../../gen/opentelemetry/proto/common/v1/common_pb.js';
import type { LogRecord } from '../../../gen/opentelemetry/proto/logs/v1/logs_pb.js';
import { SeverityNumber } from '../../../gen/opentelemetry/proto/logs/v1/logs_pb.js';
import {
  AggregationTemporality,
  type Exemplar,
  type ExponentialHistogramDataPoint,
  type HistogramDataPoint,
  type Metric,
  type NumberDataPoint,
  type SummaryDataPoint,
} from '../../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import type { Resource } from '../../../gen/opentelemetry/proto/resource/v1/resource_pb.js';
import { Span_SpanKind, Status_StatusCode, type Span } from '../../../gen/opentelemetry/proto/trace/v1/trace_pb.js';
import { countItems } from '../../otlp/signals.js';
import type { DecodedRequest } from './events.js';

/** How the request arrived, for the heading line. */
export interface RequestHeading {
  readonly protocol: string;
  readonly tenant: string | undefined;
  readonly items: number;
  readonly bytes: number;
}

/** Formats a decoded request, every item included; ends with a newline. */
export function formatRequest(decoded: DecodedRequest, heading: RequestHeading): string {
  const lines: string[] = [];
  const tenant = heading.tenant === undefined ? '' : `, tenant ${JSON.stringify(heading.tenant)}`;
  lines.push(`${decoded.signal} request (${heading.protocol}${tenant}): ${countItems(decoded.signal, heading.items)}, ${heading.bytes} bytes`);
  // One case per signal, alike on purpose: the generated request types differ at every level.
  switch (decoded.signal) {
    case 'metrics':
      decoded.message.resourceMetrics.forEach((rm, i) => {
        resourceLines(lines, 'ResourceMetrics', i, rm.resource, rm.schemaUrl);
        rm.scopeMetrics.forEach((sm, j) => {
          scopeLines(lines, 'ScopeMetrics', j, sm.scope, sm.schemaUrl);
          sm.metrics.forEach((m, k) => metricLines(lines, m, k));
        });
      });
      break;
    case 'logs':
      decoded.message.resourceLogs.forEach((rl, i) => {
        resourceLines(lines, 'ResourceLogs', i, rl.resource, rl.schemaUrl);
        rl.scopeLogs.forEach((sl, j) => {
          scopeLines(lines, 'ScopeLogs', j, sl.scope, sl.schemaUrl);
          sl.logRecords.forEach((r, k) => logLines(lines, r, k));
        });
      });
      break;
    case 'traces':
      decoded.message.resourceSpans.forEach((rs, i) => {
        resourceLines(lines, 'ResourceSpans', i, rs.resource, rs.schemaUrl);
        rs.scopeSpans.forEach((ss, j) => {
          scopeLines(lines, 'ScopeSpans', j, ss.scope, ss.schemaUrl);
          ss.spans.forEach((s, k) => spanLines(lines, s, k));
        });
      });
      break;
  }
  return `${lines.join('\n')}\n`;
}

// Indentation per level: resource 0, scope 1, item 2, item detail 3, nested 4.
const IND = ['', '  ', '    ', '      ', '        '] as const;

function resourceLines(lines: string[], kind: string, i: number, r: Resource | undefined, schemaUrl: string): void {
  lines.push(`${kind} #${i}${schemaUrl === '' ? '' : ` schema_url=${schemaUrl}`}`);
  if (r === undefined) return;
  attributeLines(lines, IND[1], 'resource', r.attributes);
  if (r.droppedAttributesCount > 0) lines.push(`${IND[1]}dropped attributes: ${r.droppedAttributesCount}`);
}

function scopeLines(lines: string[], kind: string, j: number, scope: InstrumentationScope | undefined, schemaUrl: string): void {
  const name = scope === undefined || scope.name === '' ? '(unnamed)' : scope.name;
  const version = scope === undefined || scope.version === '' ? '' : ` ${scope.version}`;
  lines.push(`${IND[1]}${kind} #${j} scope ${name}${version}${schemaUrl === '' ? '' : ` schema_url=${schemaUrl}`}`);
  if (scope !== undefined) attributeLines(lines, IND[2], 'scope attributes', scope.attributes);
}

/** `label:` then one `key = value` line per attribute; nothing when there are none. */
function attributeLines(lines: string[], indent: string, label: string, attrs: readonly KeyValue[]): void {
  if (attrs.length === 0) return;
  lines.push(`${indent}${label}:`);
  for (const kv of attrs) lines.push(`${indent}  ${kv.key} = ${formatAnyValue(kv.value)}`);
}

/** Attributes on one line, `{k=v, …}`, for data points. */
function inlineAttributes(attrs: readonly KeyValue[]): string {
  if (attrs.length === 0) return '{}';
  return `{${attrs.map((kv) => `${kv.key}=${formatAnyValue(kv.value)}`).join(', ')}}`;
}

/** A readable AnyValue (see the file comment for the conventions). */
export function formatAnyValue(v: AnyValue | undefined): string {
  const x = v?.value;
  if (x === undefined || x.case === undefined) return '(empty)';
  switch (x.case) {
    case 'stringValue':
      return JSON.stringify(x.value);
    case 'boolValue':
      return String(x.value);
    case 'intValue':
      return x.value.toString();
    case 'doubleValue':
      return formatDouble(x.value);
    case 'bytesValue':
      return `0x${hex(x.value)}`;
    case 'arrayValue':
      return `[${x.value.values.map(formatAnyValue).join(', ')}]`;
    case 'kvlistValue':
      return `{${x.value.values.map((kv) => `${kv.key}: ${formatAnyValue(kv.value)}`).join(', ')}}`;
  }
}

/** A double that reads as one: `2.0`, `0.5`, `1e+21`, `NaN`, `+Inf`. */
export function formatDouble(d: number): string {
  if (Number.isNaN(d)) return 'NaN';
  if (d === Infinity) return '+Inf';
  if (d === -Infinity) return '-Inf';
  const s = String(d);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

/** Lower-case hex of bytes; '' for none. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * Nanoseconds since the epoch as ISO-8601 UTC with all nine fraction digits
 * (`2024-05-01T12:00:00.123456789Z`); 0 is the OTLP "unset" and prints as such.
 */
export function formatNanos(ns: bigint): string {
  if (ns === 0n) return '0 (unset)';
  const seconds = ns / 1_000_000_000n;
  const frac = ns % 1_000_000_000n;
  // OTLP times are fixed64: the largest (2^64 - 1 ns) is in 2554, well inside Date's range.
  const iso = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${iso}.${frac.toString().padStart(9, '0')}Z`;
}

function temporalityName(t: AggregationTemporality): string {
  return t === AggregationTemporality.CUMULATIVE ? 'cumulative' : t === AggregationTemporality.DELTA ? 'delta' : 'unspecified';
}

function metricLines(lines: string[], m: Metric, k: number): void {
  const d = m.data;
  let type: string;
  switch (d.case) {
    case 'gauge':
      type = 'Gauge';
      break;
    case 'sum':
      type = `Sum (${temporalityName(d.value.aggregationTemporality)}, ${d.value.isMonotonic ? 'monotonic' : 'non-monotonic'})`;
      break;
    case 'histogram':
      type = `Histogram (${temporalityName(d.value.aggregationTemporality)})`;
      break;
    case 'exponentialHistogram':
      type = `ExponentialHistogram (${temporalityName(d.value.aggregationTemporality)})`;
      break;
    case 'summary':
      type = 'Summary';
      break;
    default:
      type = 'Empty';
  }
  const unit = m.unit === '' ? '' : ` [${m.unit}]`;
  lines.push(`${IND[2]}Metric #${k} ${m.name}${unit} ${type}`);
  if (m.description !== '') lines.push(`${IND[3]}description: ${JSON.stringify(m.description)}`);
  if (m.metadata.length > 0) lines.push(`${IND[3]}metadata: ${inlineAttributes(m.metadata)}`);
  switch (d.case) {
    case 'gauge':
    case 'sum':
      d.value.dataPoints.forEach((p, i) => numberPointLines(lines, p, i));
      break;
    case 'histogram':
      d.value.dataPoints.forEach((p, i) => histogramPointLines(lines, p, i));
      break;
    case 'exponentialHistogram':
      d.value.dataPoints.forEach((p, i) => exponentialPointLines(lines, p, i));
      break;
    case 'summary':
      d.value.dataPoints.forEach((p, i) => summaryPointLines(lines, p, i));
      break;
    default:
      break;
  }
}

function pointHead(lines: string[], i: number, attrs: readonly KeyValue[], start: bigint, time: bigint, flags: number): void {
  lines.push(`${IND[3]}point #${i} ${inlineAttributes(attrs)}`);
  lines.push(`${IND[4]}start ${formatNanos(start)}  time ${formatNanos(time)}${flags === 0 ? '' : `  flags 0x${flags.toString(16)}`}`);
}

function numberValue(v: NumberDataPoint['value']): string {
  if (v.case === 'asInt') return v.value.toString();
  if (v.case === 'asDouble') return formatDouble(v.value);
  return '(no value)';
}

function numberPointLines(lines: string[], p: NumberDataPoint, i: number): void {
  pointHead(lines, i, p.attributes, p.startTimeUnixNano, p.timeUnixNano, p.flags);
  lines.push(`${IND[4]}value ${numberValue(p.value)}`);
  exemplarLines(lines, p.exemplars);
}

function minMaxSum(sum: number | undefined, min: number | undefined, max: number | undefined): string {
  let s = '';
  if (sum !== undefined) s += ` sum ${formatDouble(sum)}`;
  if (min !== undefined) s += ` min ${formatDouble(min)}`;
  if (max !== undefined) s += ` max ${formatDouble(max)}`;
  return s;
}

function histogramPointLines(lines: string[], p: HistogramDataPoint, i: number): void {
  pointHead(lines, i, p.attributes, p.startTimeUnixNano, p.timeUnixNano, p.flags);
  lines.push(`${IND[4]}count ${p.count}${minMaxSum(p.sum, p.min, p.max)}`);
  // Bucket i counts values in (bounds[i-1], bounds[i]]; the last one is (bounds[n-1], +Inf).
  const b = p.explicitBounds;
  const parts: string[] = [];
  for (let j = 0; j < p.bucketCounts.length; j++) {
    const lo = j === 0 ? '-Inf' : formatDouble(b[j - 1]!);
    const hi = j < b.length ? formatDouble(b[j]!) : '+Inf';
    parts.push(`(${lo}, ${hi}${j < b.length ? ']' : ')'} ${p.bucketCounts[j]}`);
  }
  if (parts.length > 0) lines.push(`${IND[4]}buckets ${parts.join(', ')}`);
  exemplarLines(lines, p.exemplars);
}

function exponentialPointLines(lines: string[], p: ExponentialHistogramDataPoint, i: number): void {
  pointHead(lines, i, p.attributes, p.startTimeUnixNano, p.timeUnixNano, p.flags);
  lines.push(
    `${IND[4]}count ${p.count}${minMaxSum(p.sum, p.min, p.max)} scale ${p.scale} zero_count ${p.zeroCount}${p.zeroThreshold === 0 ? '' : ` zero_threshold ${formatDouble(p.zeroThreshold)}`}`,
  );
  // Bucket `index` covers (base^index, base^(index+1)] with base = 2^(2^-scale).
  const base = 2 ** (2 ** -p.scale);
  const ranges = (offset: number, counts: readonly bigint[], sign: '' | '-'): string[] => {
    const out: string[] = [];
    counts.forEach((c, j) => {
      if (c === 0n) return;
      const lo = base ** (offset + j);
      const hi = base ** (offset + j + 1);
      out.push(sign === '' ? `(${fmtBound(lo)}, ${fmtBound(hi)}] ${c}` : `[-${fmtBound(hi)}, -${fmtBound(lo)}) ${c}`);
    });
    return out;
  };
  if (p.positive !== undefined && p.positive.bucketCounts.length > 0) {
    lines.push(
      `${IND[4]}positive offset ${p.positive.offset}: ${ranges(p.positive.offset, p.positive.bucketCounts, '').join(', ') || '(all empty)'}`,
    );
  }
  if (p.negative !== undefined && p.negative.bucketCounts.length > 0) {
    lines.push(
      `${IND[4]}negative offset ${p.negative.offset}: ${ranges(p.negative.offset, p.negative.bucketCounts, '-').join(', ') || '(all empty)'}`,
    );
  }
  exemplarLines(lines, p.exemplars);
}

/** Bucket bounds are irrational at most scales: six significant digits are plenty to read. */
function fmtBound(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
}

function summaryPointLines(lines: string[], p: SummaryDataPoint, i: number): void {
  pointHead(lines, i, p.attributes, p.startTimeUnixNano, p.timeUnixNano, p.flags);
  lines.push(`${IND[4]}count ${p.count} sum ${formatDouble(p.sum)}`);
  if (p.quantileValues.length > 0) {
    lines.push(`${IND[4]}quantiles ${p.quantileValues.map((q) => `${formatDouble(q.quantile)}: ${formatDouble(q.value)}`).join(', ')}`);
  }
}

function exemplarLines(lines: string[], exemplars: readonly Exemplar[]): void {
  exemplars.forEach((e, i) => {
    const ids = e.traceId.length > 0 ? ` trace_id ${hex(e.traceId)} span_id ${hex(e.spanId)}` : '';
    lines.push(
      `${IND[4]}exemplar #${i} value ${numberValue(e.value)} time ${formatNanos(e.timeUnixNano)}${ids} ${inlineAttributes(e.filteredAttributes)}`,
    );
  });
}

function severityName(n: SeverityNumber): string {
  const name = SeverityNumber[n] as string | undefined;
  return name === undefined ? String(n) : `${name} (${n})`;
}

function logLines(lines: string[], r: LogRecord, k: number): void {
  lines.push(`${IND[2]}LogRecord #${k}${r.eventName === '' ? '' : ` event ${JSON.stringify(r.eventName)}`}`);
  lines.push(`${IND[3]}time ${formatNanos(r.timeUnixNano)}  observed ${formatNanos(r.observedTimeUnixNano)}`);
  lines.push(`${IND[3]}severity ${severityName(r.severityNumber)}${r.severityText === '' ? '' : ` text ${JSON.stringify(r.severityText)}`}`);
  lines.push(`${IND[3]}body ${formatAnyValue(r.body)}`);
  attributeLines(lines, IND[3], 'attributes', r.attributes);
  if (r.droppedAttributesCount > 0) lines.push(`${IND[3]}dropped attributes: ${r.droppedAttributesCount}`);
  if (r.traceId.length > 0 || r.spanId.length > 0) lines.push(`${IND[3]}trace_id ${hex(r.traceId)} span_id ${hex(r.spanId)}`);
  if (r.flags !== 0) lines.push(`${IND[3]}flags 0x${r.flags.toString(16)}`);
}

function spanLines(lines: string[], s: Span, k: number): void {
  const kind = (Span_SpanKind[s.kind] as string | undefined) ?? String(s.kind);
  lines.push(`${IND[2]}Span #${k} ${JSON.stringify(s.name)} kind ${kind}`);
  lines.push(`${IND[3]}trace_id ${hex(s.traceId)} span_id ${hex(s.spanId)}${s.parentSpanId.length > 0 ? ` parent ${hex(s.parentSpanId)}` : ''}`);
  if (s.traceState !== '') lines.push(`${IND[3]}trace_state ${s.traceState}`);
  const ms = s.endTimeUnixNano >= s.startTimeUnixNano && s.startTimeUnixNano > 0n ? Number(s.endTimeUnixNano - s.startTimeUnixNano) / 1e6 : undefined;
  lines.push(`${IND[3]}start ${formatNanos(s.startTimeUnixNano)}  end ${formatNanos(s.endTimeUnixNano)}${ms === undefined ? '' : `  (${ms} ms)`}`);
  if (s.status !== undefined && (s.status.code !== Status_StatusCode.UNSET || s.status.message !== '')) {
    const code = (Status_StatusCode[s.status.code] as string | undefined) ?? String(s.status.code);
    lines.push(`${IND[3]}status ${code}${s.status.message === '' ? '' : ` ${JSON.stringify(s.status.message)}`}`);
  }
  if (s.flags !== 0) lines.push(`${IND[3]}flags 0x${s.flags.toString(16)}`);
  attributeLines(lines, IND[3], 'attributes', s.attributes);
  s.events.forEach((e, i) => {
    lines.push(`${IND[3]}event #${i} ${JSON.stringify(e.name)} at ${formatNanos(e.timeUnixNano)} ${inlineAttributes(e.attributes)}`);
  });
  s.links.forEach((l, i) => {
    lines.push(`${IND[3]}link #${i} trace_id ${hex(l.traceId)} span_id ${hex(l.spanId)} ${inlineAttributes(l.attributes)}`);
  });
  const dropped: string[] = [];
  if (s.droppedAttributesCount > 0) dropped.push(`${s.droppedAttributesCount} attributes`);
  if (s.droppedEventsCount > 0) dropped.push(`${s.droppedEventsCount} events`);
  if (s.droppedLinksCount > 0) dropped.push(`${s.droppedLinksCount} links`);
  if (dropped.length > 0) lines.push(`${IND[3]}dropped ${dropped.join(', ')}`);
}
