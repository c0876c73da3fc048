/**
 * Last Value aggregation (metrics SDK spec, "Last Value Aggregation"): the last
 * measurement, written as a Gauge. A drain overwrites the consumer's value, so a
 * cumulative consumer keeps the last value ever seen and a delta consumer reports a
 * series only when it was measured since its previous collection.
 */
import type { Attributes } from '../../otlp/types.js';
import { Series, type Aggregator } from '../series.js';
import { NumberColumns } from './sum.js';

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

/** A consumer's last values by slot: a drain overwrites. */
export class LastValueColumns extends NumberColumns {
  merge(slot: number, s: Series): void {
    this.v[slot] = (s as LastValueSeries).v;
    this.has[slot] = 1;
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
