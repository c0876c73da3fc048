/**
 * Temporality conversion, rule by rule (step tables): each row sends one point of one stream and
 * says what comes out (the point, as converted, or which drop). docs/gateway.md, Temporality
 * conversion, states the same rules.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ExportMetricsServiceRequestSchema } from '../../../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import type { Metric } from '../../../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import { AggregationTemporality } from '../../../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import type { TemporalityConfig } from '../../../../src/gateway/config/processors.js';
import { ProcessContext } from '../../../../src/gateway/forward/processors/chain.js';
import type { EntryStep } from '../../../../src/gateway/forward/processors/chain.js';
import { compileTemporality, createTemporalityState } from '../../../../src/gateway/forward/processors/temporality.js';
import type { TemporalityState } from '../../../../src/gateway/forward/processors/temporality.js';
import { manualClock } from '../../../../src/internal/clock.js';
import { scanRequest } from '../../../../src/otlp/scan.js';

const test = suite('gateway/processors/temporality');

const { CUMULATIVE, DELTA } = AggregationTemporality;
/** The gateway's clock starts here (ns): the horizon of a new state. */
const T0 = 1_000_000n;

interface Converter {
  readonly state: TemporalityState;
  readonly step: EntryStep;
}

function converter(to: 'delta' | 'cumulative', over: Partial<TemporalityConfig> = {}): Converter {
  const clock = manualClock(T0);
  const state = createTemporalityState({ to, maxStreams: 100, staleAfterMillis: 60_000, firstPoint: 'auto', ...over }, clock);
  return { state, step: compileTemporality(state, clock) };
}

type MetricInit = Parameters<typeof create<typeof ExportMetricsServiceRequestSchema>>[1];

function request(metrics: unknown[]): Uint8Array {
  return toBinary(
    ExportMetricsServiceRequestSchema,
    create(ExportMetricsServiceRequestSchema, {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { value: { case: 'stringValue', value: 'svc' } } }] },
          scopeMetrics: [{ scope: { name: 's' }, metrics }],
        },
      ],
    } as MetricInit),
  );
}

interface Out {
  readonly metrics: Metric[];
  readonly dropped: Record<string, number>;
  readonly bytes: Uint8Array;
  readonly same: boolean;
}

/** Runs one request through the converter (committed, as an accepted request). */
function run(c: Converter, body: Uint8Array): Out {
  const ctx = new ProcessContext('metrics');
  const scan = scanRequest('metrics', body);
  const inputs = scan.entries.map((e) => body.subarray(e.start, e.end));
  const parts = inputs.map((entry) => c.step(entry, ctx));
  c.state.table.commit();
  const bytes = new Uint8Array(Buffer.concat(parts));
  return {
    metrics: fromBinary(ExportMetricsServiceRequestSchema, bytes).resourceMetrics.flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics)),
    dropped: Object.fromEntries(ctx.dropped ?? []),
    bytes,
    same: parts.length === 1 && parts[0] === inputs[0],
  };
}

const attrs = [{ key: 'route', value: { value: { case: 'stringValue', value: '/a' } } }];
const sum = (temporality: number, points: unknown[], isMonotonic = true, name = 'c') => ({
  name,
  data: { case: 'sum', value: { aggregationTemporality: temporality, isMonotonic, dataPoints: points } },
});
const dbl = (start: bigint, time: bigint, v: number) => ({
  attributes: attrs,
  startTimeUnixNano: start,
  timeUnixNano: time,
  value: { case: 'asDouble', value: v },
});
const int = (start: bigint, time: bigint, v: bigint) => ({
  attributes: attrs,
  startTimeUnixNano: start,
  timeUnixNano: time,
  value: { case: 'asInt', value: v },
});

/** [start, time, value] of the sum points out, or the drop. */
function sumOut(o: Out): Array<[bigint, bigint, number | bigint, number]> | Record<string, number> {
  if (o.metrics.length === 0) return o.dropped;
  return o.metrics.flatMap((m) => {
    const d = m.data;
    if (d.case !== 'sum') return [];
    return d.value.dataPoints.map(
      (p) => [p.startTimeUnixNano, p.timeUnixNano, p.value.value!, d.value.aggregationTemporality] as [bigint, bigint, number | bigint, number],
    );
  });
}

test('to delta, sums: step table', () => {
  // [description, point sent, expected out]
  type Row = [string, ReturnType<typeof dbl>, ReturnType<typeof sumOut>];
  const rows: Row[] = [
    ['first point of a stream that began after the horizon: as it is', dbl(T0 + 10n, T0 + 100n, 5), [[T0 + 10n, T0 + 100n, 5, DELTA]]],
    ['next: the difference, from the previous time', dbl(T0 + 10n, T0 + 200n, 12), [[T0 + 100n, T0 + 200n, 7, DELTA]]],
    ['unchanged: a zero delta', dbl(T0 + 10n, T0 + 300n, 12), [[T0 + 200n, T0 + 300n, 0, DELTA]]],
    ['same time again (a duplicate): late', dbl(T0 + 10n, T0 + 300n, 12), { late: 1 }],
    ['earlier time: late', dbl(T0 + 10n, T0 + 250n, 11), { late: 1 }],
    ['value went down, same start: a reset, the value is the delta', dbl(T0 + 10n, T0 + 400n, 4), [[T0 + 300n, T0 + 400n, 4, DELTA]]],
    ['and on from there', dbl(T0 + 10n, T0 + 500n, 6), [[T0 + 400n, T0 + 500n, 2, DELTA]]],
    ['a new run that began after the previous point: as it is', dbl(T0 + 550n, T0 + 600n, 3), [[T0 + 550n, T0 + 600n, 3, DELTA]]],
    ['a point of the older run: late', dbl(T0 + 10n, T0 + 700n, 99), { late: 1 }],
    ['a new run that began before the previous point (overlapping it): dropped, and the state', dbl(T0 + 580n, T0 + 700n, 50), { first_point: 1 }],
    ['then on from it', dbl(T0 + 580n, T0 + 800n, 60), [[T0 + 700n, T0 + 800n, 10, DELTA]]],
  ];
  const c = converter('delta');
  for (const [what, point, expected] of rows) assert.equal(sumOut(run(c, request([sum(CUMULATIVE, [point])]))), expected, what);
});

test('to delta: first points that cannot tell they are new are dropped; firstPoint: drop drops all', () => {
  const c = converter('delta');
  assert.equal(sumOut(run(c, request([sum(CUMULATIVE, [dbl(T0 - 1n, T0 + 100n, 5)])]))), { first_point: 1 }, 'began before the horizon');
  assert.equal(
    sumOut(run(c, request([sum(CUMULATIVE, [dbl(T0 + 100n, T0 + 100n, 5)], true, 'd')]))),
    { first_point: 1 },
    'start = time: an unknown start',
  );
  assert.equal(
    sumOut(run(c, request([sum(CUMULATIVE, [{ ...dbl(0n, T0 + 100n, 5), startTimeUnixNano: 0n }], true, 'e')]))),
    { first_point: 1 },
    'no start time',
  );
  const drop = converter('delta', { firstPoint: 'drop' });
  assert.equal(sumOut(run(drop, request([sum(CUMULATIVE, [dbl(T0 + 10n, T0 + 100n, 5)])]))), { first_point: 1 });
  assert.equal(sumOut(run(drop, request([sum(CUMULATIVE, [dbl(T0 + 10n, T0 + 200n, 8)])]))), [[T0 + 100n, T0 + 200n, 3, DELTA]]);
});

test('to delta: int sums in 64-bit arithmetic, past 2^53', () => {
  const c = converter('delta');
  const big = 2n ** 60n;
  run(c, request([sum(CUMULATIVE, [int(T0 + 1n, T0 + 100n, big)])]));
  assert.equal(sumOut(run(c, request([sum(CUMULATIVE, [int(T0 + 1n, T0 + 200n, big + 3n)])]))), [[T0 + 100n, T0 + 200n, 3n, DELTA]]);
  assert.equal(sumOut(run(c, request([sum(CUMULATIVE, [int(T0 + 1n, T0 + 300n, big + 2n ** 40n + 3n)])]))), [
    [T0 + 200n, T0 + 300n, 2n ** 40n, DELTA],
  ]);
  assert.equal(sumOut(run(c, request([sum(CUMULATIVE, [int(T0 + 1n, T0 + 400n, 7n)])]))), [[T0 + 300n, T0 + 400n, 7n, DELTA]], 'a reset');
});

test('to delta: non-monotonic sums, gauges and delta sums pass as received (the same bytes)', () => {
  const c = converter('delta');
  const gauge = { name: 'g', data: { case: 'gauge', value: { dataPoints: [dbl(T0, T0 + 5n, 1)] } } };
  for (const metrics of [[sum(CUMULATIVE, [dbl(T0 + 1n, T0 + 2n, -3)], false)], [gauge], [sum(DELTA, [dbl(T0 + 1n, T0 + 2n, 3)])]]) {
    const o = run(c, request(metrics));
    assert.ok(o.same);
  }
});

test('to delta: a point without a start time is written again with one', () => {
  const c = converter('delta');
  run(c, request([sum(CUMULATIVE, [dbl(T0 + 10n, T0 + 100n, 5)])]));
  const noStart = { attributes: attrs, timeUnixNano: T0 + 200n, value: { case: 'asDouble', value: 9 } };
  assert.equal(sumOut(run(c, request([sum(CUMULATIVE, [noStart])]))), [[T0 + 100n, T0 + 200n, 4, DELTA]]);
});

test('no recorded value ends a stream: it passes, and the next point is a first point again', () => {
  const c = converter('delta');
  run(c, request([sum(CUMULATIVE, [dbl(T0 + 10n, T0 + 100n, 5)])]));
  const stale = { ...dbl(T0 + 10n, T0 + 200n, 0), flags: 1 };
  assert.equal((sumOut(run(c, request([sum(CUMULATIVE, [stale])]))) as unknown[]).length, 1);
  assert.equal(
    sumOut(run(c, request([sum(CUMULATIVE, [dbl(T0 + 10n, T0 + 300n, 8)])]))),
    { first_point: 1 },
    'began before the previous point: not new',
  );
});

test('streams are told apart by resource, scope, name, unit and attributes; not by description', () => {
  const c = converter('delta');
  const a = (name: string, unit: string, description: string, route: string, v: number, t: bigint) => ({
    name,
    unit,
    description,
    data: {
      case: 'sum',
      value: {
        aggregationTemporality: CUMULATIVE,
        isMonotonic: true,
        dataPoints: [{ ...dbl(T0 + 1n, t, v), attributes: [{ key: 'route', value: { value: { case: 'stringValue', value: route } } }] }],
      },
    },
  });
  run(c, request([a('x', 'ms', 'one', '/a', 10, T0 + 100n), a('x', 's', 'one', '/a', 20, T0 + 100n), a('x', 'ms', 'one', '/b', 30, T0 + 100n)]));
  const o = run(
    c,
    request([a('x', 'ms', 'two', '/a', 11, T0 + 200n), a('x', 's', 'one', '/a', 22, T0 + 200n), a('x', 'ms', 'one', '/b', 33, T0 + 200n)]),
  );
  assert.equal(
    o.metrics.map((m) => (m.data.case === 'sum' ? m.data.value.dataPoints[0]!.value.value : undefined)),
    [1, 2, 3],
  );
});

test('when every point of a metric, scope or entry is dropped, the metric, scope or entry goes too', () => {
  const c = converter('delta', { firstPoint: 'drop' });
  const o = run(
    c,
    request([sum(CUMULATIVE, [dbl(T0 + 1n, T0 + 100n, 1)]), { name: 'g', data: { case: 'gauge', value: { dataPoints: [dbl(T0, T0 + 5n, 1)] } } }]),
  );
  assert.equal(
    o.metrics.map((m) => m.name),
    ['g'],
  );
  assert.is(run(c, request([sum(CUMULATIVE, [dbl(T0 + 1n, T0 + 100n, 1)], true, 'other')])).bytes.length, 0);
});

const hist = (temporality: number, p: Record<string, unknown>) => ({
  name: 'h',
  data: { case: 'histogram', value: { aggregationTemporality: temporality, dataPoints: [{ attributes: attrs, explicitBounds: [1, 10], ...p }] } },
});

function histOut(o: Out): unknown {
  if (o.metrics.length === 0) return o.dropped;
  const d = o.metrics[0]!.data;
  if (d.case !== 'histogram') return undefined;
  const p = d.value.dataPoints[0]!;
  return [p.startTimeUnixNano, p.timeUnixNano, p.count, p.sum, p.bucketCounts, p.min, p.max, d.value.aggregationTemporality];
}

test('to delta, histograms: bucket differences, min and max dropped, a layout change is a reset', () => {
  const c = converter('delta');
  const h = (time: bigint, count: bigint, sum: number, counts: bigint[], extra: Record<string, unknown> = {}) =>
    request([hist(CUMULATIVE, { startTimeUnixNano: T0 + 1n, timeUnixNano: time, count, sum, bucketCounts: counts, min: 0.5, max: 20, ...extra })]);
  assert.equal(
    histOut(run(c, h(T0 + 100n, 3n, 12, [1n, 1n, 1n]))),
    [T0 + 1n, T0 + 100n, 3n, 12, [1n, 1n, 1n], 0.5, 20, DELTA],
    'a new stream: as it is, min and max true for its interval',
  );
  assert.equal(histOut(run(c, h(T0 + 200n, 5n, 20, [1n, 2n, 2n]))), [T0 + 100n, T0 + 200n, 2n, 8, [0n, 1n, 1n], undefined, undefined, DELTA]);
  assert.equal(
    histOut(run(c, h(T0 + 300n, 2n, 4, [1n, 1n, 0n]))),
    [T0 + 200n, T0 + 300n, 2n, 4, [1n, 1n, 0n], undefined, undefined, DELTA],
    'counts went down: a reset',
  );
  assert.equal(
    histOut(run(c, h(T0 + 400n, 4n, 9, [1n, 1n, 1n, 1n], { explicitBounds: [1, 5, 10] }))),
    [T0 + 300n, T0 + 400n, 4n, 9, [1n, 1n, 1n, 1n], undefined, undefined, DELTA],
    'new bounds: a reset',
  );
});

test('to cumulative, histograms: accumulated, min/max combined, a new layout starts a new run', () => {
  const c = converter('cumulative');
  const h = (start: bigint, time: bigint, count: bigint, counts: bigint[], min: number, max: number, extra: Record<string, unknown> = {}) =>
    request([
      hist(DELTA, {
        startTimeUnixNano: start,
        timeUnixNano: time,
        count,
        sum: count * 2n === 0n ? 0 : Number(count),
        bucketCounts: counts,
        min,
        max,
        ...extra,
      }),
    ]);
  assert.equal(histOut(run(c, h(T0 + 1n, T0 + 100n, 2n, [1n, 1n, 0n], 0.5, 4))), [T0 + 1n, T0 + 100n, 2n, 2, [1n, 1n, 0n], 0.5, 4, CUMULATIVE]);
  assert.equal(histOut(run(c, h(T0 + 100n, T0 + 200n, 1n, [0n, 0n, 1n], 30, 30))), [T0 + 1n, T0 + 200n, 3n, 3, [1n, 1n, 1n], 0.5, 30, CUMULATIVE]);
  assert.equal(histOut(run(c, h(T0 + 150n, T0 + 300n, 1n, [1n, 0n, 0n], 0, 0))), { overlap: 1 });
  assert.equal(histOut(run(c, h(T0 + 200n, T0 + 300n, 1n, [1n, 0n, 0n, 0n], 0, 0, { explicitBounds: [1, 5, 10] }))), [
    T0 + 200n,
    T0 + 300n,
    1n,
    1,
    [1n, 0n, 0n, 0n],
    0,
    0,
    CUMULATIVE,
  ]);
});

test('to cumulative, sums: step table (runs, gaps, late and overlapping points)', () => {
  type Row = [string, ReturnType<typeof dbl>, ReturnType<typeof sumOut>];
  const rows: Row[] = [
    ['the first point starts a run, as it is', dbl(T0 + 1n, T0 + 100n, 5), [[T0 + 1n, T0 + 100n, 5, CUMULATIVE]]],
    ['the next interval: accumulated, from the run start', dbl(T0 + 100n, T0 + 200n, 2), [[T0 + 1n, T0 + 200n, 7, CUMULATIVE]]],
    ['the same point again: late', dbl(T0 + 100n, T0 + 200n, 2), { late: 1 }],
    ['overlapping the previous interval: dropped', dbl(T0 + 150n, T0 + 300n, 1), { overlap: 1 }],
    ["a gap: a new run from the point's start", dbl(T0 + 250n, T0 + 300n, 4), [[T0 + 250n, T0 + 300n, 4, CUMULATIVE]]],
    ['and on', dbl(T0 + 300n, T0 + 400n, -1), [[T0 + 250n, T0 + 400n, 3, CUMULATIVE]]],
  ];
  const c = converter('cumulative');
  for (const [what, point, expected] of rows) assert.equal(sumOut(run(c, request([sum(DELTA, [point], false)]))), expected, what);
  const i = converter('cumulative');
  run(i, request([sum(DELTA, [int(T0 + 1n, T0 + 100n, 2n ** 62n)])]));
  assert.equal(
    sumOut(run(i, request([sum(DELTA, [int(T0 + 100n, T0 + 200n, 2n ** 62n + 1n)])]))),
    [[T0 + 1n, T0 + 200n, 2n ** 63n + 1n - 2n ** 64n, CUMULATIVE]],
    'int64 wraps as int64 does',
  );
});

const exph = (temporality: number, p: Record<string, unknown>) => ({
  name: 'e',
  data: { case: 'exponentialHistogram', value: { aggregationTemporality: temporality, dataPoints: [{ attributes: attrs, ...p }] } },
});

function expOut(o: Out): unknown {
  if (o.metrics.length === 0) return o.dropped;
  const d = o.metrics[0]!.data;
  if (d.case !== 'exponentialHistogram') return undefined;
  const p = d.value.dataPoints[0]!;
  return [p.startTimeUnixNano, p.count, p.scale, p.zeroCount, p.positive?.offset ?? 0, p.positive?.bucketCounts ?? [], p.min];
}

test('to delta, exponential histograms: both brought to the lower scale before the difference', () => {
  const c = converter('delta');
  // Scale 2: buckets 4..7 hold 1, 1, 2, 0. Then scale 1 (after the SDK lowered it): buckets 2..3 hold 3, 3.
  run(
    c,
    request([
      exph(CUMULATIVE, {
        startTimeUnixNano: T0 + 1n,
        timeUnixNano: T0 + 100n,
        count: 4n,
        scale: 2,
        positive: { offset: 4, bucketCounts: [1n, 1n, 2n] },
      }),
    ]),
  );
  // At scale 1 the first point is buckets 2 (1+1) and 3 (2): the difference is 1, 1.
  assert.equal(
    expOut(
      run(
        c,
        request([
          exph(CUMULATIVE, {
            startTimeUnixNano: T0 + 1n,
            timeUnixNano: T0 + 200n,
            count: 6n,
            scale: 1,
            positive: { offset: 2, bucketCounts: [3n, 3n] },
            min: 1,
          }),
        ]),
      ),
    ),
    [T0 + 100n, 2n, 1, 0n, 2, [1n, 1n], undefined],
  );
});

test('to cumulative, exponential histograms: accumulated at the lowest scale, kept within 160 buckets', () => {
  const c = converter('cumulative');
  run(
    c,
    request([
      exph(DELTA, {
        startTimeUnixNano: T0 + 1n,
        timeUnixNano: T0 + 100n,
        count: 1n,
        scale: 3,
        positive: { offset: 0, bucketCounts: [1n] },
        min: 1,
        zeroCount: 1n,
      }),
    ]),
  );
  // 8 (bucket 24 at scale 3) in a point of scale 3 whose range is far away: 1000 buckets apart cannot stay at scale 3.
  const o = run(
    c,
    request([
      exph(DELTA, {
        startTimeUnixNano: T0 + 100n,
        timeUnixNano: T0 + 200n,
        count: 1n,
        scale: 3,
        positive: { offset: 1000, bucketCounts: [1n] },
        min: 2,
      }),
    ]),
  );
  const [start, count, scale, zero, offset, counts, min] = expOut(o) as [bigint, bigint, number, bigint, number, bigint[], number];
  assert.equal([start, count, zero, min], [T0 + 1n, 2n, 1n, 1]);
  assert.ok(counts.length <= 160 && scale < 3, `scale ${scale}, ${counts.length} buckets`);
  assert.is(
    counts.reduce((a, b) => a + b, 0n),
    2n,
  );
  assert.is(offset, 0 >> (3 - scale));
});

test.run();
