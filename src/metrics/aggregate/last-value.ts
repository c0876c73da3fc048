/**
 * Last Value aggregation (metrics SDK spec, "Last Value Aggregation"): the last
 * measurement, written as a Gauge. A drain overwrites the consumer's value, so a
 * cumulative consumer keeps the last value ever seen and a delta consumer reports a
 * series only when it was measured since its previous collection.
 */
import type { BinaryWriter } from '@bufbuild/protobuf/wire';
import { writeNumberDataPoint } from '../../otlp/encode/metrics.js';
import type { Attributes } from '../../otlp/types.js';
import { Columns, Series, type Aggregator } from '../series.js';
import { numberPointSize } from './sum.js';

/** Interval cell: the last value measured since the last drain. */
export class LastValueSeries extends Series {
  v = 0;

  measure(value: number): void {
    this.v = value;
    this.n = 1;
  }

  reset(): void {
    this.n = 0;
  }
}

/** A consumer's last values by slot. */
export class LastValueColumns extends Columns {
  v: Float64Array;

  constructor(
    delta: boolean,
    capacity: number,
    readonly isInt: boolean,
  ) {
    super(delta, capacity);
    this.v = new Float64Array(capacity);
  }

  protected growData(capacity: number): void {
    const v = new Float64Array(capacity);
    v.set(this.v);
    this.v = v;
  }

  merge(slot: number, s: Series): void {
    this.v[slot] = (s as LastValueSeries).v;
    this.has[slot] = 1;
  }

  clear(slot: number): void {
    this.v[slot] = 0;
    this.has[slot] = 0;
  }

  pointSize(_slot: number, attrs: Uint8Array, timesLen: number): number {
    return numberPointSize(attrs.length, timesLen);
  }

  writePoint(w: BinaryWriter, slot: number, attrs: Uint8Array, startNs: bigint, timeNs: bigint): void {
    writeNumberDataPoint(w, attrs, startNs, timeNs, this.v[slot] as number, this.isInt);
  }
}

/** Builds a Last Value aggregator. */
export function lastValueAggregator(isInt: boolean): Aggregator {
  return {
    data: 'gauge',
    monotonic: false,
    hasTemporality: false,
    newSeries: (attrs: Attributes, ac: number, created: bigint, slot: number) => new LastValueSeries(attrs, ac, created, slot),
    newColumns: (delta: boolean, capacity: number) => new LastValueColumns(delta, capacity, isInt),
  };
}
