/**
 * One metric stream of a synchronous instrument (an instrument × a matching view):
 * its series, found by attribute set; the cardinality limit; and the columns of every
 * registered consumer.
 *
 * Lifecycle of a series (STYLE.md §8, "one recording, many consumers"):
 * - created on the first measurement of a new attribute set, unless the stream already
 *   holds `limit - 1` series: then the measurement goes to the overflow series
 *   (`otel.metric.overflow=true`). The decision is made only here, at creation.
 * - each collection by any consumer drains every measured series into the columns of
 *   every consumer in one synchronous pass and resets its interval cell in place.
 * - a series with nothing measured, nothing pending in any consumer, no bound handle
 *   and no cumulative consumer on the stream is reclaimed: its memory and its slot
 *   (and so its place under the limit) are freed. A cumulative consumer holds every
 *   series it has seen for the life of the process, so under one the limit is final.
 */
import { warnOnce } from '../internal/warn.js';
import { encodeKeyValues } from '../otlp/encode/common.js';
import { POINT_ATTRIBUTES_FIELD } from '../otlp/encode/metrics.js';
import type { Attributes } from '../otlp/types.js';
import {
  AttributeTable,
  attributesHash,
  copyAttributes,
  sameAttributes,
  withCommonAttributes,
  sameExcluded,
  sameIncluded,
  type AttributeFilter,
} from './attribute-key.js';
import { AttributeSlab } from './attribute-slab.js';
import type { StreamInfo } from './stream-info.js';
import type { RequestBuilder } from './request-builder.js';
import type { Aggregator, Columns, Series } from './series.js';

/** Attributes of the overflow series (metrics SDK spec, "Cardinality limits"). */
export const OVERFLOW_ATTRIBUTES: Attributes = Object.freeze({ 'otel.metric.overflow': true });
const NO_ATTRIBUTES: Attributes = Object.freeze({});

/** A stream of a synchronous instrument. */
export class SyncStream {
  /** Caller attribute objects seen twice → their series (checked by the guard). */
  readonly weak = new WeakMap<object, Series>();
  /** Attribute sets → series (the overflow series is not in it). */
  readonly table = new AttributeTable<Series>();
  /** Live series by slot; holes are in `free`. */
  readonly bySlot: (Series | undefined)[] = [];
  readonly free: number[] = [];
  /** Slots every column can hold. */
  capacity = 0;
  /** Live series, the overflow series excluded. */
  count = 0;
  /** The no-attribute series, for `add(v)` without attributes. */
  empty: Series | undefined = undefined;
  overflow: Series | undefined = undefined;
  /** Series held by bound handles: never reclaimed. */
  readonly pinned = new Set<Series>();
  /** Encoded attributes of the series. */
  readonly slab = new AttributeSlab();
  /** Time of the last drain (initially the instrument's creation): the start of new series. */
  since: bigint;
  /** By consumer slot (the provider's registration order); undefined once unregistered. */
  readonly cols: (Columns | undefined)[] = [];
  /** How many of `cols` are cumulative. */
  cumulative = 0;

  constructor(
    readonly info: StreamInfo,
    readonly agg: Aggregator,
    readonly filter: AttributeFilter,
    readonly limit: number,
  ) {
    this.since = info.created;
  }

  /** Hot path: the series of `attrs`. */
  lookup(attrs: Attributes): Series {
    const s = this.weak.get(attrs);
    if (s !== undefined && s.slot >= 0 && this.#same(attrs, s)) return s;
    return this.find(attrs);
  }

  /** Hot path: the series without attributes. */
  noAttributes(): Series {
    return this.empty ?? this.find(NO_ATTRIBUTES);
  }

  #same(attrs: Attributes, s: Series): boolean {
    const f = this.filter;
    if (f.mode === 'all') return sameAttributes(attrs, s.attrs, s.ac);
    if (f.mode === 'include') return s.ac >= 0 && sameIncluded(attrs, s.attrs, f.keys);
    return sameExcluded(attrs, s.attrs, s.ac, f.set);
  }

  /** The series of `attrs` by hash, created if new (or the overflow series). */
  find(attrs: Attributes): Series {
    const h = attributesHash(attrs, this.filter);
    let s = this.table.find(attrs, h, this.filter);
    if (s === undefined) {
      s = this.#create(attrs, h);
      // Not remembered: once slots free up, the next call may get its own series.
      if (s === this.overflow) return s;
    }
    if (s.last === attrs) this.weak.set(attrs, s);
    else s.last = attrs;
    return s;
  }

  /** The series of `attrs` for a bound handle: pinned, never reclaimed. */
  bind(attrs: Attributes | undefined): Series {
    const s = attrs === undefined ? this.noAttributes() : this.lookup(attrs);
    this.pinned.add(s);
    return s;
  }

  #allocSlot(): number {
    const f = this.free.pop();
    if (f !== undefined) return f;
    const slot = this.bySlot.length;
    if (slot >= this.capacity) {
      this.capacity = Math.max(16, this.capacity * 2);
      for (const c of this.cols) c?.grow(this.capacity);
    }
    this.bySlot.push(undefined);
    return slot;
  }

  #create(attrs: Attributes, h: number): Series {
    if (this.count >= this.limit - 1) return this.#overflowSeries();
    const copy = copyAttributes(attrs, this.filter);
    const slot = this.#allocSlot();
    const s = this.agg.newSeries(copy.attrs, copy.count, this.since, slot);
    this.bySlot[slot] = s;
    this.table.insert(s, h);
    this.count++;
    if (copy.count === 0) this.empty = s;
    return s;
  }

  #overflowSeries(): Series {
    let s = this.overflow;
    if (s === undefined) {
      warnOnce(
        `cardinality:${this.info.scopeKey}:${this.info.name}`,
        `metric "${this.info.name}" reached its cardinality limit of ${this.limit}; new attribute sets go to the otel.metric.overflow series`,
      );
      const slot = this.#allocSlot();
      s = this.agg.newSeries(OVERFLOW_ATTRIBUTES, -1, this.since, slot);
      this.bySlot[slot] = s;
      this.overflow = s;
    }
    return s;
  }

  #reclaim(s: Series): void {
    const slot = s.slot;
    if (s !== this.overflow) this.table.remove(s);
    if (s.bo >= 0) this.slab.free(s.bo);
    for (const c of this.cols) c?.free(slot);
    this.bySlot[slot] = undefined;
    this.free.push(slot);
    s.slot = -1;
    s.last = undefined;
    if (s === this.overflow) this.overflow = undefined;
    else this.count--;
    if (s === this.empty) this.empty = undefined;
  }

  /**
   * Adds the columns of the next consumer slot: `delta` per its temporality for this
   * stream, or `undefined` for a slot whose consumer is gone.
   */
  addConsumer(delta: boolean | undefined): void {
    this.cols.push(delta === undefined ? undefined : this.agg.newColumns(delta, this.capacity));
    if (delta === false) this.cumulative++;
  }

  /** Drops the columns of consumer slot `slot`. */
  removeConsumer(slot: number): void {
    const c = this.cols[slot];
    if (c === undefined) return;
    this.cols[slot] = undefined;
    if (!c.delta) this.cumulative--;
  }

  /**
   * Drains every measured series into every consumer's columns and resets it; reclaims
   * series that nobody holds any more. Synchronous: no measurement can interleave.
   * `now` becomes the start of the series created from here on.
   */
  drain(now: bigint): void {
    const cols = this.cols;
    const nc = cols.length;
    const bySlot = this.bySlot;
    const canReclaim = this.cumulative === 0;
    let reclaimed = false;
    for (let i = 0; i < bySlot.length; i++) {
      const s = bySlot[i];
      if (s === undefined) continue;
      if (s.n !== 0) {
        for (let c = 0; c < nc; c++) cols[c]?.merge(i, s);
        s.reset();
      } else if (canReclaim && !held(cols, i) && !this.pinned.has(s)) {
        this.#reclaim(s);
        reclaimed = true;
      }
    }
    if (reclaimed && this.slab.wasteful) this.slab.compact(this.#live());
    this.since = now;
  }

  *#live(): Iterable<Series> {
    for (const s of this.bySlot) if (s !== undefined) yield s;
  }

  /**
   * The encoded attributes of `s` (the common attributes included), encoded into the slab at its
   * first emission: once per series.
   */
  #bytes(s: Series): Uint8Array {
    if (s.bo < 0) {
      const attrs = withCommonAttributes(this.info.commonAttributes, s.attrs);
      s.bo = this.slab.add(encodeKeyValues(POINT_ATTRIBUTES_FIELD[this.agg.data], attrs));
    }
    return this.slab.read(s.bo);
  }

  /**
   * Writes the points consumer slot `slot` holds. Delta: `start` for every point, and
   * the slots are cleared. Cumulative: each series starts at its `created` or at the
   * consumer's registration, whichever is later.
   */
  emit(b: RequestBuilder, slot: number, start: bigint, registered: bigint, time: bigint): void {
    const col = this.cols[slot];
    if (col === undefined) return;
    const agg = this.agg;
    b.metric(this.info.name, this.info.description, this.info.unit, agg.data, agg.hasTemporality ? (col.delta ? 1 : 2) : 0, agg.monotonic);
    const has = col.has;
    const bySlot = this.bySlot;
    for (let i = 0; i < bySlot.length; i++) {
      if (has[i] === 0) continue;
      const s = bySlot[i] as Series;
      const bytes = this.#bytes(s);
      const st = col.delta ? start : s.created > registered ? s.created : registered;
      const timesLen = (st !== 0n ? 9 : 0) + (time !== 0n ? 9 : 0);
      if (b.reserve(col.pointSize(i, bytes, timesLen))) col.writePoint(b.w, i, bytes, st, time);
      if (col.delta) col.clear(i);
    }
  }
}

function held(cols: (Columns | undefined)[], slot: number): boolean {
  for (let c = 0; c < cols.length; c++) {
    const col = cols[c];
    if (col !== undefined && col.has[slot] !== 0) return true;
  }
  return false;
}
