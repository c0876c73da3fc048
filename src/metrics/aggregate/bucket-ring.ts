/**
 * Counts for a contiguous run of bucket indexes `[start, start + length)`, stored in a circular
 * Float64Array so that the run can grow at either end in O(1) (values often arrive in either
 * direction of the first one). Slots outside the run are always zero, so extending the run never
 * needs to clear memory. Capacity starts small and doubles up to the histogram's `maxSize`: most
 * series use a handful of buckets.
 *
 * Counts are float64: exact up to 2^53, far beyond what a process records into one bucket.
 */

// 16 buckets cover a 2^(16/2^s) contrast at scale s: enough for many series to never grow.
const INITIAL_CAPACITY = 16;
// Shared by every ring that never held a count (often the negative range): no store per series.
const NONE = new Float64Array(0);

/** A circular run of bucket counts; hot state of one range (positive or negative) of a histogram. */
export class BucketRing {
  /** Backing store; slot `(head + k) % counts.length` holds bucket `start + k`. */
  counts: Float64Array;
  /** Bucket index of the first bucket in the run (meaningless while `length` is 0). */
  start = 0;
  /** Number of buckets in the run; 0 when empty. */
  length = 0;
  /** Slot of bucket `start`. */
  head = 0;
  // Last view handed out by view(), reused while the run has not moved.
  #view: Float64Array | undefined;

  /** Allocates nothing until the first count; then 16 slots (at most `maxSize`), doubling as needed. */
  constructor() {
    this.counts = NONE;
  }

  /** Index of the last bucket in the run (`start − 1` when empty). */
  get end(): number {
    return this.start + this.length - 1;
  }

  /**
   * Adds one to bucket `index` if it lies within the run; returns false, changing nothing,
   * otherwise. The hot path of a record: small enough to inline.
   */
  increment(index: number): boolean {
    const rel = index - this.start;
    if (rel < 0 || rel >= this.length) return false;
    let slot = this.head + rel;
    if (slot >= this.counts.length) slot -= this.counts.length;
    this.counts[slot]!++;
    return true;
  }

  /**
   * Adds `n` to bucket `index`, extending the run. The caller guarantees that the extended run
   * spans at most `maxSize` buckets (it downscales first); capacity grows up to `maxSize`.
   */
  add(index: number, n: number, maxSize: number): void {
    const rel = index - this.start;
    if (rel >= 0 && rel < this.length) {
      let slot = this.head + rel;
      if (slot >= this.counts.length) slot -= this.counts.length;
      this.counts[slot]! += n;
      return;
    }
    this.#extend(index, n, maxSize);
  }

  #extend(index: number, n: number, maxSize: number): void {
    let slot: number;
    if (this.length === 0) {
      if (this.counts.length === 0) this.#grow(1, maxSize);
      this.start = index;
      this.length = 1;
      this.head = 0;
      slot = 0;
    } else if (index < this.start) {
      const extra = this.start - index;
      const length = this.length + extra;
      if (length > this.counts.length) this.#grow(length, maxSize);
      slot = this.head - extra;
      if (slot < 0) slot += this.counts.length;
      this.head = slot;
      this.start = index;
      this.length = length;
    } else {
      const rel = index - this.start;
      if (rel >= this.counts.length) this.#grow(rel + 1, maxSize);
      this.length = rel + 1;
      slot = this.head + rel;
      if (slot >= this.counts.length) slot -= this.counts.length;
    }
    this.counts[slot]! += n;
  }

  /** Count of the `k`-th bucket of the run (bucket index `start + k`), `0 ≤ k < length`. */
  at(k: number): number {
    let slot = this.head + k;
    if (slot >= this.counts.length) slot -= this.counts.length;
    return this.counts[slot]!;
  }

  /**
   * Folds the run to a scale `change` steps lower: bucket `i` becomes `i >> change`.
   * In place and allocation-free: target positions never pass the position being read
   * (`(i >> c) − (start >> c) ≤ i − start`), so reading in order and clearing each slot before
   * adding to its target keeps every count exactly once.
   */
  downscale(change: number): void {
    if (change <= 0 || this.length === 0) return;
    const cap = this.counts.length;
    const start = this.start;
    const newStart = start >> change;
    for (let k = 0; k < this.length; k++) {
      let src = this.head + k;
      if (src >= cap) src -= cap;
      const v = this.counts[src]!;
      if (v === 0) continue;
      this.counts[src] = 0;
      let dst = this.head + (((start + k) >> change) - newStart);
      if (dst >= cap) dst -= cap;
      this.counts[dst]! += v;
    }
    this.length = (this.end >> change) - newStart + 1;
    this.start = newStart;
  }

  /**
   * Moves the counts of every bucket below `newStart` into bucket `newStart`, so that the run
   * starts there. Used only when a range cannot fit in `maxSize` buckets even at the minimum scale.
   */
  foldLow(newStart: number, maxSize: number): void {
    if (this.length === 0 || newStart <= this.start) return;
    const cap = this.counts.length;
    const drop = Math.min(newStart - this.start, this.length);
    let moved = 0;
    for (let k = 0; k < drop; k++) {
      let slot = this.head + k;
      if (slot >= cap) slot -= cap;
      moved += this.counts[slot]!;
      this.counts[slot] = 0;
    }
    if (drop === this.length) {
      this.length = 0;
    } else {
      this.head += drop;
      if (this.head >= cap) this.head -= cap;
      this.start += drop;
      this.length -= drop;
    }
    if (moved !== 0) this.add(newStart, moved, maxSize);
  }

  /** Empties the run in place, keeping the capacity for the next interval. */
  reset(): void {
    const cap = this.counts.length;
    if (this.head + this.length <= cap) {
      this.counts.fill(0, this.head, this.head + this.length);
    } else {
      this.counts.fill(0, this.head);
      this.counts.fill(0, 0, this.head + this.length - cap);
    }
    this.start = 0;
    this.length = 0;
    this.head = 0;
  }

  /**
   * The run as a contiguous view (`view[k]` = bucket `start + k`), valid until the next mutation.
   * Cold path. A run that wraps around the end of the store is first rotated to slot 0 (in place);
   * the view object is cached, so a run that did not change since the last call (a cumulative
   * state between collections) costs no allocation.
   */
  view(): Float64Array {
    const c = this.counts;
    if (this.head + this.length > c.length) {
      // Rotate left by `head` with three reversals: in place, no second buffer.
      c.subarray(0, this.head).reverse();
      c.subarray(this.head).reverse();
      c.reverse();
      this.head = 0;
    }
    const v = this.#view;
    if (v !== undefined && v.buffer === c.buffer && v.byteOffset === this.head * 8 && v.length === this.length) {
      return v;
    }
    return (this.#view = c.subarray(this.head, this.head + this.length));
  }
  // The only allocation of a histogram: at the first count, then at most log2(maxSize / 16) times
  // per ring over the life of a series (reset keeps the store).
  #grow(needed: number, maxSize: number): void {
    const cap = this.counts.length;
    const next = new Float64Array(Math.min(maxSize, Math.max(needed, cap * 2, INITIAL_CAPACITY)));
    const tail = Math.min(this.length, cap - this.head);
    next.set(this.counts.subarray(this.head, this.head + tail), 0);
    if (tail < this.length) next.set(this.counts.subarray(0, this.length - tail), tail);
    this.counts = next;
    this.head = 0;
  }
}
