/**
 * The two halves of an aggregation, opentelemetry-go style:
 * - `Series`: the hot half. One per attribute set of a stream; its fields are the
 *   interval cell (what was measured since the last drain) that `measure()` updates
 *   without allocating, reading a clock or looking up an option.
 * - `Columns`: the cold half. One per (consumer, stream): the consumer's state for
 *   every series of the stream, stored column-wise by series slot (a running total for
 *   a cumulative consumer, the pending interval for a delta consumer). A drain merges
 *   each measured interval cell into every consumer's columns and resets the cell.
 *
 * Temporality only changes what emission does after writing a point: a delta
 * consumer clears the slot, a cumulative one keeps it. The merge is the same.
 */
import type { BinaryWriter } from '../otlp/encode/binary-writer.js';
import type { Attributes } from '../otlp/types.js';
import type { MetricDataKind } from '../otlp/encode/metrics.js';
import type { Keyed } from './attribute-key.js';

/**
 * Common fields of every series; subclasses add the interval cell. Kept few (each is
 * 8 bytes × every series): the hash, the attribute bytes and the pinned flag live in
 * the stream (recomputed, in a slab, in a set).
 */
export abstract class Series implements Keyed<Series> {
  /** The series' own copy of its (filtered) attributes, sorted by key. */
  readonly attrs: Attributes;
  /** Number of entries in `attrs`; -1 for the overflow series, so no guard matches it. */
  readonly ac: number;
  /** Next series in the same bucket of the stream's table. */
  next: Series | undefined = undefined;
  /** Offset of the encoded attributes in the stream's slab; -1 until first emitted. */
  bo = -1;
  /**
   * Start of a cumulative consumer's points: the stream's last drain before the series
   * was created (a shared bigint, and no clock read on the hot path).
   */
  readonly created: bigint;
  /** Index in the stream's columns; -1 once reclaimed. */
  slot: number;
  /** 1 when the interval cell holds a measurement. */
  n = 0;
  /**
   * The caller object last resolved to this series by hash: seeing it again means the
   * caller reuses it, and only then is it put in the WeakMap (fresh literals are not).
   */
  last: object | undefined = undefined;

  constructor(attrs: Attributes, ac: number, created: bigint, slot: number) {
    this.attrs = attrs;
    this.ac = ac;
    this.created = created;
    this.slot = slot;
  }

  /** Hot path: adds one measurement to the interval cell. */
  abstract measure(value: number): void;
  /** Empties the interval cell in place. */
  abstract reset(): void;
}

/** Per (consumer, stream) state, by series slot. */
export abstract class Columns {
  /** 1 where the consumer holds something to report for the slot. */
  has: Uint8Array;

  constructor(
    /** Delta: emission clears what it wrote. Cumulative: it stays. */
    readonly delta: boolean,
    capacity: number,
  ) {
    this.has = new Uint8Array(capacity);
  }

  /** Grows every column to `capacity` slots, keeping the contents. */
  grow(capacity: number): void {
    const has = new Uint8Array(capacity);
    has.set(this.has);
    this.has = has;
    this.growData(capacity);
  }

  protected abstract growData(capacity: number): void;
  /** Merges the interval cell of `s` into slot `slot` and marks it. */
  abstract merge(slot: number, s: Series): void;
  /** Empties slot `slot` (after a delta emission, or when the series is reclaimed). */
  abstract clear(slot: number): void;
  /** Releases slot `slot` for reuse by another series (the series was reclaimed). */
  free(slot: number): void {
    this.clear(slot);
  }
  /** Encoded size of the point `writePoint` would write, tag and length included. */
  abstract pointSize(slot: number, attrs: Uint8Array, timesLen: number): number;
  /** Writes slot `slot` as one data point. */
  abstract writePoint(w: BinaryWriter, slot: number, attrs: Uint8Array, startNs: bigint, timeNs: bigint): void;
}

/** A resolved aggregation for one stream: makes its series and its consumers' columns. */
export interface Aggregator {
  /** The `Metric.data` case written. */
  readonly data: MetricDataKind;
  /** `Sum.is_monotonic` (sums only). */
  readonly monotonic: boolean;
  /** Whether temporality is written (false for Gauge). */
  readonly hasTemporality: boolean;
  newSeries(attrs: Attributes, ac: number, created: bigint, slot: number): Series;
  newColumns(delta: boolean, capacity: number): Columns;
}
