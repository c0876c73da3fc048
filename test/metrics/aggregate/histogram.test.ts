import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BinaryWriter } from '../../../src/otlp/encode/binary-writer.js';
import { bucketIndex, DEFAULT_HISTOGRAM_BOUNDARIES, HistogramColumns, HistogramSeries } from '../../../src/metrics/aggregate/histogram.js';
import { SumColumns, SumSeries } from '../../../src/metrics/aggregate/sum.js';
import { LastValueColumns, LastValueSeries } from '../../../src/metrics/aggregate/last-value.js';
import { encodeKeyValues } from '../../../src/otlp/encode/common.js';
import { prng } from '../helpers.js';

const test = suite('metrics/aggregate: explicit histogram, sum, last value');

function linear(bounds: Float64Array, x: number): number {
  let i = 0;
  while (i < bounds.length && x > (bounds[i] as number)) i++;
  return i;
}

test('buckets are upper-inclusive: (b[i-1], b[i]]', () => {
  const b = Float64Array.from(DEFAULT_HISTOGRAM_BOUNDARIES);
  assert.is(bucketIndex(b, -1), 0);
  assert.is(bucketIndex(b, 0), 0);
  assert.is(bucketIndex(b, 0.0001), 1);
  assert.is(bucketIndex(b, 5), 1);
  assert.is(bucketIndex(b, 5.5), 2);
  assert.is(bucketIndex(b, 10000), 14);
  assert.is(bucketIndex(b, 10001), 15);
  assert.is(bucketIndex(new Float64Array(0), 3), 0);
});

test('binary search (many boundaries) agrees with a linear scan', () => {
  const rnd = prng(3);
  const b = Float64Array.from({ length: 100 }, (_, i) => i * 10);
  for (let n = 0; n < 5000; n++) {
    const x = rnd() < 0.2 ? Math.floor(rnd() * 100) * 10 : rnd() * 1100 - 50;
    assert.is(bucketIndex(b, x), linear(b, x));
  }
});

test('series and columns: merge, min/max, delta clear, NaN ignored', () => {
  const bounds = Float64Array.from([1, 10]);
  const s = new HistogramSeries({}, 0, 0n, 0, bounds);
  for (const v of [0.5, 1, 5, 20, NaN]) s.measure(v);
  assert.is(s.count, 4);
  assert.is(s.sum, 26.5);
  assert.equal([...s.counts], [2, 1, 1]);
  const cols = new HistogramColumns(true, 1, bounds, true, true);
  cols.merge(0, s);
  s.reset();
  assert.is(s.n, 0);
  s.measure(100);
  cols.merge(0, s);
  assert.equal([...cols.d.subarray(0, 7)], [5, 126.5, 0.5, 100, 2, 1, 2]);
  cols.clear(0);
  s.reset();
  s.measure(3);
  cols.merge(0, s);
  assert.equal([...cols.d.subarray(0, 7)], [1, 3, 3, 3, 0, 1, 0], 'a cleared slot starts over');
});

test('pointSize equals the bytes written, for every column kind', () => {
  const rnd = prng(11);
  const attrs = [encodeKeyValues(7, {}), encodeKeyValues(7, { a: 'x'.repeat(200), b: 2 })];
  for (let n = 0; n < 200; n++) {
    const a = attrs[n % 2] as Uint8Array;
    const times = [0n, 1n, 1_700_000_000_000_000_000n];
    const start = times[n % 3] as bigint;
    const time = times[(n + 1) % 3] as bigint;
    const timesLen = (start !== 0n ? 9 : 0) + (time !== 0n ? 9 : 0);
    const bounds = Float64Array.from({ length: n % 20 }, (_, i) => i * 3);
    const h = new HistogramSeries({}, 0, 0n, 0, bounds);
    const k = Math.floor(rnd() * 5);
    for (let i = 0; i < k; i++) h.measure(rnd() * 70);
    const hc = new HistogramColumns(false, 1, bounds, n % 3 !== 0, n % 4 !== 0);
    hc.merge(0, h);
    const s = new SumSeries({}, 0, 0n, 0);
    s.measure(rnd() < 0.5 ? Math.floor(rnd() * 1e12) : rnd() * 1e6);
    const sc = new SumColumns(false, 1, n % 2 === 0);
    sc.merge(0, s);
    const l = new LastValueSeries({}, 0, 0n, 0);
    l.measure(-rnd());
    const lc = new LastValueColumns(false, 1, false);
    lc.merge(0, l);
    for (const c of [hc, sc, lc]) {
      const w = new BinaryWriter();
      c.writePoint(w, 0, a, start, time);
      assert.is(w.finish().length, c.pointSize(0, a, timesLen));
    }
  }
});

test('sum columns grow and keep their values', () => {
  const c = new SumColumns(false, 2, false);
  const s = new SumSeries({}, 0, 0n, 1);
  s.measure(4);
  c.merge(1, s);
  c.grow(64);
  assert.is(c.v[1], 4);
  assert.is(c.has[1], 1);
  assert.is(c.v.length, 64);
});

test.run();
