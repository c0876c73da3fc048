/**
 * Compatibility: for the same inputs, our cell reports the same scale, offsets, bucket counts,
 * count, zero count, sum, min and max as the official @opentelemetry/sdk-metrics exponential
 * histogram aggregation (recorded through a real MeterProvider with a view, then collected).
 * Known, documented divergence (not exercised here): subnormal values, which we map exactly and the
 * official SDK rounds up to the bucket of 2^-1022.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AggregationTemporality, AggregationType, DataPointType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { ExponentialHistogram } from '@opentelemetry/sdk-metrics';
import { ExponentialHistogramCell } from '../../../src/metrics/aggregate/exponential-histogram.js';
import { prng } from '../../support/prng.js';

class TestReader extends MetricReader {
  constructor(temporality: AggregationTemporality) {
    super({ aggregationTemporalitySelector: () => temporality });
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

interface Point {
  scale: number;
  count: number;
  zeroCount: number;
  sum: number | undefined;
  min: number | undefined;
  max: number | undefined;
  positive: { offset: number; bucketCounts: number[] };
  negative: { offset: number; bucketCounts: number[] };
}

/** Our cell, reported the way the official SDK reports a point (scale 0 without buckets). */
function ours(c: ExponentialHistogramCell, withSum: boolean): Point {
  const pos = Array.from(c.positiveCounts);
  const neg = Array.from(c.negativeCounts);
  return {
    scale: pos.length === 0 && neg.length === 0 ? 0 : c.scale,
    count: c.count,
    zeroCount: c.zeroCount,
    sum: withSum ? c.sum : undefined,
    min: c.min,
    max: c.max,
    positive: { offset: c.positiveOffset, bucketCounts: pos },
    negative: { offset: c.negativeOffset, bucketCounts: neg },
  };
}

function theirs(v: ExponentialHistogram): Point {
  return {
    scale: v.scale,
    count: v.count,
    zeroCount: v.zeroCount,
    sum: v.sum,
    min: v.min,
    max: v.max,
    positive: { offset: v.positive.offset, bucketCounts: [...v.positive.bucketCounts] },
    negative: { offset: v.negative.offset, bucketCounts: [...v.negative.bucketCounts] },
  };
}

/** One official pipeline: a histogram (non-negative values) and an up-down counter (any sign). */
function official(maxSize: number, temporality: AggregationTemporality) {
  const reader = new TestReader(temporality);
  const provider = new MeterProvider({
    views: [{ instrumentName: '*', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize } } }],
    readers: [reader],
  });
  const meter = provider.getMeter('compat');
  const histogram = meter.createHistogram('h');
  const updown = meter.createUpDownCounter('u');
  return {
    histogram,
    updown,
    async collect(): Promise<Map<string, ExponentialHistogram>> {
      const { resourceMetrics, errors } = await reader.collect();
      assert.equal(errors, []);
      const out = new Map<string, ExponentialHistogram>();
      for (const sm of resourceMetrics.scopeMetrics) {
        for (const m of sm.metrics) {
          assert.is(m.dataPointType, DataPointType.EXPONENTIAL_HISTOGRAM);
          if (m.dataPointType !== DataPointType.EXPONENTIAL_HISTOGRAM) continue;
          assert.is(m.dataPoints.length, 1);
          out.set(m.descriptor.name, m.dataPoints[0]!.value);
        }
      }
      return out;
    },
    shutdown: () => provider.shutdown(),
  };
}

/** Values of a random shape: narrow or wide, around a random magnitude, with repeats and zeros. */
function randomValues(rnd: () => number, signed: boolean): number[] {
  const n = 1 + Math.floor(rnd() * 200);
  const centre = Math.exp((rnd() - 0.5) * 60);
  const spread = [0.001, 0.5, 3, 15, 80, 600][Math.floor(rnd() * 6)]!;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = rnd();
    let v: number;
    if (r < 0.05) v = 0;
    else if (r < 0.1)
      v = 2 ** Math.round((rnd() - 0.5) * 40); // exact powers of two: boundary cases
    else if (r < 0.15 && out.length > 0) v = Math.abs(out[Math.floor(rnd() * out.length)]!);
    else if (r < 0.2)
      v = Math.round(rnd() * 1000); // integers, as latency in ms often is
    else v = centre * Math.exp((rnd() - 0.5) * spread);
    if (signed && rnd() < 0.4) v = -v;
    out.push(v);
  }
  return out;
}

const test = suite('metrics/aggregate/exponential-histogram vs @opentelemetry/sdk-metrics');

test('same scale, offsets, buckets, count, sum, min, max for 300 random seeds', async () => {
  let compared = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const rnd = prng(seed);
    const maxSize = [2, 3, 4, 8, 20, 160][seed % 6]!;
    const sdk = official(maxSize, AggregationTemporality.CUMULATIVE);
    const h = new ExponentialHistogramCell(maxSize);
    const u = new ExponentialHistogramCell(maxSize);
    for (const v of randomValues(rnd, false)) {
      sdk.histogram.record(v);
      h.record(v);
    }
    for (const v of randomValues(rnd, true)) {
      sdk.updown.add(v);
      u.record(v);
    }
    const points = await sdk.collect();
    // The official SDK omits sum for instruments that allow negative values (up-down counter).
    assert.equal(ours(h, true), theirs(points.get('h')!), `seed ${seed} histogram, maxSize ${maxSize}`);
    assert.equal(ours(u, false), theirs(points.get('u')!), `seed ${seed} up-down counter, maxSize ${maxSize}`);
    compared += 2;
    await sdk.shutdown();
  }
  assert.is(compared, 600);
});

test('delta temporality over several collections: each interval matches (reset returns to max scale)', async () => {
  for (let seed = 1001; seed <= 1040; seed++) {
    const rnd = prng(seed);
    const maxSize = [4, 20, 160][seed % 3]!;
    const sdk = official(maxSize, AggregationTemporality.DELTA);
    const interval = new ExponentialHistogramCell(maxSize);
    const pending = new ExponentialHistogramCell(maxSize);
    const cumulative = new ExponentialHistogramCell(maxSize);
    const reference = official(maxSize, AggregationTemporality.CUMULATIVE);
    for (let k = 0; k < 4; k++) {
      for (const v of randomValues(rnd, false)) {
        sdk.histogram.record(v);
        reference.histogram.record(v);
        interval.record(v);
      }
      // the interval cell drains into a pending delta and a cumulative state, then resets
      pending.mergeFrom(interval);
      cumulative.mergeFrom(interval);
      interval.reset();
      const delta = (await sdk.collect()).get('h')!;
      assert.equal(ours(pending, true), theirs(delta), `seed ${seed} interval ${k}`);
      pending.reset();
      const total = (await reference.collect()).get('h')!;
      const want = theirs(total);
      const got = ours(cumulative, true);
      // sums add in a different order (per interval, then across): compare them with a tolerance
      assert.ok(Math.abs(got.sum! - want.sum!) <= 1e-9 * Math.abs(want.sum!), `seed ${seed} sum`);
      got.sum = want.sum;
      assert.equal(got, want, `seed ${seed} cumulative after ${k + 1} intervals`);
    }
    await sdk.shutdown();
    await reference.shutdown();
  }
});

test.run();
