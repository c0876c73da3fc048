/**
 * OTLP names and units to Prometheus names, after the OpenTelemetry "Prometheus and
 * OpenMetrics Compatibility" specification (metric points → Prometheus):
 * - invalid characters become `_`, runs of `_` collapse, leading/trailing `_` go (the
 *   Collector's "full normalization"; `http.server..duration` → `http_server_duration`);
 * - the UCUM unit becomes a word suffix (`ms` → `_milliseconds`, `By/s` → `_bytes_per_second`),
 *   annotations in braces are dropped (`{request}` adds nothing), `1` on a gauge adds `_ratio`;
 * - monotonic sums end in `_total`, added once.
 * Label names: invalid characters become `_`; a leading digit gets a `key_` prefix.
 */

/** What a metric becomes in Prometheus; decides the suffixes. */
export type PrometheusType = 'counter' | 'gauge' | 'histogram' | 'summary';

// Units with a Prometheus word (UCUM case-sensitive codes, as the Collector's table maps them).
const UNIT_WORDS: { readonly [unit: string]: string } = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tibibytes',
  KBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '%': 'percent',
};

// The denominator of a rate unit (`X/s`) is singular.
const PER_UNIT_WORDS: { readonly [unit: string]: string } = {
  s: 'second',
  m: 'minute',
  h: 'hour',
  d: 'day',
  w: 'week',
  mo: 'month',
  y: 'year',
};

/** Replaces invalid characters with `_`, collapses runs of `_`, trims them at the ends. */
function words(s: string): string {
  return s
    .replace(/[^A-Za-z0-9_:]+/g, '_')
    .replace(/_{2,}/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** The Prometheus suffix of a UCUM unit, without the leading `_`; '' when it has none. */
export function unitSuffix(unit: string): string {
  // Annotations (`{request}`, `By{packet}`) describe, they do not measure.
  const u = unit.replace(/\{[^}]*\}/g, '').trim();
  if (u === '' || u === '1') return '';
  const slash = u.indexOf('/');
  if (slash < 0) return UNIT_WORDS[u] ?? words(u);
  const main = u.slice(0, slash);
  const per = u.slice(slash + 1);
  const mainWord = main === '' || main === '1' ? '' : (UNIT_WORDS[main] ?? words(main));
  const perWord = PER_UNIT_WORDS[per] ?? words(per);
  if (perWord === '') return mainWord;
  return mainWord === '' ? `per_${perWord}` : `${mainWord}_per_${perWord}`;
}

/**
 * The Prometheus name of a metric: the sample name for counters and gauges, the
 * family (before `_bucket`/`_sum`/`_count`) for histograms and summaries.
 */
export function prometheusMetricName(name: string, unit: string, type: PrometheusType): string {
  let base = words(name);
  if (base === '') base = 'metric';
  if (/^[0-9]/.test(base)) base = `_${base}`;
  // A counter's `_total` is added last, after the unit, so take it off first.
  if (type === 'counter' && base.endsWith('_total')) base = base.slice(0, -'_total'.length);
  const suffix = unitSuffix(unit);
  if (suffix !== '' && !hasSuffix(base, suffix)) base = `${base}_${suffix}`;
  const trimmedUnit = unit.trim();
  if (type === 'gauge' && trimmedUnit === '1' && !hasSuffix(base, 'ratio')) base = `${base}_ratio`;
  return type === 'counter' ? `${base}_total` : base;
}

function hasSuffix(name: string, suffix: string): boolean {
  return name === suffix || name.endsWith(`_${suffix}`);
}

/** A valid Prometheus label name for an attribute key. */
export function prometheusLabelName(key: string): string {
  let s = key.replace(/[^A-Za-z0-9_]/g, '_');
  if (s === '') return 'key_';
  if (/^[0-9]/.test(s)) s = `key_${s}`;
  return s;
}

/** A label value between double quotes: `\`, `"` and newline escaped, as text format 0.0.4 requires. */
export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : value;
}

/** HELP text: `\` and newline escaped (quotes are allowed there). */
export function escapeHelp(text: string): string {
  return /[\\\n]/.test(text) ? text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n') : text;
}

/** A sample value: Go float syntax (`NaN`, `+Inf`, `-Inf`, decimal or exponent form). */
export function formatSampleValue(v: number | bigint): string {
  if (typeof v === 'bigint') return v.toString();
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isNaN(v)) return 'NaN';
  return String(v);
}
