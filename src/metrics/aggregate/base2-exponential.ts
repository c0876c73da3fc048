/**
 * Base-2 Exponential Bucket Histogram aggregation wired into streams: the cell itself
 * (bucketing, scale changes, merging) is `ExponentialHistogramCell` from
 * exponential-histogram.ts; this file gives it the series/columns shape.
 */
import type { BinaryWriter } from '../../otlp/encode/binary-writer.js';
import { varintSize } from '../../otlp/wire.js';
import type { Attributes } from '../../otlp/types.js';
import { Columns, Series, type Aggregator } from '../series.js';
import { ExponentialHistogramCell } from './exponential-histogram.js';

/** Interval cell: one exponential histogram, reset in place by each drain. */
export class ExponentialSeries extends Series {
  readonly cell: ExponentialHistogramCell;

  constructor(attrs: Attributes, ac: number, created: bigint, slot: number, maxSize: number, maxScale: number) {
    super(attrs, ac, created, slot);
    this.cell = new ExponentialHistogramCell(maxSize, maxScale);
  }

  measure(value: number): void {
    // record() refuses NaN and ±Infinity.
    if (this.cell.record(value)) this.n = 1;
  }

  reset(): void {
    this.cell.reset();
    this.n = 0;
  }
}

function bucketsSize(offset: number, counts: ArrayLike<number>): number {
  let len = 0;
  if (offset !== 0) len += 1 + varintSize(((offset << 1) ^ (offset >> 31)) >>> 0);
  const n = counts.length;
  if (n > 0) {
    let packed = 0;
    for (let i = 0; i < n; i++) packed += varintSize(counts[i] as number);
    len += 1 + varintSize(packed) + packed;
  }
  return len;
}

/**
 * Encoded size of `cell.write(...)`, tag and length included: mirrors the choices
 * `ExponentialHistogramCell.write` documents (both ranges always present, scale 0
 * when no bucket is used, min/max only when the cell holds values).
 */
export function exponentialPointSize(
  cell: ExponentialHistogramCell,
  attrsLength: number,
  timesLen: number,
  withSum: boolean,
  withMinMax: boolean,
): number {
  const pos = bucketsSize(cell.positiveOffset, cell.positiveCounts);
  const neg = bucketsSize(cell.negativeOffset, cell.negativeCounts);
  const empty = cell.positiveCounts.length === 0 && cell.negativeCounts.length === 0;
  const scale = empty ? 0 : cell.scale;
  let len = attrsLength + timesLen;
  if (cell.count !== 0) len += 9;
  if (withSum) len += 9;
  if (scale !== 0) len += 1 + varintSize(((scale << 1) ^ (scale >> 31)) >>> 0);
  if (cell.zeroCount !== 0) len += 9;
  len += 1 + varintSize(pos) + pos;
  len += 1 + varintSize(neg) + neg;
  if (withMinMax && cell.count !== 0) len += 18;
  return 1 + varintSize(len) + len;
}

/** A consumer's exponential histograms by slot; cells are kept and reset for reuse. */
export class ExponentialColumns extends Columns {
  cells: (ExponentialHistogramCell | undefined)[];

  constructor(
    delta: boolean,
    capacity: number,
    readonly maxSize: number,
    readonly maxScale: number,
    readonly withSum: boolean,
    readonly withMinMax: boolean,
  ) {
    super(delta, capacity);
    this.cells = new Array<ExponentialHistogramCell | undefined>(capacity).fill(undefined);
  }

  protected growData(capacity: number): void {
    while (this.cells.length < capacity) this.cells.push(undefined);
  }

  merge(slot: number, s: Series): void {
    let cell = this.cells[slot];
    if (cell === undefined) {
      cell = new ExponentialHistogramCell(this.maxSize, this.maxScale);
      this.cells[slot] = cell;
    }
    cell.mergeFrom((s as ExponentialSeries).cell);
    this.has[slot] = 1;
  }

  clear(slot: number): void {
    this.cells[slot]?.reset();
    this.has[slot] = 0;
  }

  override free(slot: number): void {
    this.cells[slot] = undefined;
    this.has[slot] = 0;
  }

  pointSize(slot: number, attrs: Uint8Array, timesLen: number): number {
    const cell = this.cells[slot] as ExponentialHistogramCell;
    return exponentialPointSize(cell, attrs.length, timesLen, this.withSum, this.withMinMax);
  }

  writePoint(w: BinaryWriter, slot: number, attrs: Uint8Array, startNs: bigint, timeNs: bigint): void {
    (this.cells[slot] as ExponentialHistogramCell).write(w, attrs, startNs, timeNs, 0, this.withSum, this.withMinMax);
  }
}

/** Builds a base-2 exponential histogram aggregator (`maxSize`, `maxScale` validated). */
export function exponentialAggregator(maxSize: number, maxScale: number, withSum: boolean, withMinMax: boolean): Aggregator {
  return {
    data: 'exponentialHistogram',
    monotonic: false,
    hasTemporality: true,
    newSeries: (attrs: Attributes, ac: number, created: bigint, slot: number) => new ExponentialSeries(attrs, ac, created, slot, maxSize, maxScale),
    newColumns: (delta: boolean, capacity: number) => new ExponentialColumns(delta, capacity, maxSize, maxScale, withSum, withMinMax),
  };
}
