import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_SCALE, MIN_SCALE, lowerBoundary, mapToIndex, pow2 } from '../../../src/metrics/aggregate/exponential-mapping.js';
import { prng } from '../../support/prng.js';

// ---- helpers: seeded PRNG, exact float decomposition, exact reference mapping ----

const dv = new DataView(new ArrayBuffer(8));

function bitsOf(v: number): bigint {
  dv.setFloat64(0, v);
  return dv.getBigUint64(0);
}

function fromBits(b: bigint): number {
  dv.setBigUint64(0, b);
  return dv.getFloat64(0);
}

const nextUp = (v: number): number => fromBits(bitsOf(v) + 1n);
const nextDown = (v: number): number => fromBits(bitsOf(v) - 1n);

/** v = M · 2^(e − 52) exactly, with M in [2^52, 2^53) (subnormals renormalised). */
function decompose(v: number): { M: bigint; e: number } {
  const b = bitsOf(v);
  const biased = Number((b >> 52n) & 0x7ffn);
  const frac = b & ((1n << 52n) - 1n);
  if (biased !== 0) return { M: (1n << 52n) | frac, e: biased - 1023 };
  const p = frac.toString(2).length - 1; // highest set bit
  return { M: frac << BigInt(52 - p), e: p - 1074 };
}

// Fixed point with P fractional bits. R[u] = 2^(2^-u), by repeated square roots (each truncation
// costs < 1 unit of 2^-P; the final products stay within ~2^-(P-8) of the true value).
const P = 192n;
const ONE = 1n << P;
function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}
const R: bigint[] = [2n * ONE];
for (let u = 1; u <= MAX_SCALE; u++) R.push(isqrt(R[u - 1]! << P));
const ERR = 1n << 16n; // generous bound on the accumulated error, in units of 2^-P

/** 2^(k/2^s) in fixed point, for 0 ≤ k < 2^s. */
function boundary(k: number, s: number): bigint {
  let x = ONE;
  for (let t = 0; t < s; t++) if ((k >> t) & 1) x = (x * R[s - t]!) >> P;
  return x;
}

/** Exact comparison of m = M/2^52 with 2^(k/2^s): −1, 1 (0 only for k = 0, exactly 1). */
function compareToBoundary(M: bigint, k: number, s: number): number {
  if (k === 0) return M === 1n << 52n ? 0 : 1;
  if (k === 1 << s) return -1; // boundary 2 > m
  const m = M << (P - 52n);
  const b = boundary(k, s);
  if (m > b + ERR) return 1;
  if (m < b - ERR) return -1;
  throw new Error(`reference cannot decide M=${M} k=${k} s=${s}`);
}

/** Exact bucket index, independent of the code under test: floor divisions and BigInt comparisons. */
function referenceIndex(v: number, s: number): number {
  const { M, e } = decompose(v);
  const pow = M === 1n << 52n;
  if (s <= 0) return Math.floor((pow ? e - 1 : e) / 2 ** -s);
  const N = 2 ** s;
  if (pow) return e * N - 1;
  // j with 2^(j/N) < m ≤ 2^((j+1)/N): start from a float guess and walk until both hold.
  let j = Math.min(N - 1, Math.max(0, Math.floor(Math.log2(Number(M) / 2 ** 52) * N)));
  for (let steps = 0; steps < 8; steps++) {
    if (compareToBoundary(M, j, s) <= 0) j--;
    else if (compareToBoundary(M, j + 1, s) > 0) j++;
    else return e * N + j;
  }
  throw new Error('reference did not converge');
}

/** |m − nearest boundary of its bucket| ≤ 2 ulps: where the data model allows the log mapping to slip. */
function nearBoundary(v: number, s: number): boolean {
  if (s <= 0) return false;
  const { M } = decompose(v);
  const N = 2 ** s;
  const j = referenceIndex(v, s) - decompose(v).e * N;
  const m = M << (P - 52n);
  const slack = 2n << (P - 52n);
  const lo = j < 0 ? ONE : boundary(j, s); // j = −1 only for exact powers of two
  const hi = j + 1 >= N ? 2n * ONE : boundary(j + 1, s);
  return m - lo <= slack || hi - m <= slack;
}

function randomPositive(rnd: () => number): number {
  // Log-uniform over the whole double range, subnormals included, random low bits.
  const e = Math.floor(rnd() * 2098) - 1074;
  const frac = BigInt(Math.floor(rnd() * 2 ** 26)) * 2n ** 26n + BigInt(Math.floor(rnd() * 2 ** 26));
  if (e < -1022) return fromBits(frac === 0n ? 1n : frac); // subnormal
  return fromBits((BigInt(e + 1023) << 52n) | frac);
}

const SCALES: number[] = [];
for (let s = MIN_SCALE; s <= MAX_SCALE; s++) SCALES.push(s);

// ---- tests ----

const test = suite('metrics/aggregate/exponential-mapping');

test('scale limits are the spec defaults', () => {
  assert.is(MIN_SCALE, -10);
  assert.is(MAX_SCALE, 20);
});

test('step table: worked examples and upper-inclusive boundaries', () => {
  const rows: Array<[value: number, scale: number, index: number]> = [
    [10, 2, 13], // (2^3.25, 2^3.5] ≈ (9.51, 11.31]
    [10, -1, 1], // (4, 16]
    [10, 0, 3], // (8, 16]
    [8, 0, 2], // (4, 8]: a power of two closes its bucket
    [8, 1, 5], // (2^2.5, 2^3]
    [8, -1, 1], // (4, 16]
    [8, -2, 0], // (1, 16]
    [1, 0, -1],
    [1, 20, -1],
    [1, -10, -1],
    [2, 3, 7],
    [nextUp(1), 20, 0],
    [nextDown(2), 20, 2 ** 20 - 1],
    [0.5, 0, -2],
    [0.75, 0, -1],
    [3, 1, 3], // (2^1.5, 2^2] ≈ (2.83, 4]
    [2.5, 1, 2], // (2, 2.83]
    [Number.MAX_VALUE, 0, 1023],
    [Number.MAX_VALUE, 20, 1024 * 2 ** 20 - 1],
    [Number.MIN_VALUE, 0, -1075], // 2^-1074 closes (2^-1075, 2^-1074]
    [Number.MIN_VALUE, 20, -1074 * 2 ** 20 - 1],
    [Number.MIN_VALUE, -10, -2],
    [2 ** -1022, 0, -1023], // smallest normal
    [nextDown(2 ** -1022), 0, -1023], // largest subnormal
    [3 * 2 ** -1074, 0, -1073], // subnormal, not a power of two: (2^-1073, 2^-1072]
  ];
  for (const [v, s, want] of rows) assert.is(mapToIndex(v, s), want, `mapToIndex(${v}, ${s})`);
});

test('every power of two at every scale matches the exact reference', () => {
  for (const s of SCALES) {
    for (let k = -1074; k <= 1023; k++) {
      const v = 2 ** k;
      const got = mapToIndex(v, s);
      if (got !== referenceIndex(v, s)) assert.unreachable(`2^${k} at scale ${s}: ${got} vs ${referenceIndex(v, s)}`);
      // upper-inclusive: the power of two is the last value of its bucket, its successor the first of the next
      if (mapToIndex(nextUp(v), s) !== referenceIndex(nextUp(v), s)) assert.unreachable(`nextUp(2^${k}) at ${s}`);
      if (k > -1074 && mapToIndex(nextDown(v), s) !== referenceIndex(nextDown(v), s)) {
        assert.unreachable(`nextDown(2^${k}) at ${s}`);
      }
    }
  }
});

test('random doubles (subnormals included) at every scale match the exact reference', () => {
  const rnd = prng(20240611);
  let near = 0;
  let checked = 0;
  for (let i = 0; i < 400; i++) {
    const v = randomPositive(rnd);
    for (const s of SCALES) {
      const got = mapToIndex(v, s);
      const want = referenceIndex(v, s);
      checked++;
      if (got === want) continue;
      if (s > 0 && Math.abs(got - want) === 1 && nearBoundary(v, s)) near++;
      else assert.unreachable(`mapToIndex(${v}, ${s}) = ${got}, exact ${want}`);
    }
  }
  assert.ok(checked === 400 * SCALES.length);
  assert.ok(near === 0, `random values should not sit within 2 ulps of a boundary (${near})`);
});

test('subnormals map to their exact buckets at every scale', () => {
  const rnd = prng(7);
  for (let i = 0; i < 200; i++) {
    const v = fromBits(BigInt(Math.floor(rnd() * 2 ** 52)) + 1n);
    for (const s of SCALES) {
      const got = mapToIndex(v, s);
      const want = referenceIndex(v, s);
      if (got !== want && !(Math.abs(got - want) === 1 && nearBoundary(v, s))) {
        assert.unreachable(`subnormal ${v} at ${s}: ${got} vs ${want}`);
      }
    }
  }
});

test('doubles next to non-power-of-two boundaries: off by at most one, only within 2 ulps', () => {
  // The data model lets the logarithm method slip right at a boundary; measure that it slips
  // nowhere else and never by more than one bucket.
  const rnd = prng(99);
  let slips = 0;
  let total = 0;
  for (let i = 0; i < 300; i++) {
    const s = 1 + Math.floor(rnd() * MAX_SCALE);
    const N = 2 ** s;
    const k = 1 + Math.floor(rnd() * (N - 1));
    const e = Math.floor(rnd() * 200) - 100;
    const b = boundary(k, s);
    // nearest doubles below and above 2^(k/N) · 2^e (the boundary is irrational, never a double)
    const below = Number(b >> (P - 52n)) * 2 ** (e - 52);
    const candidates = [nextDown(below), below, nextUp(below), nextUp(nextUp(below))];
    for (const v of candidates) {
      const got = mapToIndex(v, s);
      const want = referenceIndex(v, s);
      total++;
      if (got === want) continue;
      slips++;
      assert.is(Math.abs(got - want), 1, `slip of more than one bucket at ${v}, scale ${s}`);
      assert.ok(nearBoundary(v, s), `slip away from a boundary at ${v}, scale ${s}`);
    }
  }
  // Measured: a few percent of the doubles that touch a boundary; bounded well below half.
  assert.ok(slips < total / 4, `${slips} slips of ${total}`);
});

test('buckets nest: index at scale s shifted right by d is the index at scale s − d', () => {
  const rnd = prng(3);
  for (let i = 0; i < 300; i++) {
    const v = randomPositive(rnd);
    const top = mapToIndex(v, MAX_SCALE);
    for (const s of SCALES) {
      const got = mapToIndex(v, s);
      if (top >> (MAX_SCALE - s) !== got && !nearBoundary(v, MAX_SCALE)) {
        assert.unreachable(`nesting broken for ${v} at ${s}`);
      }
    }
  }
});

test('pow2 is exact over the whole double range', () => {
  for (let k = -1074; k <= 1023; k++) if (pow2(k) !== 2 ** k) assert.unreachable(`pow2(${k})`);
  assert.is(pow2(-1075), 0);
  assert.is(pow2(1024), Infinity);
});

test('lowerBoundary: exact for scale ≤ 0 and at powers of two', () => {
  for (const s of SCALES.filter((x) => x <= 0)) {
    for (let i = -3; i <= 3; i++) assert.is(lowerBoundary(i, s), 2 ** (i * 2 ** -s), `lowerBoundary(${i}, ${s})`);
  }
  for (const s of SCALES.filter((x) => x > 0)) {
    for (const q of [-1074, -1022, -3, 0, 1, 7, 1023]) {
      assert.is(lowerBoundary(q * 2 ** s, s), 2 ** q, `lowerBoundary(${q}·2^${s}, ${s})`);
    }
  }
  assert.is(lowerBoundary(14, 2), Math.SQRT2 * 8);
  assert.is(lowerBoundary(1024, 0), Infinity);
  assert.is(lowerBoundary(-1076, 0), 0);
});

test('lowerBoundary agrees with the mapping: base^i closes bucket i − 1 and opens bucket i', () => {
  const rnd = prng(11);
  for (let n = 0; n < 500; n++) {
    const s = SCALES[Math.floor(rnd() * SCALES.length)]!;
    const span = s > 0 ? 2000 * 2 ** s : Math.floor(2000 / 2 ** -s);
    const i = Math.floor(rnd() * span) - Math.floor(span / 2);
    const lb = lowerBoundary(i, s);
    assert.ok(lb > 0 && Number.isFinite(lb));
    // two ulps either side settle the one-ulp error of Math.pow and the mapping's slip
    assert.is(mapToIndex(nextUp(nextUp(nextUp(lb))), s), i, `above base^${i} at ${s}`);
    assert.is(mapToIndex(nextDown(nextDown(nextDown(lb))), s), i - 1, `below base^${i} at ${s}`);
    // and the boundary itself is within 2 ulps of the exact one
    if (s > 0) {
      const q = Math.floor(i / 2 ** s);
      const k = i - q * 2 ** s;
      const exact = Number(boundary(k, s) >> (P - 60n)) * 2 ** (q - 60);
      assert.ok(Math.abs(lb - exact) <= 2 * (nextUp(exact) - exact), `lowerBoundary(${i}, ${s}) = ${lb}, exact ${exact}`);
    }
  }
});

test.run();
