import { PerformanceObserver, performance } from 'node:perf_hooks';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { BinaryWriter } from '../../../src/otlp/encode/binary-writer.js';
import { ExponentialHistogramDataPointSchema, ExponentialHistogramSchema } from '../../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import type { ExponentialHistogramDataPoint } from '../../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import { ExponentialHistogramCell } from '../../../src/metrics/aggregate/exponential-histogram.js';
import { MAX_SCALE, MIN_SCALE, mapToIndex } from '../../../src/metrics/aggregate/exponential-mapping.js';
import { encodeKeyValues } from '../../../src/otlp/encode/common.js';
import { prng } from '../../support/prng.js';

// ---- helpers ----

interface Snapshot {
  scale: number;
  count: number;
  zeroCount: number;
  min: number;
  max: number;
  posOffset: number;
  pos: number[];
  negOffset: number;
  neg: number[];
}

function snap(c: ExponentialHistogramCell): Snapshot {
  return {
    scale: c.scale,
    count: c.count,
    zeroCount: c.zeroCount,
    min: c.min,
    max: c.max,
    posOffset: c.positiveOffset,
    pos: Array.from(c.positiveCounts),
    negOffset: c.negativeOffset,
    neg: Array.from(c.negativeCounts),
  };
}

/**
 * Independent model of the aggregation: the highest scale ≤ maxScale at which each range fits in
 * maxSize buckets (what the spec calls the ideal scale), then a direct count at that scale.
 */
function model(values: readonly number[], maxSize = 160, maxScale = MAX_SCALE): Snapshot {
  const finite = values.filter((v) => Number.isFinite(v));
  const pos = finite.filter((v) => v > 0);
  const neg = finite.filter((v) => v < 0).map((v) => -v);
  const fits = (mags: number[], s: number): boolean => {
    if (mags.length === 0) return true;
    let lo = Infinity;
    let hi = -Infinity;
    for (const m of mags) {
      const i = mapToIndex(m, s);
      lo = Math.min(lo, i);
      hi = Math.max(hi, i);
    }
    return hi - lo + 1 <= maxSize;
  };
  let scale = maxScale;
  while (scale > MIN_SCALE && !(fits(pos, scale) && fits(neg, scale))) scale--;
  const counts = (mags: number[]): { offset: number; counts: number[] } => {
    if (mags.length === 0) return { offset: 0, counts: [] };
    const idx = mags.map((m) => mapToIndex(m, scale));
    const offset = Math.min(...idx);
    const out = new Array<number>(Math.max(...idx) - offset + 1).fill(0);
    for (const i of idx) out[i - offset]!++;
    return { offset, counts: out };
  };
  const p = counts(pos);
  const n = counts(neg);
  return {
    scale,
    count: finite.length,
    zeroCount: finite.filter((v) => v === 0).length,
    min: finite.length === 0 ? Infinity : Math.min(...finite),
    max: finite.length === 0 ? -Infinity : Math.max(...finite),
    posOffset: p.offset,
    pos: p.counts,
    negOffset: n.offset,
    neg: n.counts,
  };
}

/** Random values of one of several shapes: narrow/wide spreads, both signs, zeros, repeats. */
function randomValues(rnd: () => number, n: number): number[] {
  const shape = Math.floor(rnd() * 5);
  const centre = Math.exp((rnd() - 0.5) * 40);
  const spread = [0.01, 1, 5, 20, 200][Math.floor(rnd() * 5)]!;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let v = centre * Math.exp((rnd() - 0.5) * spread);
    if (shape >= 2 && rnd() < 0.4) v = -v;
    if (shape === 3 && rnd() < 0.1) v = 0;
    if (shape === 4 && rnd() < 0.3) v = out.length > 0 ? out[Math.floor(rnd() * out.length)]! : v;
    out.push(v);
  }
  return out;
}

function recordAll(c: ExponentialHistogramCell, values: readonly number[]): void {
  for (const v of values) c.record(v);
}

function sequentialSum(values: readonly number[]): number {
  let s = 0;
  for (const v of values) if (Number.isFinite(v)) s += v;
  return s;
}

// ---- construction ----

const construct = suite('metrics/aggregate/exponential-histogram: construction');

construct('defaults are the spec defaults (160 buckets, scale 20)', () => {
  const c = new ExponentialHistogramCell();
  assert.is(c.maxSize, 160);
  assert.is(c.maxScale, 20);
  assert.is(c.scale, 20);
  assert.ok(c.isEmpty);
  assert.is(c.count, 0);
  assert.is(c.sum, 0);
  assert.is(c.min, Infinity);
  assert.is(c.max, -Infinity);
  assert.is(c.zeroThreshold, 0);
  assert.equal(Array.from(c.positiveCounts), []);
  assert.equal(Array.from(c.negativeCounts), []);
});

construct('rejects bad maxSize and maxScale, naming the field', () => {
  const bad: Array<[size: number, scale: number, field: RegExp]> = [
    [1, 20, /maxSize: got 1/],
    [0, 20, /maxSize/],
    [2.5, 20, /maxSize/],
    [NaN, 20, /maxSize/],
    [65537, 20, /maxSize/],
    [160, 21, /maxScale: got 21/],
    [160, -11, /maxScale/],
    [160, 1.5, /maxScale/],
  ];
  for (const [size, scale, field] of bad) {
    assert.throws(
      () => new ExponentialHistogramCell(size, scale),
      (e: unknown) => e instanceof RangeError && field.test(e.message),
    );
  }
  assert.is(new ExponentialHistogramCell(2, -10).scale, -10);
  assert.is(new ExponentialHistogramCell(65536, 0).maxSize, 65536);
});

construct.run();

// ---- recording ----

const rec = suite('metrics/aggregate/exponential-histogram: record');

rec('NaN and ±Infinity are dropped: false returned, nothing changes', () => {
  const c = new ExponentialHistogramCell();
  for (const v of [NaN, Infinity, -Infinity]) assert.is(c.record(v), false);
  assert.ok(c.isEmpty);
  assert.is(c.scale, 20);
  assert.is(c.record(3), true);
  const before = snap(c);
  for (const v of [NaN, Infinity, -Infinity]) assert.is(c.record(v), false);
  assert.equal(snap(c), before);
  assert.is(c.sum, 3);
});

rec('count, sum, min, max and the zero bucket', () => {
  const c = new ExponentialHistogramCell();
  for (const v of [0, 5, -2, 0, 1.5, -0]) assert.ok(c.record(v));
  assert.is(c.count, 6);
  assert.is(c.zeroCount, 3);
  assert.is(c.sum, 4.5);
  assert.is(c.min, -2);
  assert.is(c.max, 5);
  assert.is(
    Array.from(c.positiveCounts).reduce((a, b) => a + b, 0),
    2,
  );
  assert.is(
    Array.from(c.negativeCounts).reduce((a, b) => a + b, 0),
    1,
  );
  assert.not.ok(c.isEmpty);
});

rec('a single value stays at the maximum scale (spec: single measurements)', () => {
  for (const v of [1, 3, 1e-300, 1e300, Number.MIN_VALUE, Number.MAX_VALUE, -7]) {
    const c = new ExponentialHistogramCell();
    c.record(v);
    c.record(v);
    assert.is(c.scale, 20);
    const offset = v > 0 ? c.positiveOffset : c.negativeOffset;
    assert.is(offset, mapToIndex(Math.abs(v), 20));
    assert.equal(Array.from(v > 0 ? c.positiveCounts : c.negativeCounts), [2]);
  }
});

rec('worked example: maxSize 4 from scale 0, values 1, 2, 4, 32 → scale −1', () => {
  const c = new ExponentialHistogramCell(4, 0);
  c.record(1);
  c.record(2);
  c.record(4);
  assert.is(c.scale, 0);
  assert.is(c.positiveOffset, -1);
  assert.equal(Array.from(c.positiveCounts), [1, 1, 1]);
  c.record(32);
  assert.is(c.scale, -1);
  assert.is(c.positiveOffset, -1);
  assert.equal(Array.from(c.positiveCounts), [1, 2, 0, 1]); // (1/4,1], (1,4], (4,16], (16,64]
});

rec("spec table: ideal scale for 160 buckets over the spec's input ranges", () => {
  // Contrast → scale rows of the spec's table (1ms–4ms → 6 ... 1µs–10s → 2).
  const rows: Array<[lo: number, hi: number, scale: number]> = [
    [1e-3, 4e-3, 6],
    [1e-3, 20e-3, 5],
    [1e-3, 1, 4],
    [1e-3, 100, 3],
    [1e-6, 10, 2],
  ];
  for (const [lo, hi, scale] of rows) {
    const c = new ExponentialHistogramCell();
    // ascending, then descending, then both ends: the scale depends on the range only
    for (let i = 0; i <= 200; i++) c.record(lo * (hi / lo) ** (i / 200));
    assert.is(c.scale, scale, `${lo}..${hi}`);
    assert.ok(c.positiveCounts.length <= 160);
    const d = new ExponentialHistogramCell();
    for (let i = 200; i >= 0; i--) d.record(lo * (hi / lo) ** (i / 200));
    assert.equal(snap(d), snap(c));
    const e = new ExponentialHistogramCell();
    e.record(lo);
    e.record(hi);
    assert.is(e.scale, scale);
  }
});

rec('downscale step table: maxSize 4 from scale 0, growth down, up and across two scales', () => {
  const c = new ExponentialHistogramCell(4, 0);
  const seen: number[] = [];
  const steps: Array<[value: number, scale: number, offset: number, counts: number[]]> = [
    [8, 0, 2, [1]], // (4, 8]
    [1, 0, -1, [1, 0, 0, 1]], // grows down to the 4-bucket limit
    [16, -1, -1, [1, 0, 2]], // −1..3 needs 5 → scale −1: 1 ∈ (1/4, 1], 8 and 16 ∈ (4, 16]
    [0.1, -1, -2, [1, 1, 0, 2]], // (1/16, 1/4]: −2..1 still fits
    [1000, -2, -1, [2, 2, 0, 1]], // −2..4 needs 7 → one more halving: scale −2 (base 16)
  ];
  for (const [v, scale, offset, counts] of steps) {
    c.record(v);
    seen.push(v);
    assert.equal([c.scale, c.positiveOffset, Array.from(c.positiveCounts)], [scale, offset, counts], `after ${v}`);
    assert.equal(snap(c), model(seen, 4, 0));
  }
});

rec('the ring wraps in both directions and keeps every count (property, vs the model)', () => {
  const rnd = prng(42);
  for (let round = 0; round < 300; round++) {
    const maxSize = [2, 3, 4, 7, 16, 33, 160][Math.floor(rnd() * 7)]!;
    const maxScale = Math.floor(rnd() * 31) - 10;
    const values = randomValues(rnd, 1 + Math.floor(rnd() * 120));
    const c = new ExponentialHistogramCell(maxSize, maxScale);
    recordAll(c, values);
    const want = model(values, maxSize, maxScale);
    assert.equal(snap(c), want, `round ${round} maxSize ${maxSize} maxScale ${maxScale}`);
    assert.is(c.sum, sequentialSum(values));
    assert.ok(c.positiveCounts.length <= maxSize && c.negativeCounts.length <= maxSize);
  }
});

rec('subnormals and MIN/MAX doubles across the full range', () => {
  const values = [Number.MIN_VALUE, 3e-320, 2 ** -1022, 1, Number.MAX_VALUE, -Number.MIN_VALUE, -Number.MAX_VALUE];
  for (const maxSize of [3, 4, 160]) {
    const c = new ExponentialHistogramCell(maxSize);
    recordAll(c, values);
    assert.equal(snap(c), model(values, maxSize), `maxSize ${maxSize}`);
  }
  // The only range that does not fit at the minimum scale: maxSize 2, values ≤ 2^-1024 (bucket −2)
  // and values > 1 (bucket 0). The low end gives way: those subnormals count in bucket −1.
  const orders = [
    [Number.MIN_VALUE, 2 ** -1000, Number.MAX_VALUE],
    [Number.MAX_VALUE, 2 ** -1000, Number.MIN_VALUE],
    [Number.MIN_VALUE, Number.MAX_VALUE, 2 ** -1000],
    [2 ** -1000, Number.MAX_VALUE, Number.MIN_VALUE],
  ];
  for (const values of orders) {
    const c = new ExponentialHistogramCell(2);
    recordAll(c, values);
    assert.equal([c.scale, c.positiveOffset, Array.from(c.positiveCounts), c.count], [MIN_SCALE, -1, [2, 1], 3], `${values}`);
  }
  // and the same through merges
  const lowOnly = new ExponentialHistogramCell(2);
  lowOnly.record(Number.MIN_VALUE);
  const highOnly = new ExponentialHistogramCell(2);
  recordAll(highOnly, [Number.MAX_VALUE, 2 ** -1000]);
  for (const [into, from] of [
    [lowOnly, highOnly],
    [highOnly, lowOnly],
  ] as const) {
    const c = new ExponentialHistogramCell(2);
    c.mergeFrom(into);
    c.mergeFrom(from);
    assert.equal([c.scale, c.positiveOffset, Array.from(c.positiveCounts), c.count], [MIN_SCALE, -1, [2, 1], 3]);
  }
});

rec('record makes no allocation once optimised (no scavenge during 2M signed records)', async () => {
  // An allocation per record (e.g. a double boxed for a call V8 did not inline) shows up as
  // several scavenges per million records. The values sit boxed in a generic array so that the
  // test loop itself never boxes one, whether or not V8 inlines record() into it. The caller's
  // loop may allocate until V8 has optimised it, so a few attempts are allowed; an allocating
  // record() fails every one of them.
  const c = new ExponentialHistogramCell();
  const rnd = prng(1);
  const values: Array<number | string> = [];
  for (let i = 0; i < 4096; i++) values.push((rnd() < 0.5 ? -1 : 1) * Math.exp((rnd() - 0.5) * 20));
  values.push('generic elements: every number above stays a heap number');
  const n = values.length - 1;
  const loop = (rounds: number): void => {
    for (let r = 0; r < rounds; r++) for (let i = 0; i < n; i++) c.record(values[i] as number);
  };
  for (let k = 0; k < 10; k++) loop(20);
  let best = Infinity;
  for (let attempt = 0; attempt < 5 && best > 0; attempt++) {
    const starts: number[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) starts.push(e.startTime);
    });
    observer.observe({ entryTypes: ['gc'] });
    const t0 = performance.now();
    loop(500);
    const t1 = performance.now();
    // gc entries arrive asynchronously; this bounded wait must keep the process alive, so no unref()
    await new Promise((resolve) => setTimeout(resolve, 20));
    observer.disconnect();
    best = Math.min(best, starts.filter((t) => t >= t0 && t <= t1).length);
  }
  assert.is(best, 0);
  assert.is(c.count, 4096 * 700);
});

rec.run();

// ---- merge and reset ----

const merge = suite('metrics/aggregate/exponential-histogram: mergeFrom / reset');

merge('merge equals recording everything into one cell (property)', () => {
  const rnd = prng(7);
  for (let round = 0; round < 300; round++) {
    const maxSize = [2, 4, 16, 160][Math.floor(rnd() * 4)]!;
    const parts = 1 + Math.floor(rnd() * 4);
    const all: number[] = [];
    const into = new ExponentialHistogramCell(maxSize);
    const one = new ExponentialHistogramCell(maxSize);
    let sumOfSums = 0;
    for (let p = 0; p < parts; p++) {
      const values = rnd() < 0.15 ? [] : randomValues(rnd, 1 + Math.floor(rnd() * 60));
      const cell = new ExponentialHistogramCell(maxSize);
      recordAll(cell, values);
      const before = snap(cell);
      into.mergeFrom(cell);
      assert.equal(snap(cell), before, 'the source is unchanged');
      recordAll(one, values);
      all.push(...values);
      sumOfSums += cell.sum;
    }
    const want = snap(one);
    assert.equal(snap(into), want, `round ${round}`);
    assert.equal(want, model(all, maxSize, 20));
    assert.is(into.sum, sumOfSums);
    assert.ok(Math.abs(into.sum - one.sum) <= 1e-9 * Math.max(1, Math.abs(one.sum) + all.reduce((a, v) => a + Math.abs(v), 0)));
  }
});

merge('draining interval cells (merge + reset) into a cumulative state equals one cell', () => {
  const rnd = prng(8);
  for (let round = 0; round < 100; round++) {
    const interval = new ExponentialHistogramCell();
    const cumulative = new ExponentialHistogramCell();
    const pending = new ExponentialHistogramCell();
    const reference = new ExponentialHistogramCell();
    for (let k = 0; k < 5; k++) {
      const values = randomValues(rnd, Math.floor(rnd() * 40));
      recordAll(interval, values);
      recordAll(reference, values);
      cumulative.mergeFrom(interval);
      pending.mergeFrom(interval);
      interval.reset();
      assert.ok(interval.isEmpty);
      assert.is(interval.scale, 20, 'reset returns to maxScale');
      assert.equal(snap(pending), model(values), 'a pending delta holds just its interval, at its ideal scale');
      pending.reset();
    }
    const want = snap(reference);
    assert.equal(snap(cumulative), want);
  }
});

merge('merging cells of different scales aligns on the lower one, whichever side it is on', () => {
  const direct = (values: number[], scale: number): number[] => {
    const idx = values.map((v) => mapToIndex(v, scale));
    const out = new Array<number>(Math.max(...idx) - Math.min(...idx) + 1).fill(0);
    for (const i of idx) out[i - Math.min(...idx)]!++;
    return out;
  };
  const coarse = new ExponentialHistogramCell(4);
  recordAll(coarse, [1, 1000]); // −1..9 at scale 0 → scale −2 for 4 buckets
  assert.is(coarse.scale, -2);
  const fine = new ExponentialHistogramCell();
  fine.record(1.5); // scale 20
  fine.mergeFrom(coarse);
  assert.is(fine.scale, -2, 'a merge cannot add resolution the coarse side lost');
  assert.is(fine.positiveOffset, -1);
  assert.equal(Array.from(fine.positiveCounts), direct([1, 1000, 1.5], -2));
  const a = new ExponentialHistogramCell(4);
  recordAll(a, [1, 1000]);
  const b = new ExponentialHistogramCell(4);
  b.record(1.5);
  a.mergeFrom(b);
  assert.equal(snap(a), model([1, 1000, 1.5], 4));
});

merge('zeros-only and empty cells merge without touching the scale', () => {
  const a = new ExponentialHistogramCell();
  recordAll(a, [1, 100]);
  const scale = a.scale;
  const zeros = new ExponentialHistogramCell();
  recordAll(zeros, [0, 0]);
  a.mergeFrom(zeros);
  a.mergeFrom(new ExponentialHistogramCell());
  assert.is(a.scale, scale);
  assert.is(a.count, 4);
  assert.is(a.zeroCount, 2);
  assert.is(a.min, 0);
  // a bucket-less target takes the source's scale
  const z = new ExponentialHistogramCell();
  z.record(0);
  z.mergeFrom(a);
  assert.is(z.scale, scale);
  assert.equal(z.positiveCounts, a.positiveCounts);
});

merge('mergeFrom(self) is refused', () => {
  const a = new ExponentialHistogramCell();
  a.record(1);
  assert.throws(
    () => a.mergeFrom(a),
    (e: unknown) => e instanceof RangeError,
  );
  assert.is(a.count, 1);
});

merge('reset keeps storage: re-recording after reset reuses the same buffer', () => {
  const c = new ExponentialHistogramCell();
  const rnd = prng(5);
  const values = Array.from({ length: 500 }, () => Math.exp((rnd() - 0.5) * 30));
  recordAll(c, values);
  const buffer = (c.positiveCounts as Float64Array).buffer;
  c.reset();
  assert.equal(snap(c), { ...model([]), scale: 20 });
  recordAll(c, values);
  assert.is((c.positiveCounts as Float64Array).buffer, buffer);
  assert.equal(snap(c), model(values));
});

merge.run();

// ---- write ----

const write = suite('metrics/aggregate/exponential-histogram: write');

/** Decodes the one `data_points` field (1) that write() emits, with ExponentialHistogramDataPointSchema. */
function decodeOne(bytes: Uint8Array): ExponentialHistogramDataPoint {
  const r = new BinaryReader(bytes);
  const [fieldNo, wireType] = r.tag();
  assert.is(fieldNo, 1);
  assert.is(wireType, WireType.LengthDelimited);
  const point = fromBinary(ExponentialHistogramDataPointSchema, r.bytes());
  assert.is(r.pos, bytes.length, 'exactly one field');
  return point;
}

write('bytes decode to the expected point and equal toBinary', () => {
  const c = new ExponentialHistogramCell(4, 0);
  recordAll(c, [1, 2, 4, 32, 0, -3, -0.5]);
  const attrs = { host: 'a', n: 3 };
  const w = new BinaryWriter();
  c.write(w, encodeKeyValues(1, attrs), 1_000n, 2_000n, 0);
  const bytes = w.finish();
  const want = create(ExponentialHistogramDataPointSchema, {
    attributes: [
      { key: 'host', value: { value: { case: 'stringValue', value: 'a' } } },
      { key: 'n', value: { value: { case: 'intValue', value: 3n } } },
    ],
    startTimeUnixNano: 1_000n,
    timeUnixNano: 2_000n,
    count: 7n,
    sum: 35.5,
    scale: -1,
    zeroCount: 1n,
    positive: { offset: -1, bucketCounts: [1n, 2n, 0n, 1n] },
    negative: { offset: -1, bucketCounts: [1n, 1n] }, // 0.5 ∈ (1/4, 1], 3 ∈ (1, 4]
    min: -3,
    max: 32,
  });
  assert.equal(decodeOne(bytes), want);
  assert.equal(bytes, toBinary(ExponentialHistogramSchema, create(ExponentialHistogramSchema, { dataPoints: [want] })));
});

write('optional fields: withSum, withMinMax, flags, empty and zeros-only cells', () => {
  const c = new ExponentialHistogramCell();
  c.record(5);
  let w = new BinaryWriter();
  c.write(w, new Uint8Array(0), 1n, 2n, 1, false, false);
  let p = decodeOne(w.finish());
  assert.is(p.sum, undefined);
  assert.is(p.min, undefined);
  assert.is(p.max, undefined);
  assert.is(p.flags, 1);
  assert.is(p.scale, 20);
  assert.is(p.positive?.offset, mapToIndex(5, 20));
  assert.equal(p.positive?.bucketCounts, [1n]);
  assert.equal(p.negative?.bucketCounts, []);

  const empty = new ExponentialHistogramCell();
  w = new BinaryWriter();
  empty.write(w, new Uint8Array(0), 1n, 2n, 0);
  p = decodeOne(w.finish());
  assert.is(p.count, 0n);
  assert.is(p.sum, 0);
  assert.is(p.min, undefined);
  assert.is(p.max, undefined);
  assert.is(p.scale, 0);

  const zeros = new ExponentialHistogramCell();
  recordAll(zeros, [0, 0, 0]);
  w = new BinaryWriter();
  zeros.write(w, new Uint8Array(0), 1n, 2n, 0);
  p = decodeOne(w.finish());
  assert.is(p.zeroCount, 3n);
  assert.is(p.scale, 0, 'no buckets: scale 0, as the official SDK reports');
  assert.is(p.min, 0);
  assert.is(p.max, 0);
});

write('a wrapped ring writes its buckets in index order, and writing twice gives the same bytes', () => {
  const c = new ExponentialHistogramCell(8, 0);
  // ascending then below the first value: the run wraps around the store
  recordAll(c, [4, 8, 16, 32, 2, 1, 0.5]);
  const first = new BinaryWriter();
  c.write(first, new Uint8Array(0), 0n, 5n, 0);
  const second = new BinaryWriter();
  c.write(second, new Uint8Array(0), 0n, 5n, 0);
  const a = first.finish();
  assert.equal(a, second.finish());
  const p = decodeOne(a);
  assert.is(p.positive?.offset, -2);
  assert.equal(p.positive?.bucketCounts, [1n, 1n, 1n, 1n, 1n, 1n, 1n]);
  // a count beyond 32 bits survives the wire: double a cell 40 times by merging a copy of itself
  const big = new ExponentialHistogramCell();
  big.record(3);
  for (let i = 0; i < 40; i++) {
    const copy = new ExponentialHistogramCell();
    copy.mergeFrom(big);
    big.mergeFrom(copy);
  }
  assert.is(big.count, 2 ** 40);
  const w = new BinaryWriter();
  big.write(w, new Uint8Array(0), 0n, 5n, 0);
  const q = decodeOne(w.finish());
  assert.is(q.count, 2n ** 40n);
  assert.equal(q.positive?.bucketCounts, [2n ** 40n]);
  assert.is(q.sum, 3 * 2 ** 40);
});

write.run();
