import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LatencyHistogram } from '../../../src/internal/latency.js';
import { latencyBucketBoundsMs, LatencyDelta } from '../../../src/gateway/observe/latency.js';

const test = suite('gateway/observe-latency');

test('bucket bounds: strictly increasing, cover 0.01 ms to minutes, hold what they bound', () => {
  const b = latencyBucketBoundsMs();
  assert.is(b.length, new LatencyHistogram().counts.length);
  for (let i = 1; i < b.length; i++) assert.ok(b[i]! > b[i - 1]!, `bound ${i}`);
  assert.ok(b[0]! <= 0.011);
  assert.ok(b[b.length - 1]! >= 600_000 * 0.99);
  // A value lands in the bucket whose bound is the first ≥ it.
  for (const v of [0.5, 1, 3.3, 47, 1234]) {
    const h = new LatencyHistogram();
    h.record(v);
    const i = h.counts.findIndex((c) => c > 0);
    assert.ok(b[i]! >= v && (i === 0 || b[i - 1]! < v), `${v} ms in bucket ${i}`);
  }
  assert.is(latencyBucketBoundsMs(), b, 'built once');
});

test('delta: only calls since the previous next(), quantiles of the interval', () => {
  const src = new LatencyHistogram();
  for (let i = 0; i < 100; i++) src.record(100);
  const d = new LatencyDelta(src);
  assert.is(d.next().count, 0, 'what was there before construction is not in the first interval');
  for (let i = 0; i < 99; i++) src.record(1);
  src.record(50);
  const h = d.next();
  assert.is(h.count, 100);
  assert.ok(h.quantile(0.5) >= 1 && h.quantile(0.5) < 1.05, String(h.quantile(0.5)));
  assert.ok(h.quantile(0.995) >= 50 && h.quantile(0.995) < 52.1, String(h.quantile(0.995)));
  assert.is(d.next().count, 0);
  src.reset();
  src.record(2);
  assert.is(d.next().count, 0, 'a reset source restarts the diff, no negative counts');
  src.record(2);
  assert.is(d.next().count, 1);
});

test.run();
