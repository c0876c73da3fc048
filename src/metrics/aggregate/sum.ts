/**
 * Sum aggregation (metrics SDK spec, "Sum Aggregation"): the arithmetic sum of the
 * measurements; monotonic for counters and histograms, not for up-down counters.
 */
import type { BinaryWriter } from '../../otlp/encode/binary-writer.js';
import { NO_ATTRS, numberPoint, writeNumberDataPoint, type NumberPoint } from '../../otlp/encode/metrics.js';
import { varintSize } from '../../otlp/wire.js';
import type { Attributes } from '../../otlp/types.js';
import { Columns, Series, type Aggregator } from '../series.js';

/** Interval cell: the sum of what was added since the last drain. */
export class SumSeries extends Series {
  v = 0;

  measure(value: number): void {
    this.v += value;
    this.n = 1;
  }

  reset(): void {
    this.v = 0;
    this.n = 0;
  }
}

/** Size of a NumberDataPoint with both times set, tag and length included. */
export function numberPointSize(attrsLength: number, timesLen: number): number {
  const len = timesLen + 9 + attrsLength;
  return 1 + varintSize(len) + len;
}

/**
 * A consumer's number values by slot, written as NumberDataPoints. Sum and last value
 * differ only in how a drained interval cell folds into the column (`merge`).
 */
export abstract class NumberColumns extends Columns {
  v: Float64Array;
  /** The point written for every slot, refilled per point. */
  readonly point: NumberPoint;

  constructor(
    delta: boolean,
    capacity: number,
    readonly isInt: boolean,
  ) {
    super(delta, capacity);
    this.v = new Float64Array(capacity);
    this.point = numberPoint(isInt);
  }

  protected growData(capacity: number): void {
    const v = new Float64Array(capacity);
    v.set(this.v);
    this.v = v;
  }

  clear(slot: number): void {
    this.v[slot] = 0;
    this.has[slot] = 0;
  }

  pointSize(_slot: number, attrs: Uint8Array, timesLen: number): number {
    return numberPointSize(attrs.length, timesLen);
  }

  writePoint(w: BinaryWriter, slot: number, attrs: Uint8Array, startNs: bigint, timeNs: bigint): void {
    const p = this.point;
    p.attrs = attrs;
    p.startNs = startNs;
    p.timeNs = timeNs;
    p.value = this.v[slot] as number;
    writeNumberDataPoint(w, p);
    // Not kept past the write: the view may pin a released attribute chunk.
    p.attrs = NO_ATTRS;
  }
}

/** A consumer's sums (running totals or pending deltas) by slot. */
export class SumColumns extends NumberColumns {
  merge(slot: number, s: Series): void {
    this.v[slot] = this.v[slot]! + (s as SumSeries).v;
    this.has[slot] = 1;
  }
}

/** Builds a Sum aggregator; `isInt` writes `as_int` points (INT instruments). */
export function sumAggregator(monotonic: boolean, isInt: boolean): Aggregator {
  return {
    data: 'sum',
    monotonic,
    hasTemporality: true,
    newSeries: (attrs: Attributes, ac: number, created: bigint, slot: number) => new SumSeries(attrs, ac, created, slot),
    newColumns: (delta: boolean, capacity: number) => new SumColumns(delta, capacity, isInt),
  };
}
