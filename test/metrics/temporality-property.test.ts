/**
 * Property: one recording, many consumers. Random measurements and random
 * interleavings of collections by 1–3 consumers of each temporality; whenever all
 * consumers collect back to back, for every series, the points a delta consumer has
 * reported so far add up to what a cumulative consumer reports now — for sums, and for
 * every bucket of explicit and exponential histograms — and the cumulative value is
 * the ground truth the test tracked itself.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { manualClock } from '../../src/internal/clock.js';
import { createMeterProvider, type MetricConsumer } from '../../src/metrics/meter-provider.js';
import { flatten, prng, type FlatPoint } from './helpers.js';

const test = suite('metrics/temporality: delta sums equal cumulative (property)');

interface Acc {
  value: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  buckets: number[];
  zero: number;
  /** Exponential buckets: index → count, at `scale`. */
  exp: Map<number, number>;
  scale: number;
}

function emptyAcc(): Acc {
  return { value: 0, count: 0, sum: 0, min: Infinity, max: -Infinity, buckets: [], zero: 0, exp: new Map(), scale: 20 };
}

/** Re-buckets an exponential point's positive range at a lower `scale`. */
function expAt(p: FlatPoint, scale: number): Map<number, number> {
  const out = new Map<number, number>();
  const shift = p.scale - scale;
  p.pos.forEach((c, i) => {
    if (c === 0) return;
    const idx = (p.posOffset + i) >> shift;
    out.set(idx, (out.get(idx) ?? 0) + c);
  });
  return out;
}

function addPoint(acc: Acc, p: FlatPoint): void {
  if (p.kind === 'sum') acc.value += p.value;
  if (p.kind === 'histogram' || p.kind === 'exponentialHistogram') {
    acc.count += p.count;
    acc.sum += p.sum ?? 0;
    acc.min = Math.min(acc.min, p.min ?? Infinity);
    acc.max = Math.max(acc.max, p.max ?? -Infinity);
  }
  if (p.kind === 'histogram') p.buckets.forEach((c, i) => (acc.buckets[i] = (acc.buckets[i] ?? 0) + c));
  if (p.kind === 'exponentialHistogram') {
    acc.zero += p.zeroCount;
    // Keep the accumulation at the lowest scale seen so far.
    // A point without buckets writes scale 0, which means nothing.
    if (p.pos.length + p.neg.length > 0 && p.scale < acc.scale) {
      const old = acc.exp;
      acc.exp = new Map();
      for (const [i, c] of old) {
        const j = i >> (acc.scale - p.scale);
        acc.exp.set(j, (acc.exp.get(j) ?? 0) + c);
      }
      acc.scale = p.scale;
    }
    for (const [i, c] of expAt(p, acc.scale)) acc.exp.set(i, (acc.exp.get(i) ?? 0) + c);
  }
}

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

async function runSeed(seed: number): Promise<number> {
  const rnd = prng(seed);
  const clock = manualClock();
  const p = createMeterProvider({
    clock,
    views: [{ instrumentName: 'lat.exp', aggregation: { type: 'base2_exponential_bucket_histogram', maxSize: 8 } }],
  });
  const nCum = 1 + Math.floor(rnd() * 3);
  const nDelta = 1 + Math.floor(rnd() * 3);
  const cum: MetricConsumer[] = [];
  const delta: MetricConsumer[] = [];
  for (let i = 0; i < nCum; i++) cum.push(p.registerConsumer({ temporality: 'cumulative' }));
  for (let i = 0; i < nDelta; i++) {
    // Force every kind delta, up-down counters included.
    delta.push(p.registerConsumer({ temporality: () => 'delta' }));
  }
  const m = p.getMeter('m');
  const counter = m.createCounter('req');
  const updown = m.createUpDownCounter('inflight');
  const hist = m.createHistogram('lat', { advice: { explicitBucketBoundaries: [1, 10, 100] } });
  const exp = m.createHistogram('lat.exp');
  const sets = Array.from({ length: 6 }, (_, i) => ({ route: `/r${i % 3}`, code: i < 3 ? 200 : 500 }));
  const truth = new Map<string, number>();
  // Per delta consumer: series key → accumulated deltas.
  const sums: Array<Map<string, Acc>> = delta.map(() => new Map());
  const key = (x: FlatPoint): string => `${x.metric}|${x.attrs}`;
  const absorb = (i: number, ps: FlatPoint[]): void => {
    const mine = sums[i] as Map<string, Acc>;
    for (const x of ps) {
      assert.is(x.temporality, 1, 'a delta consumer gets delta points');
      let acc = mine.get(key(x));
      if (acc === undefined) mine.set(key(x), (acc = emptyAcc()));
      addPoint(acc, x);
    }
  };
  let checks = 0;
  const steps = 150 + Math.floor(rnd() * 100);
  for (let s = 0; s < steps; s++) {
    clock.advance(BigInt(1 + Math.floor(rnd() * 1000)));
    const r = rnd();
    if (r < 0.6) {
      const attrs = { ...(sets[Math.floor(rnd() * sets.length)] as { route: string; code: number }) };
      const v = Math.floor(rnd() * 200) / 4;
      counter.add(v, attrs);
      updown.add(rnd() < 0.5 ? -v : v, attrs);
      hist.record(v, attrs);
      exp.record(rnd() < 0.1 ? 0 : v * (1 + rnd() * 1000), attrs);
      const k = `${attrs.code}|${attrs.route}`;
      truth.set(k, (truth.get(k) ?? 0) + v);
    } else if (r < 0.8) {
      const i = Math.floor(rnd() * delta.length);
      absorb(i, flatten(await (delta[i] as MetricConsumer).collectMessages()));
    } else if (r < 0.9) {
      await (cum[Math.floor(rnd() * cum.length)] as MetricConsumer).collectMessages();
    } else {
      // Sync point: every consumer collects at the same instant.
      for (let i = 0; i < delta.length; i++) absorb(i, flatten(await (delta[i] as MetricConsumer).collectMessages()));
      for (const c of cum) {
        const now = flatten(await c.collectMessages());
        for (const x of now) {
          assert.is(x.temporality, 2);
          if (x.metric === 'req') {
            const [codeKV, routeKV] = x.attrs.split(',');
            assert.ok(close(x.value, truth.get(`${codeKV?.split('=')[1]}|${routeKV?.split('=')[1]}`) ?? NaN), 'cumulative = truth');
          }
          for (const mine of sums) {
            const acc = mine.get(key(x));
            assert.ok(acc, `delta consumer saw ${key(x)}`);
            checks++;
            if (x.kind === 'sum') assert.ok(close(acc.value, x.value), `${key(x)}: Σdelta ${acc.value} = cumulative ${x.value}`);
            if (x.kind === 'histogram') {
              assert.is(acc.count, x.count);
              assert.ok(close(acc.sum, x.sum ?? 0));
              assert.equal(acc.buckets, x.buckets, `${key(x)} buckets`);
              assert.is(acc.min, x.min);
              assert.is(acc.max, x.max);
            }
            if (x.kind === 'exponentialHistogram') {
              assert.is(acc.count, x.count);
              assert.is(acc.zero, x.zeroCount);
              assert.ok(acc.scale >= x.scale, 'cumulative scale is the lowest');
              assert.equal([...expAt({ ...x }, x.scale)].sort(), [...reScale(acc, x.scale)].sort(), `${key(x)} exponential buckets`);
              assert.is(acc.min, x.min);
              assert.is(acc.max, x.max);
            }
          }
        }
      }
    }
  }
  return checks;
}

function reScale(acc: Acc, scale: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const [i, c] of acc.exp) {
    const j = i >> (acc.scale - scale);
    out.set(j, (out.get(j) ?? 0) + c);
  }
  return out;
}

test('20 seeds of random measurements and collections', async () => {
  let checks = 0;
  for (let seed = 1; seed <= 20; seed++) checks += await runSeed(seed);
  assert.ok(checks > 500, `made ${checks} comparisons`);
});

test.run();
