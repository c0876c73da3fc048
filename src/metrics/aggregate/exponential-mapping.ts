/**
 * Base-2 exponential bucket mapping (OTel metrics data model, "ExponentialHistogram").
 *
 * At scale `s` the base is `2^(2^-s)` and bucket `i` holds the values in `(base^i, base^(i+1)]`:
 * boundaries are upper-inclusive, so an exact power of two is the *last* value of its bucket.
 * Buckets nest: bucket `i` at scale `s` is the union of buckets `2i` and `2i+1` at scale `s+1`,
 * so the index of a value at a lower scale is its index at a higher scale shifted right
 * (`i >> change`), which is how a histogram folds its buckets when it downscales.
 *
 * Both halves start from the float64 bits, read like C's `frexp`: `v = m × 2^e` with `m` in [1, 2)
 * (`e` from the exponent field, `m = v · 2^-e`, exact).
 *
 * - scale ≤ 0 (exponent mapping, exact). At scale 0 bucket `e` is `(2^e, 2^(e+1)]`, so `v` falls in
 *   bucket `e`, except when `m == 1` (an exact power of two), which closes bucket `e − 1`.
 *   A negative scale merges `2^-s` consecutive scale-0 buckets: `index = i0 >> -s`.
 *   Example, v = 10 = 1.25 × 2^3 at scale −1 (base 4): i0 = 3, index = 3 >> 1 = 1, and bucket 1
 *   is (4^1, 4^2] = (4, 16], which holds 10. v = 8 = 1 × 2^3 at scale 0: index 2 = (4, 8].
 *
 * - scale > 0 (logarithm mapping). Each binade `(2^e, 2^(e+1)]` holds `N = 2^s` buckets, so
 *   `index = e·N + j` where `j = ceil(log2(m) · N) − 1` is the sub-bucket of `m` inside [1, 2).
 *   Example, v = 10 at scale 2 (N = 4, base 2^(1/4) ≈ 1.1892): e = 3, m = 1.25,
 *   log2(1.25) · 4 ≈ 1.288, ceil − 1 = 1, index = 3·4 + 1 = 13, and bucket 13 is
 *   (2^(13/4), 2^(14/4)] ≈ (9.51, 11.31], which holds 10.
 *   Powers of two (m == 1) take the exact path `e·N − 1`, as the data model asks.
 *   Taking the logarithm of `m` rather than of `v` is the opentelemetry-go choice: |log2(m)| < 1, so
 *   the product's absolute error stays below ~2^s · 2^-53 (≈ 1.2e-10 of a bucket at scale 20)
 *   instead of growing with |log v| (up to ~700× larger near the ends of the double range).
 *   The data model accepts that values within that sliver of a non-power-of-two boundary may land in
 *   the neighbouring bucket; boundaries at powers of two are exact because `e` comes from the bits.
 *
 * Subnormal values (below 2^-1022) are mapped exactly: they are renormalised by an exact
 * multiplication by 2^64 before reading the exponent. (The official JS SDK instead rounds them up to
 * the bucket of 2^-1022, which the spec also allows.) With them, every finite double has an index in
 * [−1074·2^20 − 1, 1024·2^20 − 1] at scale 20, inside int32, so `>>` and `<<` are safe on indexes.
 */

/** Lowest scale a histogram may reach: at −10 every finite double fits in 3 buckets (indexes −2..0). */
export const MIN_SCALE = -10;
/** Highest scale (the spec's default `MaxScale`): base 2^(2^-20), a relative bucket width of ~6.6e-7. */
export const MAX_SCALE = 20;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
// Word holding sign, exponent and the top 20 significand bits: index 1 on little-endian hosts.
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const LO = 1 - HI;
const EXPONENT_BIAS = 1023;
const SIGNIFICAND_HI_MASK = 0x000fffff;
// 2^64: lifts any subnormal into the normal range exactly (only the exponent changes).
const TWO_POW_64 = 18446744073709551616;

// INV_POW2[e + 1022] = 2^-e for every normal exponent e (exact: all are doubles, 2^-1023 a subnormal
// one). Scaling by it yields m without writing float bits back: a 32-bit store followed by a 64-bit
// load defeats store-to-load forwarding and measured ~15 ns slower per call than this 16 KiB table.
const INV_POW2 = new Float64Array(2046);
for (let e = -1022; e <= 1023; e++) INV_POW2[e + 1022] = 2 ** -e;

/**
 * Bucket index of `value` at `scale` (`MIN_SCALE..MAX_SCALE`). `value` must be positive and finite;
 * callers pass the magnitude of negative values. Cold-path entry (tests, tools): the hot path writes
 * `MAPPING_INPUT[0]` and calls `mapInputToIndex` itself.
 */
export function mapToIndex(value: number, scale: number): number {
  f64[0] = value;
  return mapInputToIndex(scale);
}

/**
 * The value `mapInputToIndex` maps: write it here, then call with the scale. A double passed to a
 * call V8 did not inline is boxed (a 16-byte allocation per call), and whether a call is inlined
 * depends on the caller's inlining budget, so the hot path hands the value over in this slot.
 */
export const MAPPING_INPUT: Float64Array = f64;

/**
 * Bucket index at `scale` of the value in `MAPPING_INPUT[0]` (positive and finite, as for
 * `mapToIndex`). Hot path: no allocation whether inlined or not, one logarithm at most.
 */
export function mapInputToIndex(scale: number): number {
  const hi = u32[HI]!;
  const biased = (hi >>> 20) & 0x7ff;
  if (biased === 0) return subnormalIndex(scale);
  const exp = biased - EXPONENT_BIAS;
  const powerOfTwo = (hi & SIGNIFICAND_HI_MASK) === 0 && u32[LO] === 0;
  if (scale <= 0) return (powerOfTwo ? exp - 1 : exp) >> -scale;
  if (powerOfTwo) return (exp << scale) - 1;
  // m = value / 2^exp in (1, 2), exactly. m > 1, so the product is in (0, N]: j = ceil(...) − 1
  // stays in [0, N − 1] even after rounding.
  return (exp << scale) + Math.ceil(Math.log2(f64[0]! * INV_POW2[exp + 1022]!) * (1 << scale)) - 1;
}

// Subnormal values (in f64[0]): an exact ×2^64 makes them normal with the same significand; the
// index is then read the same way with 64 taken off the exponent. Kept out of mapInputToIndex to
// keep it small.
function subnormalIndex(scale: number): number {
  const v = f64[0]! * TWO_POW_64;
  f64[0] = v;
  const hi = u32[HI]!;
  const exp = ((hi >>> 20) & 0x7ff) - EXPONENT_BIAS;
  const powerOfTwo = (hi & SIGNIFICAND_HI_MASK) === 0 && u32[LO] === 0;
  if (scale <= 0) return (powerOfTwo ? exp - 65 : exp - 64) >> -scale;
  if (powerOfTwo) return ((exp - 64) << scale) - 1;
  return ((exp - 64) << scale) + Math.ceil(Math.log2(v * INV_POW2[exp + 1022]!) * (1 << scale)) - 1;
}

/** 2^k for an integer k, exact whenever the result is representable (0 below 2^-1074, Infinity above 2^1023). */
export function pow2(k: number): number {
  if (k > 1023) return Infinity;
  if (k >= -1022) {
    u32[HI] = (k + EXPONENT_BIAS) << 20;
    u32[LO] = 0;
    return f64[0]!;
  }
  if (k < -1074) return 0;
  // Subnormal result: build 2^(k+64) (normal) and scale down; exact because the result is a power of two.
  return pow2(k + 64) / TWO_POW_64;
}

/**
 * Lower (exclusive) boundary of bucket `index` at `scale`: `base^index`; the upper boundary is
 * `lowerBoundary(index + 1, scale)`. Exact for scale ≤ 0 and for every index that is a multiple of
 * `2^scale` (powers of two); otherwise within one ulp of `Math.pow`, except in the subnormal range.
 * Returns 0 below the smallest double and Infinity above the largest.
 */
export function lowerBoundary(index: number, scale: number): number {
  if (scale <= 0) return pow2(index * 2 ** -scale);
  // index = q·N + r with 0 ≤ r < N: base^index = 2^q · 2^(r/N), and r/N is exact (N is a power of two).
  const q = index >> scale;
  const r = index - q * (1 << scale);
  if (r === 0) return pow2(q);
  // 2^q alone underflows to 0 below 2^-1074 while the product may not: scale through the normal range.
  if (q < -1022) return (2 ** (r / (1 << scale)) * pow2(q + 64)) / TWO_POW_64;
  return 2 ** (r / (1 << scale)) * pow2(q);
}
