/**
 * Explicit Bucket Histogram aggregation (metrics SDK spec, "Explicit Bucket Histogram
 * Aggregation"). Bucket i holds values in (bounds[i-1], bounds[i]]: upper-inclusive, as
 * the spec requires; the last bucket is (bounds[n-1], +Inf).
 */
import type { BinaryWriter } from '../../otlp/encode/binary-writer.js';
import { histogramPoint, NO_ATTRS, writeHistogramDataPoint, type HistogramPoint } from '../../otlp/encode/metrics.js';
import { varintSize } from '../../otlp/wire.js';
import type { Attributes } from '../../otlp/types.js';
import { Columns, Series, type Aggregator } from '../series.js';

/** The spec's default boundaries (tuned for milliseconds). */
export const DEFAULT_HISTOGRAM_BOUNDARIES: readonly number[] = Object.freeze([
  0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000,
]);

// Below this many boundaries a linear scan beats a binary search (measured on Node 20:
// equal at ~12 with the default 15, which most values leave early).
const LINEAR_MAX = 16;

/** Index of the bucket of `x`: the first i with x <= bounds[i], or bounds.length. */
export function bucketIndex(bounds: Float64Array, x: number): number {
  const n = bounds.length;
  if (n <= LINEAR_MAX) {
    let i = 0;
    while (i < n && x > (bounds[i] as number)) i++;
    return i;
  }
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x > (bounds[mid] as number)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Interval cell: bucket counts, count, sum, min and max since the last drain. */
export class HistogramSeries extends Series {
  readonly counts: Float64Array;
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  readonly bounds: Float64Array;

  constructor(attrs: Attributes, ac: number, created: bigint, slot: number, bounds: Float64Array) {
    super(attrs, ac, created, slot);
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  measure(value: number): void {
    // NaN has no bucket and would poison the sum.
    if (value !== value) return;
    (this.counts[bucketIndex(this.bounds, value)] as number)++;
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    this.n = 1;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = -Infinity;
    this.n = 0;
  }
}

const COUNT = 0;
const SUM = 1;
const MIN = 2;
const MAX = 3;
const HEAD = 4;

/** A consumer's histograms by slot: `[count, sum, min, max, ...bucket counts]` per slot. */
export class HistogramColumns extends Columns {
  d: Float64Array;
  readonly stride: number;
  // Reused for each point's bucket counts: a subarray per point would allocate.
  readonly #scratch: Float64Array;
  /** The point written for every slot, refilled per point; bounds and counts array fixed at build. */
  readonly #point: HistogramPoint;

  constructor(
    delta: boolean,
    capacity: number,
    readonly bounds: Float64Array,
    readonly withSum: boolean,
    readonly withMinMax: boolean,
  ) {
    super(delta, capacity);
    this.stride = HEAD + bounds.length + 1;
    this.d = new Float64Array(capacity * this.stride);
    this.#scratch = new Float64Array(bounds.length + 1);
    this.#point = histogramPoint(this.#scratch, bounds);
  }

  protected growData(capacity: number): void {
    const d = new Float64Array(capacity * this.stride);
    d.set(this.d);
    this.d = d;
  }

  merge(slot: number, s: Series): void {
    const h = s as HistogramSeries;
    const d = this.d;
    const o = slot * this.stride;
    const nb = h.counts.length;
    if (this.has[slot] === 0) {
      d[o + COUNT] = h.count;
      d[o + SUM] = h.sum;
      d[o + MIN] = h.min;
      d[o + MAX] = h.max;
      d.set(h.counts, o + HEAD);
      this.has[slot] = 1;
      return;
    }
    (d[o + COUNT] as number) += h.count;
    (d[o + SUM] as number) += h.sum;
    if (h.min < (d[o + MIN] as number)) d[o + MIN] = h.min;
    if (h.max > (d[o + MAX] as number)) d[o + MAX] = h.max;
    for (let i = 0; i < nb; i++) (d[o + HEAD + i] as number) += h.counts[i] as number;
  }

  clear(slot: number): void {
    // merge() overwrites a slot whose `has` is 0, so the numbers need no reset.
    this.has[slot] = 0;
  }

  pointSize(slot: number, attrs: Uint8Array, timesLen: number): number {
    const nc = this.bounds.length + 1;
    const nb = this.bounds.length;
    let len = timesLen + attrs.length + 1 + varintSize(nc * 8) + nc * 8;
    if (this.d[slot * this.stride + COUNT] !== 0) len += 9;
    if (this.withSum) len += 9;
    if (nb > 0) len += 1 + varintSize(nb * 8) + nb * 8;
    if (this.withMinMax) len += 18;
    return 1 + varintSize(len) + len;
  }

  writePoint(w: BinaryWriter, slot: number, attrs: Uint8Array, startNs: bigint, timeNs: bigint): void {
    const d = this.d;
    const o = slot * this.stride;
    const counts = this.#scratch;
    for (let i = 0; i < counts.length; i++) counts[i] = d[o + HEAD + i] as number;
    const p = this.#point;
    p.attrs = attrs;
    p.startNs = startNs;
    p.timeNs = timeNs;
    p.count = d[o + COUNT] as number;
    p.sum = this.withSum ? (d[o + SUM] as number) : undefined;
    p.min = this.withMinMax ? (d[o + MIN] as number) : undefined;
    p.max = this.withMinMax ? (d[o + MAX] as number) : undefined;
    writeHistogramDataPoint(w, p);
    // Not kept past the write: the view may pin a released attribute chunk.
    p.attrs = NO_ATTRS;
  }
}

/**
 * Builds an explicit bucket histogram aggregator. `boundaries` must be validated
 * (finite, strictly increasing); `withSum` is false for kinds that record negatives.
 */
export function histogramAggregator(boundaries: readonly number[], withSum: boolean, withMinMax: boolean): Aggregator {
  const bounds = Float64Array.from(boundaries);
  return {
    data: 'histogram',
    monotonic: false,
    hasTemporality: true,
    newSeries: (attrs: Attributes, ac: number, created: bigint, slot: number) => new HistogramSeries(attrs, ac, created, slot, bounds),
    newColumns: (delta: boolean, capacity: number) => new HistogramColumns(delta, capacity, bounds, withSum, withMinMax),
  };
}
