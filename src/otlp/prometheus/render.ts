/**
 * Renders a metrics collection (our SDK's `collectMessages()`, cumulative, or the gateway's scrape
 * store) as a scrape page: the Prometheus text exposition format 0.0.4, or OpenMetrics 1.0 text. The
 * translation (names, labels, what is left out) is translate.ts's; this file only formats.
 *
 * Samples carry no timestamps: the scrape time is the sample time, as Prometheus recommends for
 * exporters. All samples of one name are written together under one HELP/TYPE, as both formats
 * require; a later metric whose name maps to an existing family of another type is left out
 * (reported once). Delta points are left out (reported once per metric): a page shows totals.
 */
import type { ExportMetricsServiceRequest } from '../../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { warnOnce } from '../../internal/warn.js';
import { encodeMetricsRequest } from '../encode/metrics-request.js';
import { escapeHelp, escapeLabelValue, formatSampleValue, unitSuffix, type PrometheusType } from './names.js';
import { type MetricInfo, translateMetrics, type SampleWriter, type TranslateOptions } from './translate.js';

/** The Content-Type of a text format 0.0.4 page. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The Content-Type of an OpenMetrics 1.0 page. */
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** A page format. */
export type PageFormat = 'text' | 'openmetrics';

/** Rendering options: the translation's, and the format. */
export interface PrometheusRenderOptions extends TranslateOptions {
  /** Default `text` (0.0.4): what every Prometheus scrapes; OpenMetrics when the scraper asks for it. */
  readonly format?: PageFormat;
}

interface Family {
  /** The family name (counters without `_total`). */
  readonly name: string;
  readonly type: PrometheusType | 'info';
  readonly metric: MetricInfo | undefined;
  /** Its samples: [start, end) runs of the scratch buffer (one per run of consecutive metrics of it). */
  readonly runs: number[];
  /** target_info lines: identical resources (several requests of one collection) describe one target. */
  readonly infoLines: Set<string> | undefined;
}

/**
 * Renders `requests` as one page: encoded Export requests (a consumer's `collect()`), or messages (encoded
 * first with our direct encoder; the translation reads bytes). Text: ends with a newline, '' when empty.
 * OpenMetrics: ends with `# EOF`.
 */
export function renderPrometheus(requests: readonly (Uint8Array | ExportMetricsServiceRequest)[], options: PrometheusRenderOptions = {}): string {
  return renderPrometheusBytes(requests, options).toString('utf8');
}

/**
 * {@link renderPrometheus} as UTF-8 bytes, what an endpoint sends. Samples go straight into one reused
 * byte buffer rather than into strings: a 10,000-series page built as lines held until the end spent more
 * time in the garbage collector (copying the live lines at every scavenge) than in rendering.
 */
export function renderPrometheusBytes(
  requests: readonly (Uint8Array | ExportMetricsServiceRequest)[],
  options: PrometheusRenderOptions = {},
): Buffer {
  const openMetrics = options.format === 'openmetrics';
  const families = new Map<string, Family>();
  const t = text;
  t.pos = 0;
  let current: Family | undefined;
  // The family whose run is open in the scratch buffer, and where that run began.
  let open: Family | undefined;
  let runStart = 0;
  // The labels of the last point, written once at [labelsAt, labelsEnd): every sample of one point (a
  // histogram's buckets) shares the array (translate.ts), and copies those bytes.
  let lastLabels: readonly string[] | undefined;
  let labelsAt = 0;
  let labelsEnd = 0;
  let lastName = '';
  let nameAt = 0;
  let nameEnd = 0;
  const writer: SampleWriter = {
    family(name, type, metric) {
      // Keyed by the name 0.0.4 shows (a counter's with `_total`): a gauge `x_total` clashes with a counter `x`.
      const key = type === 'counter' ? `${name}_total` : name;
      const family = families.get(key);
      if (family === undefined) {
        current = { name, type, metric, runs: [], infoLines: type === 'info' ? new Set() : undefined };
        families.set(key, current);
        return true;
      }
      if (family.type !== type) {
        warnOnce(
          `prometheus-type:${key}`,
          `metric "${metric?.name ?? name}" maps to Prometheus name ${key}, already a ${family.type}; this ${type} is left out of the page`,
        );
        return false;
      }
      current = family;
      return true;
    },
    sample(name, labels, value, _time, extraName, extraValue) {
      const f = current!;
      if (f.infoLines !== undefined) {
        f.infoLines.add(`${name}{${pairs(labels)}} ${formatSampleValue(value)}\n`);
        return;
      }
      if (f !== open) {
        if (open !== undefined && t.pos > runStart) open.runs.push(runStart, t.pos);
        open = f;
        runStart = t.pos;
      }
      // Every sample of a metric (every bucket of a histogram point) repeats its name: copy the bytes.
      if (name === lastName) t.copy(nameAt, nameEnd);
      else {
        lastName = name;
        nameAt = t.pos;
        t.write(name);
        nameEnd = t.pos;
      }
      if (labels.length > 0 || extraName !== undefined) {
        t.byte(0x7b); // {
        if (labels.length > 0) {
          if (labels === lastLabels) t.copy(labelsAt, labelsEnd);
          else {
            lastLabels = labels;
            labelsAt = t.pos;
            writePairs(t, labels);
            labelsEnd = t.pos;
          }
          if (extraName !== undefined) t.byte(0x2c); // ,
        }
        if (extraName !== undefined) t.write(`${extraName}="${extraValue}"`);
        t.byte(0x7d); // }
      }
      t.byte(0x20);
      if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) t.digits(value);
      else t.write(formatSampleValue(value));
      t.byte(0x0a);
    },
    leftOut(metric) {
      warnOnce(
        `prometheus-delta:${metric.name}`,
        `metric "${metric.name}" has delta temporality; Prometheus shows cumulative values only, it is left out of the page`,
      );
    },
  };
  translateMetrics(
    requests.map((r) => (r instanceof Uint8Array ? r : encodeMetricsRequest(r))),
    writer,
    options,
  );
  if (open !== undefined && t.pos > runStart) open.runs.push(runStart, t.pos);
  // Headers and target_info lines are few: plain strings, encoded once here.
  const parts: Array<Buffer | [number, number]> = [];
  let total = 0;
  for (const f of families.values()) {
    if (f.infoLines === undefined ? f.runs.length === 0 : f.infoLines.size === 0) continue;
    let head = openMetrics ? openMetricsHeader(f.name, f) : textHeader(f.name, f);
    if (f.infoLines !== undefined) for (const line of f.infoLines) head += line;
    const bytes = Buffer.from(head);
    parts.push(bytes);
    total += bytes.byteLength;
    for (let i = 0; i < f.runs.length; i += 2) {
      parts.push([f.runs[i]!, f.runs[i + 1]!]);
      total += f.runs[i + 1]! - f.runs[i]!;
    }
  }
  const eof = openMetrics ? Buffer.from('# EOF\n') : undefined;
  if (eof !== undefined) {
    parts.push(eof);
    total += eof.byteLength;
  }
  // Not zero-filled: every byte is written below.
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const part of parts) {
    if (Buffer.isBuffer(part)) {
      out.set(part, at);
      at += part.byteLength;
    } else {
      out.set(t.buf.subarray(part[0], part[1]), at);
      at += part[1] - part[0];
    }
  }
  return out;
}

/** A growable UTF-8 buffer; strings are written with an ASCII fast path (names and labels mostly are). */
class ByteText {
  buf = new Uint8Array(64 * 1024);
  pos = 0;

  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  byte(b: number): void {
    if (this.pos === this.buf.length) this.reserve(1);
    this.buf[this.pos++] = b;
  }

  write(s: string): void {
    const n = s.length;
    // UTF-16 → UTF-8 is at most 3 bytes per code unit.
    if (this.pos + n * 3 > this.buf.length) this.reserve(n * 3);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        p += encoder.encodeInto(s.slice(i), b.subarray(p)).written;
        break;
      }
      b[p++] = c;
    }
    this.pos = p;
  }

  /** A label value, escaped as both formats require (`\\`, `"`, newline); checked while copying, not by a regex first. */
  writeLabelValue(s: string): void {
    const n = s.length;
    if (this.pos + n * 3 > this.buf.length) this.reserve(n * 3);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80 || c === 0x22 || c === 0x5c || c === 0x0a) {
        this.pos = p;
        this.write(escapeLabelValue(s.slice(i)));
        return;
      }
      b[p++] = c;
    }
    this.pos = p;
  }

  /** A non-negative safe integer in decimal, without making a string (counters and counts mostly are). */
  digits(v: number): void {
    let n = 1;
    for (let x = v; x >= 10; x = Math.floor(x / 10)) n++;
    if (this.pos + n > this.buf.length) this.reserve(n);
    let p = this.pos + n;
    let x = v;
    do {
      this.buf[--p] = 0x30 + (x % 10);
      x = Math.floor(x / 10);
    } while (x > 0);
    this.pos += n;
  }

  /** Appends bytes [from, to) of this buffer again. */
  copy(from: number, to: number): void {
    this.reserve(to - from);
    this.buf.copyWithin(this.pos, from, to);
    this.pos += to - from;
  }
}

// Samples are written here as they come, then copied family by family into the page. Reused by every
// render (rendering is synchronous): it keeps the size of the largest page, as the collection writer does.
const text = new ByteText();

const encoder = new TextEncoder();

function writePairs(t: ByteText, labels: readonly string[]): void {
  for (let i = 0; i < labels.length; i += 2) {
    if (i > 0) t.byte(0x2c);
    t.write(labels[i]!);
    t.byte(0x3d); // =
    t.byte(0x22); // "
    t.writeLabelValue(labels[i + 1]!);
    t.byte(0x22);
  }
}

function textHeader(name: string, f: Family): string {
  if (f.type === 'info') return '# HELP target_info Target metadata\n# TYPE target_info gauge\n';
  // A counter's family is named with its `_total` in 0.0.4.
  const family = f.type === 'counter' ? `${name}_total` : name;
  const help = f.metric?.description ?? '';
  return `${help === '' ? '' : `# HELP ${family} ${escapeHelp(help)}\n`}# TYPE ${family} ${f.type}\n`;
}

function openMetricsHeader(name: string, f: Family): string {
  if (f.type === 'info') return `# TYPE ${name.slice(0, -'_info'.length)} info\n# HELP target Target metadata\n`;
  const help = f.metric?.description ?? '';
  let out = `# TYPE ${name} ${f.type}\n`;
  // OpenMetrics: a UNIT must be a suffix of the family name; ours is (names.ts adds it).
  const unit = f.metric === undefined ? '' : unitSuffix(f.metric.unit);
  if (unit !== '' && name.endsWith(`_${unit}`)) out += `# UNIT ${name} ${unit}\n`;
  if (help !== '') out += `# HELP ${name} ${escapeHelp(help).replace(/"/g, '\\"')}\n`;
  return out;
}

function pairs(labels: readonly string[]): string {
  let out = '';
  for (let i = 0; i < labels.length; i += 2) {
    if (i > 0) out += ',';
    out += `${labels[i]}="${escapeLabelValue(labels[i + 1]!)}"`;
  }
  return out;
}
