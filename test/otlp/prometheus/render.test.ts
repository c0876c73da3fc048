import { create } from '@bufbuild/protobuf';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ExportMetricsServiceRequestSchema,
  type ExportMetricsServiceRequest,
} from '../../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { AggregationTemporality } from '../../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import { manualClock } from '../../../src/internal/clock.js';
import { resetWarnings, setDiagnosticSink, getDiagnosticSink } from '../../../src/internal/warn.js';
import { ValueType } from '../../../src/metrics/instrument-descriptor.js';
import { createMeterProvider } from '../../../src/metrics/meter-provider.js';
import { renderPrometheus } from '../../../src/otlp/prometheus/render.js';
import { escapeLabelValue, formatSampleValue, prometheusLabelName, prometheusMetricName, unitSuffix } from '../../../src/otlp/prometheus/names.js';

// ---- a tiny text format 0.0.4 parser: the grammar check every page in this file goes through ----

interface Sample {
  readonly name: string;
  readonly labels: ReadonlyMap<string, string>;
  readonly value: number;
}
interface ParsedFamily {
  readonly type: string;
  readonly help: string | undefined;
  readonly samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*';
const LABEL_VALUE = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const VALUE = '(?:[+-]?Inf|NaN|[+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?)';
const SAMPLE_RE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL}=${LABEL_VALUE})(?:,${LABEL}=${LABEL_VALUE})*)?\\})? (${VALUE})$`);
const PAIR_RE = new RegExp(`(${LABEL})=(${LABEL_VALUE})`, 'g');
const SUFFIXES: { readonly [type: string]: readonly string[] } = {
  counter: [''],
  gauge: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

function unescape(quoted: string): string {
  return quoted.slice(1, -1).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

/** An Error, not an Assertion: uvu's assert.throws rethrows assertions, and the self-check needs to catch these. */
function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new Error(message);
}

/** Parses a page, throwing on any line that breaks the 0.0.4 grammar or the family rules. */
function parse(text: string): Map<string, ParsedFamily> {
  check(text === '' || text.endsWith('\n'), 'a page ends with a newline');
  const families = new Map<string, ParsedFamily>();
  let current: { name: string; family: ParsedFamily } | undefined;
  let pendingHelp: { name: string; help: string } | undefined;
  for (const line of text.split('\n').slice(0, -1)) {
    const help = /^# HELP (\S+) (.*)$/.exec(line);
    if (help !== null) {
      check(new RegExp(`^${NAME}$`).test(help[1]!), `HELP name ${help[1]}`);
      check(!/\\[^\\n]/.test(help[2]!.replace(/\\\\/g, '')), `HELP escapes: ${line}`);
      pendingHelp = { name: help[1]!, help: help[2]! };
      continue;
    }
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type !== null) {
      const name = type[1]!;
      check(!families.has(name), `TYPE ${name} appears once`);
      if (pendingHelp !== undefined) check(pendingHelp.name === name, 'HELP names the next family');
      const family: ParsedFamily = { type: type[2]!, help: pendingHelp?.help, samples: [] };
      families.set(name, family);
      current = { name, family };
      pendingHelp = undefined;
      continue;
    }
    const m = SAMPLE_RE.exec(line);
    check(m !== null, `sample line grammar: ${JSON.stringify(line)}`);
    const cur = current;
    check(cur !== undefined, `sample before any TYPE: ${line}`);
    const name = m[1]!;
    const allowed = SUFFIXES[cur.family.type]!.map((s) => cur.name + s);
    check(allowed.includes(name), `${name} belongs to family ${cur.name} (${cur.family.type})`);
    const labels = new Map<string, string>();
    for (const p of (m[2] ?? '').matchAll(PAIR_RE)) {
      check(!labels.has(p[1]!), `label ${p[1]} once per sample`);
      labels.set(p[1]!, unescape(p[2]!));
    }
    const v = m[3]!;
    const value = v === '+Inf' || v === 'Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v);
    cur.family.samples.push({ name, labels, value });
  }
  // Histograms: per label set, buckets ascend in le with non-decreasing counts, +Inf equals _count.
  for (const [name, f] of families) {
    if (f.type !== 'histogram') continue;
    const series = new Map<string, { les: number[]; counts: number[]; count?: number }>();
    for (const s of f.samples) {
      const key = [...s.labels]
        .filter(([k]) => k !== 'le')
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      const e = series.get(key) ?? { les: [], counts: [] };
      series.set(key, e);
      if (s.name === `${name}_bucket`) {
        const le = s.labels.get('le');
        check(le !== undefined, 'bucket has le');
        e.les.push(le === '+Inf' ? Infinity : Number(le));
        e.counts.push(s.value);
      } else if (s.name === `${name}_count`) e.count = s.value;
    }
    for (const [key, e] of series) {
      for (let i = 1; i < e.les.length; i++) {
        check(e.les[i]! > e.les[i - 1]!, `${name}{${key}} le ascending`);
        check(e.counts[i]! >= e.counts[i - 1]!, `${name}{${key}} cumulative`);
      }
      check(e.les[e.les.length - 1] === Infinity, `${name}{${key}} ends with +Inf`);
      check(e.counts[e.counts.length - 1] === e.count, `${name}{${key}} +Inf bucket = _count`);
    }
  }
  return families;
}

const T0 = 1_700_000_000_000_000_000n;

function sdk() {
  const clock = manualClock(T0);
  const provider = createMeterProvider({ resource: { 'service.name': 'svc' }, clock });
  const consumer = provider.registerConsumer();
  const meter = provider.getMeter('lib', '1.0');
  return { clock, provider, consumer, meter };
}

const TARGET = '# HELP target_info Target metadata\n# TYPE target_info gauge\ntarget_info{service_name="svc"} 1\n';
const SCOPE = 'otel_scope_name="lib",otel_scope_version="1.0"';

const warnings: string[] = [];
const previousSink = getDiagnosticSink();

const golden = suite('otlp/prometheus golden pages');
golden.before.each(() => {
  warnings.length = 0;
  resetWarnings();
  setDiagnosticSink((m) => warnings.push(m));
});
golden.after.each(() => setDiagnosticSink(previousSink));

golden('counter: _total, unit annotation dropped, HELP, scope labels', async () => {
  const { consumer, meter } = sdk();
  const c = meter.createCounter('http.requests', { unit: '{request}', description: 'Requests served', valueType: ValueType.INT });
  c.add(3, { method: 'GET' });
  c.add(2, { method: 'POST' });
  c.add(1, { method: 'GET' });
  const text = renderPrometheus(await consumer.collectMessages());
  assert.is(
    text,
    TARGET +
      '# HELP http_requests_total Requests served\n' +
      '# TYPE http_requests_total counter\n' +
      `http_requests_total{method="GET",${SCOPE}} 4\n` +
      `http_requests_total{method="POST",${SCOPE}} 2\n`,
  );
  parse(text);
});

golden('updowncounter and gauge: gauge type, unit words, ratio for unit 1', async () => {
  const { consumer, meter } = sdk();
  meter.createUpDownCounter('queue.size', { unit: 'By' }).add(-5.5);
  meter.createGauge('cpu.utilization', { unit: '1' }).record(0.25, { cpu: 0 });
  const text = renderPrometheus(await consumer.collectMessages(), { targetInfo: false });
  assert.is(
    text,
    '# TYPE queue_size_bytes gauge\n' +
      `queue_size_bytes{${SCOPE}} -5.5\n` +
      '# TYPE cpu_utilization_ratio gauge\n' +
      `cpu_utilization_ratio{cpu="0",${SCOPE}} 0.25\n`,
  );
  parse(text);
});

golden('histogram: cumulative buckets with +Inf, _sum, _count, unit suffix', async () => {
  const { consumer, meter } = sdk();
  const h = meter.createHistogram('rpc.duration', { unit: 'ms', description: 'RPC time', advice: { explicitBucketBoundaries: [1, 5, 10] } });
  for (const v of [0.5, 2, 3, 7, 50]) h.record(v, { rpc: 'a' });
  const text = renderPrometheus(await consumer.collectMessages(), { targetInfo: false, scopeLabels: false });
  assert.is(
    text,
    '# HELP rpc_duration_milliseconds RPC time\n' +
      '# TYPE rpc_duration_milliseconds histogram\n' +
      'rpc_duration_milliseconds_bucket{rpc="a",le="1"} 1\n' +
      'rpc_duration_milliseconds_bucket{rpc="a",le="5"} 3\n' +
      'rpc_duration_milliseconds_bucket{rpc="a",le="10"} 4\n' +
      'rpc_duration_milliseconds_bucket{rpc="a",le="+Inf"} 5\n' +
      'rpc_duration_milliseconds_sum{rpc="a"} 62.5\n' +
      'rpc_duration_milliseconds_count{rpc="a"} 5\n',
  );
  parse(text);
});

golden('histogram without attributes or scope labels: le is the only label', async () => {
  const { consumer, meter } = sdk();
  meter.createHistogram('size', { advice: { explicitBucketBoundaries: [10] } }).record(3);
  const text = renderPrometheus(await consumer.collectMessages(), { targetInfo: false, scopeLabels: false });
  assert.is(text, '# TYPE size histogram\nsize_bucket{le="10"} 1\nsize_bucket{le="+Inf"} 1\nsize_sum 3\nsize_count 1\n');
  parse(text);
});

golden('observable counter and observable updowncounter: counter and gauge', async () => {
  const { consumer, meter } = sdk();
  const oc = meter.createObservableCounter('process.cpu.time', { unit: 's' });
  oc.addCallback((r) => r.observe(12.5, { state: 'user' }));
  const ou = meter.createObservableUpDownCounter('process.memory.usage', { unit: 'By', valueType: ValueType.INT });
  ou.addCallback((r) => r.observe(1024));
  const text = renderPrometheus(await consumer.collectMessages(), { targetInfo: false, scopeLabels: false });
  assert.is(
    text,
    '# TYPE process_cpu_time_seconds_total counter\n' +
      'process_cpu_time_seconds_total{state="user"} 12.5\n' +
      '# TYPE process_memory_usage_bytes gauge\n' +
      'process_memory_usage_bytes 1024\n',
  );
  parse(text);
});

golden('exponential histogram: classic buckets at the exponential bounds', async () => {
  const p = createMeterProvider({ clock: manualClock(T0), defaultHistogramAggregation: 'base2_exponential_bucket_histogram' });
  const c = p.registerConsumer();
  const eh = p.getMeter('m').createHistogram('latency', { unit: 's' });
  for (const v of [1.5, 3, 3, 0]) eh.record(v);
  const msgs = await c.collectMessages();
  assert.is(msgs[0]!.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.data.case, 'exponentialHistogram');
  const text = renderPrometheus(msgs, { targetInfo: false, scopeLabels: false });
  const fam = parse(text).get('latency_seconds');
  assert.ok(fam !== undefined && fam.type === 'histogram');
  const buckets = fam.samples.filter((s) => s.name === 'latency_seconds_bucket').map((s) => [s.labels.get('le')!, s.value] as const);
  // The cumulative count at the largest le ≤ x: the scale adapts to the data, but the bounds
  // it yields must still hold 0 in the zero bucket, 1.5 at or below 2 and the 3s at or below 4.
  const countAt = (x: number): number => {
    let best = 0;
    for (const [le, v] of buckets) if (le !== '+Inf' && Number(le) <= x) best = v;
    return best;
  };
  assert.is(countAt(0), 1);
  assert.is(countAt(2 + 1e-9), 2);
  assert.is(countAt(4 + 1e-9), 4);
  assert.equal(buckets[buckets.length - 1], ['+Inf', 4]);
  assert.ok(text.includes('latency_seconds_sum 7.5\n'));
  assert.ok(text.includes('latency_seconds_count 4\n'));
});

golden('exponential histogram from a hand-built point: exact bounds, negatives first', () => {
  const req = create(ExportMetricsServiceRequestSchema, {
    resourceMetrics: [
      {
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'x',
                data: {
                  case: 'exponentialHistogram',
                  value: {
                    aggregationTemporality: AggregationTemporality.CUMULATIVE,
                    dataPoints: [
                      {
                        count: 7n,
                        sum: 10,
                        scale: 0,
                        zeroCount: 1n,
                        // base 2: index 1 covers (2, 4], index 2 (4, 8].
                        positive: { offset: 1, bucketCounts: [2n, 0n, 1n] },
                        // index 0 covers [-2, -1), index 1 [-4, -2).
                        negative: { offset: 0, bucketCounts: [1n, 2n] },
                      },
                    ],
                  },
                },
              },
            ],
          },
        ],
      },
    ],
  });
  const text = renderPrometheus([req]);
  assert.is(
    text,
    '# TYPE x histogram\n' +
      'x_bucket{le="-2"} 2\n' +
      'x_bucket{le="-1"} 3\n' +
      'x_bucket{le="0"} 4\n' +
      'x_bucket{le="4"} 6\n' +
      'x_bucket{le="16"} 7\n' +
      'x_bucket{le="+Inf"} 7\n' +
      'x_sum 10\n' +
      'x_count 7\n',
  );
  parse(text);
});

golden('summary, int64 values, delta points left out with a warning', () => {
  const req = create(ExportMetricsServiceRequestSchema, {
    resourceMetrics: [
      {
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'rpc.latency',
                unit: 'ms',
                data: {
                  case: 'summary',
                  value: {
                    dataPoints: [
                      {
                        count: 4n,
                        sum: 20,
                        quantileValues: [
                          { quantile: 0.5, value: 4 },
                          { quantile: 0.99, value: 9 },
                        ],
                      },
                    ],
                  },
                },
              },
              {
                name: 'big',
                data: {
                  case: 'sum',
                  value: {
                    aggregationTemporality: AggregationTemporality.CUMULATIVE,
                    isMonotonic: true,
                    dataPoints: [{ value: { case: 'asInt', value: 9007199254740993n } }],
                  },
                },
              },
              {
                name: 'delta.thing',
                data: {
                  case: 'sum',
                  value: {
                    aggregationTemporality: AggregationTemporality.DELTA,
                    isMonotonic: true,
                    dataPoints: [{ value: { case: 'asDouble', value: 1 } }],
                  },
                },
              },
            ],
          },
        ],
      },
    ],
  });
  const text = renderPrometheus([req]);
  assert.is(
    text,
    '# TYPE rpc_latency_milliseconds summary\n' +
      'rpc_latency_milliseconds{quantile="0.5"} 4\n' +
      'rpc_latency_milliseconds{quantile="0.99"} 9\n' +
      'rpc_latency_milliseconds_sum 20\n' +
      'rpc_latency_milliseconds_count 4\n' +
      '# TYPE big_total counter\n' +
      'big_total 9007199254740993\n',
  );
  parse(text);
  assert.ok(
    warnings.some((w) => w.includes('delta.thing') && w.includes('delta')),
    warnings.join('\n'),
  );
});

golden('families: one HELP/TYPE per name across scopes; type clash left out and reported', async () => {
  const clock = manualClock(T0);
  const p = createMeterProvider({ clock });
  const c = p.registerConsumer();
  p.getMeter('a').createCounter('jobs').add(1);
  p.getMeter('b').createCounter('jobs').add(2);
  p.getMeter('c').createUpDownCounter('jobs_total').add(7);
  p.getMeter('d').createGauge('jobs.total').record(3);
  const text = renderPrometheus(await c.collectMessages());
  const fams = parse(text);
  const jobs = fams.get('jobs_total');
  assert.ok(jobs !== undefined);
  assert.is(jobs.type, 'counter');
  assert.equal(
    jobs.samples.map((s) => [s.labels.get('otel_scope_name'), s.value]),
    [
      ['a', 1],
      ['b', 2],
    ],
  );
  assert.not.ok(text.includes(' 7\n'));
  assert.ok(
    warnings.some((w) => w.includes('jobs_total') && w.includes('already a counter')),
    warnings.join('\n'),
  );
});

golden.run();

const names = suite('otlp/prometheus names and escaping');

names('metric names: step table', () => {
  const table: Array<[string, string, 'counter' | 'gauge' | 'histogram' | 'summary', string]> = [
    ['http.server.request.duration', 's', 'histogram', 'http_server_request_duration_seconds'],
    ['http.server.active_requests', '{request}', 'gauge', 'http_server_active_requests'],
    ['system.network.dropped', '{packets}', 'counter', 'system_network_dropped_total'],
    ['system.network.io', 'By', 'counter', 'system_network_io_bytes_total'],
    ['requests_total', '', 'counter', 'requests_total'],
    ['requests.total', '1', 'counter', 'requests_total'],
    ['memory.utilization', '1', 'gauge', 'memory_utilization_ratio'],
    ['throughput', 'By/s', 'gauge', 'throughput_bytes_per_second'],
    ['rate', '1/s', 'gauge', 'rate_per_second'],
    ['duration_seconds', 's', 'histogram', 'duration_seconds'],
    ['(lambda).function.executions(#)', '', 'counter', 'lambda_function_executions_total'],
    ['a..b__c', 'packets', 'counter', 'a_b_c_packets_total'],
    ['9lives', '', 'gauge', '_9lives'],
    ['temp', 'Cel', 'gauge', 'temp_celsius'],
    ['x', 'KiBy', 'gauge', 'x_kibibytes'],
    ['job:rate', '', 'gauge', 'job:rate'],
    ['odd', 'm/s', 'gauge', 'odd_meters_per_second'],
    ['w', 'foo-bar', 'gauge', 'w_foo_bar'],
  ];
  for (const [name, unit, type, want] of table) assert.is(prometheusMetricName(name, unit, type), want, `${name} [${unit}] ${type}`);
});

names('unit suffixes', () => {
  assert.is(unitSuffix(''), '');
  assert.is(unitSuffix('{thing}'), '');
  assert.is(unitSuffix('ms'), 'milliseconds');
  assert.is(unitSuffix('By{packet}'), 'bytes');
  assert.is(unitSuffix('{req}/s'), 'per_second');
  assert.is(unitSuffix('MiBy/mo'), 'mebibytes_per_month');
});

names('label names and values', () => {
  assert.is(prometheusLabelName('service.name'), 'service_name');
  assert.is(prometheusLabelName('http-method'), 'http_method');
  assert.is(prometheusLabelName('0key'), 'key_0key');
  assert.is(prometheusLabelName('ünïcode'), '_n_code');
  assert.is(prometheusLabelName(''), 'key_');
  assert.is(escapeLabelValue('plain'), 'plain');
  assert.is(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  assert.is(formatSampleValue(Infinity), '+Inf');
  assert.is(formatSampleValue(-Infinity), '-Inf');
  assert.is(formatSampleValue(NaN), 'NaN');
  assert.is(formatSampleValue(1e21), '1e+21');
  assert.is(formatSampleValue(12n), '12');
});

names('escaping in a page: label values, HELP, clashing keys merged, non-string values', async () => {
  const clock = manualClock(T0);
  const p = createMeterProvider({ clock, resource: { 'service.name': 'a"b', 'host.id': 'x\\y' } });
  const c = p.registerConsumer();
  const counter = p.getMeter('m').createCounter('evil', { description: 'line one\nline two \\ backslash "quoted"' });
  counter.add(1, { path: 'C:\\dir\n"x"', 'a.b': 'dot', a_b: 'underscore', n: 5, ok: true, list: ['x', 'y'] });
  const text = renderPrometheus(await c.collectMessages());
  assert.ok(text.includes('# HELP evil_total line one\\nline two \\\\ backslash "quoted"\n'), text);
  assert.ok(text.includes('target_info{service_name="a\\"b",host_id="x\\\\y"} 1\n'), text);
  const fam = parse(text).get('evil_total');
  assert.ok(fam !== undefined);
  const s = fam.samples[0]!;
  assert.is(s.labels.get('path'), 'C:\\dir\n"x"');
  // `a.b` and `a_b` both become a_b: values joined with ';' in order of the original keys.
  assert.is(s.labels.get('a_b'), 'dot;underscore');
  assert.is(s.labels.get('n'), '5');
  assert.is(s.labels.get('ok'), 'true');
  assert.is(s.labels.get('list'), '["x","y"]');
});

names('parser self-check: it refuses malformed pages', () => {
  const refuses = (text: string): boolean => {
    try {
      parse(text);
      return false;
    } catch {
      return true;
    }
  };
  assert.ok(refuses('# TYPE a counter\na{b="c} 1\n'));
  assert.ok(refuses('# TYPE a counter\na{b="c"} one\n'));
  assert.ok(refuses('# TYPE a counter\nb 1\n'));
  assert.ok(refuses('# TYPE a counter\n# TYPE a counter\n'));
  assert.ok(refuses('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\n'));
  assert.ok(refuses('# TYPE a gauge\na{b="x\\q"} 1\n'));
  assert.ok(refuses('# TYPE a gauge\na 1'));
  assert.not.ok(refuses('# HELP a x\n# TYPE a gauge\na{b="q\\"\\n"} -Inf\n'));
  assert.is(parse('').size, 0);
});

names('empty collection renders an empty page', () => {
  assert.is(renderPrometheus([]), '');
  const empty: ExportMetricsServiceRequest = create(ExportMetricsServiceRequestSchema, {});
  assert.is(renderPrometheus([empty]), '');
});

names.run();
