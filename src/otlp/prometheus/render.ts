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
import type { Metric } from '../../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import { warnOnce } from '../../internal/warn.js';
import { escapeHelp, escapeLabelValue, formatSampleValue, unitSuffix, type PrometheusType } from './names.js';
import { translateMetrics, type SampleWriter, type TranslateOptions } from './translate.js';

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
  readonly metric: Metric | undefined;
  readonly lines: string[];
}

/** Renders `requests` as one page. Text: ends with a newline, '' when empty. OpenMetrics: ends with `# EOF`. */
export function renderPrometheus(requests: readonly ExportMetricsServiceRequest[], options: PrometheusRenderOptions = {}): string {
  const openMetrics = options.format === 'openmetrics';
  const families = new Map<string, Family>();
  let current: Family | undefined;
  // Labels → text, cached by the array's identity: every sample of one point shares it (translate.ts).
  let lastLabels: readonly string[] | undefined;
  let lastText = '';
  const writer: SampleWriter = {
    family(name, type, metric) {
      // Keyed by the name 0.0.4 shows (a counter's with `_total`): a gauge `x_total` clashes with a counter `x`.
      const key = type === 'counter' ? `${name}_total` : name;
      const family = families.get(key);
      if (family === undefined) {
        current = { name, type, metric, lines: [] };
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
      if (labels !== lastLabels) {
        lastLabels = labels;
        lastText = pairs(labels);
      }
      let set = lastText;
      if (extraName !== undefined) set = set === '' ? `${extraName}="${extraValue}"` : `${set},${extraName}="${extraValue}"`;
      current!.lines.push(set === '' ? `${name} ${formatSampleValue(value)}` : `${name}{${set}} ${formatSampleValue(value)}`);
    },
    leftOut(metric) {
      warnOnce(
        `prometheus-delta:${metric.name}`,
        `metric "${metric.name}" has delta temporality; Prometheus shows cumulative values only, it is left out of the page`,
      );
    },
  };
  translateMetrics(requests, writer, options);
  let out = '';
  for (const f of families.values()) {
    if (f.lines.length === 0) continue;
    out += openMetrics ? openMetricsHeader(f.name, f) : textHeader(f.name, f);
    // Identical resources (several requests of one collection) describe one target.
    const lines = f.type === 'info' ? new Set(f.lines) : f.lines;
    for (const line of lines) out += `${line}\n`;
  }
  return openMetrics ? `${out}# EOF\n` : out;
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
