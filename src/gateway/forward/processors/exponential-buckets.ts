/**
 * Exponential histogram buckets as the temporality conversion combines them: one range (positive
 * or negative) as counts of consecutive indexes from an offset, at a scale the caller tracks.
 * Lowering the scale merges neighbours (the nesting of the base-2 mapping,
 * metrics/aggregate/exponential-mapping.ts); sums and differences are index by index.
 */

/**
 * Bucket counts. The temporality state keeps them as plain arrays (temporality.ts `kept()`): for 16
 * counts ~180 bytes against ~300 for a Float64Array with its ArrayBuffer (BENCHMARKS.md, Processors).
 */
export type Counts = ArrayLike<number>;

/** Buckets of one exponential range at a scale: counts of consecutive indexes from `offset`. */
export interface Buckets {
  readonly offset: number;
  readonly counts: Counts;
}

const NO_COUNTS = new Float64Array(0);

/** Buckets spanned by ranges `x` (at scale `xs`) and `y` (at `ys`) together, both lowered to scale `s`. */
export function spanAt(x: Buckets, xs: number, y: Buckets, ys: number, s: number): number {
  let low = Infinity;
  let high = -Infinity;
  for (const [r, rs] of [
    [x, xs],
    [y, ys],
  ] as const) {
    if (r.counts.length === 0) continue;
    low = Math.min(low, r.offset >> (rs - s));
    high = Math.max(high, (r.offset + r.counts.length - 1) >> (rs - s));
  }
  return high < low ? 0 : high - low + 1;
}

/**
 * `b` at a scale `change` lower. Bucket i at scale s is the union of buckets 2i and 2i+1 at scale
 * s+1 (metrics/aggregate/exponential-mapping.ts), so index i moves to i >> change. Example: offset
 * −3, counts [1, 2, 3, 4] (indexes −3..0) lowered by 1: −3 >> 1 = −2, −2 → −1, −1 → −1, 0 → 0,
 * giving offset −2, counts [1, 5, 4].
 */
export function downscale(b: Buckets, change: number): Buckets {
  if (change === 0 || b.counts.length === 0) return b;
  const first = b.offset >> change;
  const last = (b.offset + b.counts.length - 1) >> change;
  const out = new Float64Array(last - first + 1);
  for (let i = 0; i < b.counts.length; i++) out[((b.offset + i) >> change) - first]! += b.counts[i]!;
  return { offset: first, counts: out };
}

/** a + b, index by index. */
export function sum(a: Buckets, b: Buckets): Buckets {
  if (a.counts.length === 0) return b;
  if (b.counts.length === 0) return a;
  const first = Math.min(a.offset, b.offset);
  const last = Math.max(a.offset + a.counts.length, b.offset + b.counts.length);
  const out = new Float64Array(last - first);
  for (let i = 0; i < a.counts.length; i++) out[a.offset - first + i]! += a.counts[i]!;
  for (let i = 0; i < b.counts.length; i++) out[b.offset - first + i]! += b.counts[i]!;
  return { offset: first, counts: out };
}

/** a − b, trimmed of zero buckets at both ends; undefined when a bucket would be negative (a reset). */
export function difference(a: Buckets, b: Buckets): Buckets | undefined {
  if (b.counts.length === 0) return a;
  const first = Math.min(a.offset, b.offset);
  const last = Math.max(a.offset + a.counts.length, b.offset + b.counts.length);
  const out = new Float64Array(last - first);
  for (let i = 0; i < a.counts.length; i++) out[a.offset - first + i]! += a.counts[i]!;
  for (let i = 0; i < b.counts.length; i++) {
    const j = b.offset - first + i;
    out[j]! -= b.counts[i]!;
    if (out[j]! < 0) return undefined;
  }
  return trim(first, out);
}

/** Without zero buckets at either end (an empty range has offset 0). */
export function trim(offset: number, counts: Counts): Buckets {
  let lo = 0;
  let hi = counts.length;
  while (lo < hi && counts[lo] === 0) lo++;
  while (hi > lo && counts[hi - 1] === 0) hi--;
  if (lo === hi) return { offset: 0, counts: NO_COUNTS };
  return lo === 0 && hi === counts.length
    ? { offset, counts }
    : { offset: offset + lo, counts: Array.prototype.slice.call(counts, lo, hi) as number[] };
}
