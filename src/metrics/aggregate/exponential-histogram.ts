/**
 * Base-2 exponential bucket histogram aggregation (OTel metrics SDK spec, "Base2 Exponential Bucket
 * Histogram Aggregation"): one cell per series, as interval cell on the hot path and as a consumer's
 * cumulative or pending-delta state on the cold path (filled with `mergeFrom`).
 *
 * The scale starts at `maxScale` and only goes down, by the amount needed to keep each range
 * (positive and negative magnitudes, which share the scale) within `maxSize` buckets. The needed
 * change is computed once from the index range, then the buckets are folded in one pass. Worked
 * example with maxSize 4 at scale 0: recording 1, 2, 4 uses buckets −1, 0, 1 ((1/2,1], (1,2], (2,4]);
 * recording 32 (bucket 4) would need 6 buckets (−1..4). Shifting the ends right once gives −1..2
 * (4 buckets): scale −1, where 1, 2, 4, 32 sit in buckets −1, 0, 0, 2 of base 4.
 */
import type { BinaryWriter } from '../../otlp/encode/binary-writer.js';
import {
  exponentialHistogramPoint,
  NO_ATTRS,
  writeExponentialHistogramDataPoint,
  type ExponentialHistogramPoint,
} from '../../otlp/encode/metrics.js';
import { BucketRing } from './bucket-ring.js';
import { MAPPING_INPUT, MAX_SCALE, MIN_SCALE, mapInputToIndex } from './exponential-mapping.js';

/** Spec default `MaxSize`: covers 1 ms..100 s at scale 3 (< 5% relative error) per range. */
export const DEFAULT_EXPONENTIAL_MAX_SIZE = 160;
/** Smallest `MaxSize` accepted, as in the official SDKs: below 2, two distinct values may never fit. */
export const MIN_EXPONENTIAL_MAX_SIZE = 2;
/** Our upper bound on `MaxSize`: caps a range at 512 KiB of counts per series. */
export const MAX_EXPONENTIAL_MAX_SIZE = 65536;

/**
 * Smallest `change` such that `[low >> change, high >> change]` spans fewer than `maxSize + 1`
 * buckets, capped at `limit` (the distance to MIN_SCALE). Bounded: at most 30 iterations.
 */
function changeNeeded(low: number, high: number, maxSize: number, limit: number): number {
  let change = 0;
  while (high - low >= maxSize && change < limit) {
    low >>= 1;
    high >>= 1;
    change++;
  }
  return change;
}

/**
 * One base-2 exponential histogram: count, sum, min, max, a zero bucket (zero threshold 0: only
 * exact zeros) and two bucket ranges (positive values, and negative values by magnitude) at a
 * shared, automatically lowered scale.
 *
 * Not a sealed value: `record` and `mergeFrom` mutate it in place. Read accessors return views that
 * stay valid only until the next mutation.
 */
export class ExponentialHistogramCell {
  /** Maximum number of buckets in each of the positive and negative ranges. */
  readonly maxSize: number;
  /** Scale a fresh or reset cell starts at. */
  readonly maxScale: number;
  #scale: number;
  #count = 0;
  #sum = 0;
  #zeroCount = 0;
  #min = Infinity;
  #max = -Infinity;
  readonly #positive: BucketRing;
  readonly #negative: BucketRing;

  /**
   * @param maxSize buckets per range, default 160 (the spec's default, see
   *   DEFAULT_EXPONENTIAL_MAX_SIZE); an integer in [2, 65536].
   * @param maxScale starting and highest scale, default 20 (the spec's default and the finest
   *   resolution the mapping supports); an integer in [-10, 20].
   * @throws RangeError naming the parameter when a value is out of range.
   */
  constructor(maxSize = DEFAULT_EXPONENTIAL_MAX_SIZE, maxScale = MAX_SCALE) {
    if (!Number.isInteger(maxSize) || maxSize < MIN_EXPONENTIAL_MAX_SIZE || maxSize > MAX_EXPONENTIAL_MAX_SIZE) {
      throw new RangeError(
        `exponential histogram maxSize: got ${String(maxSize)}, want an integer in [${MIN_EXPONENTIAL_MAX_SIZE}, ${MAX_EXPONENTIAL_MAX_SIZE}]`,
      );
    }
    if (!Number.isInteger(maxScale) || maxScale < MIN_SCALE || maxScale > MAX_SCALE) {
      throw new RangeError(`exponential histogram maxScale: got ${String(maxScale)}, want an integer in [${MIN_SCALE}, ${MAX_SCALE}]`);
    }
    this.maxSize = maxSize;
    this.maxScale = maxScale;
    this.#scale = maxScale;
    this.#positive = new BucketRing();
    this.#negative = new BucketRing();
  }

  /**
   * Records one measurement. Hot path: no allocation unless a range grows its storage.
   * Returns false, changing nothing, for NaN and ±Infinity (they have no bucket and would poison
   * sum/min/max, as the spec notes); the caller reports that once.
   */
  record(value: number): boolean {
    if (value !== 0) {
      const magnitude = Math.abs(value);
      if (!(magnitude < Infinity)) return false; // NaN, ±Infinity
      const ring = value > 0 ? this.#positive : this.#negative;
      // Via a slot, not an argument: an OSR'd caller on Node 22/24 left mapToIndex(magnitude) un-inlined, boxing 16 B/record.
      MAPPING_INPUT[0] = magnitude;
      const index = mapInputToIndex(this.#scale);
      if (!ring.increment(index)) this.#extend(ring, index);
    } else {
      this.#zeroCount++;
    }
    this.#count++;
    this.#sum += value;
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
    return true;
  }

  /** Adds one at `index` outside the ring's run: grows the run, downscaling first if it must. */
  #extend(ring: BucketRing, index: number): void {
    const length = ring.length;
    if (length !== 0) {
      const start = ring.start;
      const end = start + length - 1;
      if (index < start ? end - index >= this.maxSize : index - start >= this.maxSize) {
        const change = changeNeeded(Math.min(index, start), Math.max(index, end), this.maxSize, this.#scale - MIN_SCALE);
        this.#downscale(change);
        // Buckets nest, so the index at the lower scale is the shifted one (no second logarithm).
        index = this.#fit(ring, index >> change);
      }
    }
    ring.add(index, 1, this.maxSize);
  }

  /**
   * Makes room for `index` when the range cannot fit in `maxSize` buckets even at MIN_SCALE: only
   * with maxSize 2, when values ≤ 2^-1024 (bucket −2, all subnormal) meet values above 1 (bucket 0).
   * The low end gives way: those subnormals are counted in bucket −1, i.e. rounded away from zero,
   * which the spec allows. A no-op whenever the range fits, which is every other case.
   */
  #fit(ring: BucketRing, index: number): number {
    if (ring.length === 0) return index;
    const lowest = ring.end - this.maxSize + 1;
    if (index < lowest) return lowest;
    if (index - ring.start >= this.maxSize) ring.foldLow(index - this.maxSize + 1, this.maxSize);
    return index;
  }

  #downscale(change: number): void {
    if (change <= 0) return;
    this.#positive.downscale(change);
    this.#negative.downscale(change);
    this.#scale -= change;
  }

  /**
   * Adds everything `other` holds into this cell, leaving `other` unchanged: the cold-path drain of
   * an interval cell into a consumer's cumulative state or pending delta. Scales align on the lower
   * one (a cell with no buckets imposes none), then go further down if a merged range would exceed
   * `maxSize`; the result equals recording both cells' values into one cell, up to the
   * near-boundary rounding documented in exponential-mapping.ts. No allocation once this cell's
   * storage has grown to the merged range.
   * @throws RangeError when `other` is this cell.
   */
  mergeFrom(other: ExponentialHistogramCell): void {
    if (other === this) throw new RangeError('exponential histogram: cannot merge a cell into itself');
    if (other.#count === 0) return;
    this.#count += other.#count;
    this.#sum += other.#sum;
    this.#zeroCount += other.#zeroCount;
    if (other.#min < this.#min) this.#min = other.#min;
    if (other.#max > this.#max) this.#max = other.#max;

    const op = other.#positive;
    const on = other.#negative;
    if (op.length === 0 && on.length === 0) return;
    const p = this.#positive;
    const n = this.#negative;
    if (p.length === 0 && n.length === 0) {
      // Nothing to fold here: take the other's scale (never above ours) and keep its resolution.
      this.#scale = Math.min(this.maxScale, other.#scale);
    }
    const target = Math.min(this.#scale, other.#scale);
    const ours = this.#scale - target;
    const theirs = other.#scale - target;
    const limit = target - MIN_SCALE;
    const change = Math.max(this.#rangeChange(p, ours, op, theirs, limit), this.#rangeChange(n, ours, on, theirs, limit));
    this.#downscale(ours + change);
    const shift = other.#scale - this.#scale;
    this.#mergeRing(p, op, shift);
    this.#mergeRing(n, on, shift);
  }

  #rangeChange(a: BucketRing, aShift: number, b: BucketRing, bShift: number, limit: number): number {
    // A range already within maxSize at its own scale stays within it at any lower scale.
    if (b.length === 0) return 0;
    let low = b.start >> bShift;
    let high = b.end >> bShift;
    if (a.length !== 0) {
      low = Math.min(low, a.start >> aShift);
      high = Math.max(high, a.end >> aShift);
    }
    return changeNeeded(low, high, this.maxSize, limit);
  }

  #mergeRing(into: BucketRing, from: BucketRing, shift: number): void {
    const start = from.start;
    for (let k = 0; k < from.length; k++) {
      const c = from.at(k);
      if (c !== 0) into.add(this.#fit(into, (start + k) >> shift), c, this.maxSize);
    }
  }

  /**
   * Empties the cell in place (storage kept) and returns the scale to `maxScale`.
   * Why the scale resets: the spec asks for the best resolution the data allows, and a delta
   * interval's data is only that interval's: one burst of widely spread values must not coarsen
   * every later interval. Cumulative states never reset, and `mergeFrom` folds a fresh
   * high-resolution interval down to their scale, so they are unaffected. This also matches the
   * official JS SDK, which starts each collection interval from a fresh accumulation.
   */
  reset(): void {
    this.#count = 0;
    this.#sum = 0;
    this.#zeroCount = 0;
    this.#min = Infinity;
    this.#max = -Infinity;
    this.#scale = this.maxScale;
    this.#positive.reset();
    this.#negative.reset();
  }

  /** True when nothing was recorded (or merged) since construction or the last reset. */
  get isEmpty(): boolean {
    return this.#count === 0;
  }

  /** Current scale (starts at `maxScale`, lowered as the data spreads). */
  get scale(): number {
    return this.#scale;
  }

  /** Number of recorded values, zero bucket included. */
  get count(): number {
    return this.#count;
  }

  /** Sum of recorded values (0 when empty). */
  get sum(): number {
    return this.#sum;
  }

  /** Smallest recorded value; Infinity when empty. */
  get min(): number {
    return this.#min;
  }

  /** Largest recorded value; -Infinity when empty. */
  get max(): number {
    return this.#max;
  }

  /** Count of exact zeros (the zero bucket). */
  get zeroCount(): number {
    return this.#zeroCount;
  }

  /** Width of the zero bucket: always 0 (only exact zeros), the spec default. */
  get zeroThreshold(): number {
    return 0;
  }

  /** Index of the first positive bucket (0 when the range is empty). */
  get positiveOffset(): number {
    return this.#positive.length === 0 ? 0 : this.#positive.start;
  }

  /** Positive bucket counts from `positiveOffset` up; a live view, valid until the next mutation. */
  get positiveCounts(): ArrayLike<number> {
    return this.#positive.view();
  }

  /** Index of the first negative bucket (magnitudes; 0 when the range is empty). */
  get negativeOffset(): number {
    return this.#negative.length === 0 ? 0 : this.#negative.start;
  }

  /** Negative bucket counts (by magnitude) from `negativeOffset` up; a live view, valid until the next mutation. */
  get negativeCounts(): ArrayLike<number> {
    return this.#negative.view();
  }

  /**
   * Writes this cell as one `ExponentialHistogramDataPoint` (field 1 of `ExponentialHistogram`)
   * with `writeExponentialHistogramDataPoint` (otlp/encode/metrics.ts).
   * `attrs` are the series' attributes pre-encoded as KeyValue fields numbered 1.
   * Like the official JS SDK and its serializer: with no bucket in either range the scale is written
   * as 0 (it means nothing then), and both bucket ranges are always present, empty or not, so that
   * decoded points compare equal. min and max are omitted when the cell is empty.
   * Allocation-free unless a range changed since the last call (one cached view per range).
   * @param flags `DataPointFlags` (1 = no recorded value).
   * @param withSum write `sum` (default true); pass false for instruments whose values may be
   *   negative (gauges, up-down counters), whose histogram sum the spec calls not meaningful.
   * @param withMinMax write `min`/`max` (default true): the spec's `RecordMinMax` option.
   */
  write(w: BinaryWriter, attrs: Uint8Array, startNs: bigint, timeNs: bigint, flags: number, withSum = true, withMinMax = true): void {
    const p = this.#positive;
    const n = this.#negative;
    POSITIVE.offset = p.length === 0 ? 0 : p.start;
    POSITIVE.counts = p.view();
    NEGATIVE.offset = n.length === 0 ? 0 : n.start;
    NEGATIVE.counts = n.view();
    const minMax = withMinMax && this.#count !== 0;
    const point = POINT;
    point.attrs = attrs;
    point.startNs = startNs;
    point.timeNs = timeNs;
    point.flags = flags;
    point.count = this.#count;
    point.sum = withSum ? this.#sum : undefined;
    point.scale = p.length === 0 && n.length === 0 ? 0 : this.#scale;
    point.zeroCount = this.#zeroCount;
    point.min = minMax ? this.#min : undefined;
    point.max = minMax ? this.#max : undefined;
    writeExponentialHistogramDataPoint(w, point);
    // Drop the references so the scratch objects do not keep a reset cell's views (or a released attribute chunk) alive.
    POSITIVE.counts = NO_COUNTS;
    NEGATIVE.counts = NO_COUNTS;
    point.attrs = NO_ATTRS;
  }
}

const NO_COUNTS = new Float64Array(0);
// Scratch bucket descriptors for write(): one pair per process instead of one per point.
const POSITIVE: { offset: number; counts: ArrayLike<number> } = { offset: 0, counts: NO_COUNTS };
const NEGATIVE: { offset: number; counts: ArrayLike<number> } = { offset: 0, counts: NO_COUNTS };
// The point shape write() fills, one per process; zero_threshold is always 0 (only exact zeros).
const POINT: ExponentialHistogramPoint = exponentialHistogramPoint(POSITIVE, NEGATIVE);
