/**
 * Readers of the parts of an encoded `ResourceMetrics` that a processor changing metric points
 * needs (the gateway's temporality conversion): a metric's identity and temporality, and the
 * fields of each data point kind, read into reusable shapes with the byte positions of what a
 * same-length patch may overwrite. The points are written back with the library's point writers
 * (encode/metrics.ts); fields a processor does not rebuild (attributes, exemplars, unknown
 * fields) are carried over as bytes (`carriedBytes`).
 *
 * Field numbers (proto/opentelemetry/proto/metrics/v1/metrics.proto): ResourceMetrics { resource
 * 1, scope_metrics 2 }; ScopeMetrics { scope 1, metrics 2 }; Metric { name 1, description 2,
 * unit 3, gauge 5, sum 7, histogram 9, exponential_histogram 10, summary 11, metadata 12 };
 * Sum { data_points 1, aggregation_temporality 2, is_monotonic 3 }; Histogram and
 * ExponentialHistogram { data_points 1, aggregation_temporality 2 }. Point fields at each reader.
 */
import { type Cursor, WireFormatError } from './scan.js';
import { I64, LEN, VARINT } from './wire.js';

/** `Metric.data` fields. */
export const GAUGE = 5;
export const SUM = 7;
export const HISTOGRAM = 9;
export const EXPONENTIAL_HISTOGRAM = 10;
export const SUMMARY = 11;

/** `AggregationTemporality` values. */
export const DELTA = 1;
export const CUMULATIVE = 2;

/** `DataPointFlags.FLAG_NO_RECORDED_VALUE`: the stream ended (a staleness marker). */
export const NO_RECORDED_VALUE = 1;

/** Byte ranges of fields, reused: typed arrays and a count (emptying an array by `length = 0` gives its storage back, and the next push allocates again). */
export class Ranges {
  start = new Int32Array(8);
  end = new Int32Array(8);
  length = 0;
  clear(): void {
    this.length = 0;
  }
  /** Adds [start, end); a range that continues the last one extends it (attributes usually lie together). */
  add(start: number, end: number): void {
    const n = this.length;
    if (n > 0 && this.end[n - 1] === start) {
      this.end[n - 1] = end;
      return;
    }
    if (n === this.start.length) {
      const s = new Int32Array(n * 2);
      s.set(this.start);
      this.start = s;
      const e = new Int32Array(n * 2);
      e.set(this.end);
      this.end = e;
    }
    this.start[n] = start;
    this.end[n] = end;
    this.length = n + 1;
  }
}

/** What identifies a metric and how its points are aggregated. */
export class MetricFields {
  /** Whole `name` and `unit` fields (tag included); -1 when absent. */
  nameStart = -1;
  nameEnd = -1;
  unitStart = -1;
  unitEnd = -1;
  /** The `data` field number (GAUGE … SUMMARY), 0 when none. */
  data = 0;
  /** The data message's payload. */
  dataStart = 0;
  dataEnd = 0;
  /** `aggregation_temporality` and where its one-byte varint value is (-1: absent or not one byte). */
  temporality = 0;
  temporalityAt = -1;
  monotonic = false;
}

/** Reads the Metric in `c` (its payload) into `out`; `d` is the cursor the data message is read with. */
export function readMetric(c: Cursor, d: Cursor, out: MetricFields): void {
  out.nameStart = out.nameEnd = out.unitStart = out.unitEnd = -1;
  out.data = 0;
  out.temporality = 0;
  out.temporalityAt = -1;
  out.monotonic = false;
  while (c.pos < c.end) {
    const fieldStart = c.pos;
    c.tag();
    const f = c.field;
    const w = c.wire;
    if (w === LEN && (f === 1 || f === 3 || (f >= GAUGE && f <= SUMMARY && f !== 6 && f !== 8))) {
      const e = c.len();
      if (f === 1) {
        out.nameStart = fieldStart;
        out.nameEnd = e;
      } else if (f === 3) {
        out.unitStart = fieldStart;
        out.unitEnd = e;
      } else {
        out.data = f;
        out.dataStart = c.pos;
        out.dataEnd = e;
      }
      c.pos = e;
    } else {
      c.skip(w, f);
    }
  }
  if (out.data !== SUM && out.data !== HISTOGRAM && out.data !== EXPONENTIAL_HISTOGRAM) return;
  d.on(c.buf, out.dataStart, out.dataEnd);
  while (d.pos < d.end) {
    d.tag();
    const f = d.field;
    const w = d.wire;
    if (f === 2 && w === VARINT) {
      const at = d.pos;
      out.temporality = d.varint();
      out.temporalityAt = d.pos === at + 1 ? at : -1;
    } else if (f === 3 && w === VARINT && out.data === SUM) {
      out.monotonic = d.varint() !== 0;
    } else {
      d.skip(w, f);
    }
  }
}

/**
 * The fields every point kind shares. Times are fixed64 read as two words; a field absent from
 * the point has its position at -1 and reads 0.
 */
export abstract class PointFields {
  /** Attribute fields (tag included), in order: the stream's identity within its metric. */
  readonly attributes = new Ranges();
  /** The point message (its payload) in the buffer read. */
  pointStart = 0;
  pointEnd = 0;
  startAt = -1;
  startHi = 0;
  startLo = 0;
  timeAt = -1;
  timeHi = 0;
  timeLo = 0;
  flags = 0;

  /** Whether field `no` is one the point writers write themselves (not carried over). */
  protected abstract rebuilt(no: number): boolean;

  protected clearCommon(c: Cursor): void {
    this.attributes.clear();
    this.pointStart = c.pos;
    this.pointEnd = c.end;
    this.startAt = this.timeAt = -1;
    this.startHi = this.startLo = this.timeHi = this.timeLo = 0;
    this.flags = 0;
  }

  protected readTimes(c: Cursor, view: DataView, isStart: boolean): void {
    const at = c.pos;
    c.fixed(8);
    if (isStart) {
      this.startAt = at;
      this.startLo = view.getUint32(at, true);
      this.startHi = view.getUint32(at + 4, true);
    } else {
      this.timeAt = at;
      this.timeLo = view.getUint32(at, true);
      this.timeHi = view.getUint32(at + 4, true);
    }
  }

  /**
   * The fields a point writer does not write, as they are (attributes, exemplars, unknown fields),
   * as one byte string: the writers' `attrs`, which they splice in unchanged. Found by walking the
   * point again: only a point written again (the slow path) needs them.
   */
  carriedBytes(c: Cursor, buf: Uint8Array): Uint8Array {
    const keep = new Ranges();
    c.on(buf, this.pointStart, this.pointEnd);
    while (c.pos < c.end) {
      const fieldStart = c.pos;
      c.tag();
      const f = c.field;
      c.skip(c.wire, f);
      if (!this.rebuilt(f)) keep.add(fieldStart, c.pos);
    }
    if (keep.length === 1) return buf.subarray(keep.start[0], keep.end[0]);
    let size = 0;
    for (let i = 0; i < keep.length; i++) size += keep.end[i]! - keep.start[i]!;
    const out = new Uint8Array(size);
    for (let i = 0, at = 0; i < keep.length; i++) {
      out.set(buf.subarray(keep.start[i], keep.end[i]), at);
      at += keep.end[i]! - keep.start[i]!;
    }
    return out;
  }
}

/**
 * A NumberDataPoint { start_time_unix_nano 2 (fixed64), time_unix_nano 3 (fixed64), as_double 4,
 * exemplars 5, as_int 6 (sfixed64), attributes 7, flags 8 }.
 */
export class NumberPointFields extends PointFields {
  /** Where the value's 8 bytes are; -1 when the point has none. */
  valueAt = -1;
  isInt = false;
  /** The double value, or the int64 as two words. */
  double = 0;
  valueHi = 0;
  valueLo = 0;

  protected rebuilt(no: number): boolean {
    return no === 2 || no === 3 || no === 4 || no === 6 || no === 8;
  }

  /**
   * Reads the point in `c`. The fields every SDK writes are recognised by their one-byte tags
   * inline (a cursor call per field cost ~150 ns per point, a third of a conversion); anything
   * else, and any field that would run past the point, goes through the cursor's checked reads.
   */
  read(c: Cursor, view: DataView): void {
    this.clearCommon(c);
    this.valueAt = -1;
    this.isInt = false;
    const buf = c.buf;
    const end = c.end;
    let pos = c.pos;
    while (pos < end) {
      const tag = buf[pos]!;
      if ((tag === 0x11 || tag === 0x19 || tag === 0x21 || tag === 0x31) && pos + 9 <= end) {
        const at = pos + 1;
        const lo = view.getUint32(at, true);
        const hi = view.getUint32(at + 4, true);
        if (tag === 0x11) {
          this.startAt = at;
          this.startLo = lo;
          this.startHi = hi;
        } else if (tag === 0x19) {
          this.timeAt = at;
          this.timeLo = lo;
          this.timeHi = hi;
        } else {
          this.valueAt = at;
          this.isInt = tag === 0x31;
          if (tag === 0x21) this.double = view.getFloat64(at, true);
          else {
            this.valueLo = lo;
            this.valueHi = hi | 0;
          }
        }
        pos += 9;
        continue;
      }
      if (tag === 0x3a && pos + 2 <= end) {
        // attributes = 7: a length of one or two varint bytes covers any attribute up to 16 KiB.
        const b1 = buf[pos + 1]!;
        let next = -1;
        if (b1 < 0x80) next = pos + 2 + b1;
        else if (pos + 3 <= end && buf[pos + 2]! < 0x80) next = pos + 3 + ((b1 & 0x7f) | (buf[pos + 2]! << 7));
        if (next > 0 && next <= end) {
          this.attributes.add(pos, next);
          pos = next;
          continue;
        }
      }
      c.pos = pos;
      const fieldStart = pos;
      c.tag();
      const f = c.field;
      const w = c.wire;
      if (f === 8 && w === VARINT) this.flags = c.varint();
      else if (w === I64 && (f === 2 || f === 3)) this.readTimes(c, view, f === 2);
      else if (w === I64 && (f === 4 || f === 6)) {
        const at = c.pos;
        c.fixed(8);
        this.valueAt = at;
        this.isInt = f === 6;
        if (f === 4) this.double = view.getFloat64(at, true);
        else {
          this.valueLo = view.getUint32(at, true);
          this.valueHi = view.getInt32(at + 4, true);
        }
      } else {
        c.skip(w, f);
        if (f === 7 && w === LEN) this.attributes.add(fieldStart, c.pos);
      }
      pos = c.pos;
    }
    c.pos = pos;
  }
}

/**
 * A HistogramDataPoint { start 2, time 3, count 4 (fixed64), sum 5 (double), bucket_counts 6
 * (packed fixed64), explicit_bounds 7 (packed double), exemplars 8, attributes 9, flags 10,
 * min 11, max 12 }.
 */
export class HistogramFields extends PointFields {
  count = 0;
  sum: number | undefined = undefined;
  min: number | undefined = undefined;
  max: number | undefined = undefined;
  /** Bucket counts (the first `buckets`), and the bounds (the first `bounds`). */
  counts = new Float64Array(32);
  buckets = 0;
  boundValues = new Float64Array(32);
  bounds = 0;

  protected rebuilt(no: number): boolean {
    return (no >= 2 && no <= 7) || no === 10 || no === 11 || no === 12;
  }

  read(c: Cursor, view: DataView): void {
    this.clearCommon(c);
    this.count = 0;
    this.sum = this.min = this.max = undefined;
    this.buckets = this.bounds = 0;
    while (c.pos < c.end) {
      const fieldStart = c.pos;
      c.tag();
      const f = c.field;
      const w = c.wire;
      if (w === I64 && (f === 2 || f === 3)) this.readTimes(c, view, f === 2);
      else if (f === 4 && w === I64) this.count = readUint64(c, view);
      else if ((f === 5 || f === 11 || f === 12) && w === I64) {
        const v = view.getFloat64(c.pos, true);
        c.fixed(8);
        if (f === 5) this.sum = v;
        else if (f === 11) this.min = v;
        else this.max = v;
      } else if (f === 6 && (w === LEN || w === I64)) {
        // Packed, as every encoder writes it, or unpacked, as a parser must accept.
        const end = w === LEN ? c.len() : c.pos + 8;
        while (c.pos < end) {
          if (this.buckets === this.counts.length) this.counts = grow(this.counts);
          this.counts[this.buckets++] = readUint64(c, view);
        }
      } else if (f === 7 && (w === LEN || w === I64)) {
        const end = w === LEN ? c.len() : c.pos + 8;
        while (c.pos < end) {
          if (this.bounds === this.boundValues.length) this.boundValues = grow(this.boundValues);
          this.boundValues[this.bounds++] = view.getFloat64(c.pos, true);
          c.fixed(8);
        }
      } else if (f === 10 && w === VARINT) this.flags = c.varint();
      else {
        c.skip(w, f);
        if (f === 9 && w === LEN) this.attributes.add(fieldStart, c.pos);
      }
    }
  }
}

/**
 * An ExponentialHistogramDataPoint { attributes 1, start 2, time 3, count 4 (fixed64), sum 5,
 * scale 6 (sint32), zero_count 7 (fixed64), positive 8, negative 9 (Buckets { offset 1 (sint32),
 * bucket_counts 2 (packed uint64) }), flags 10, exemplars 11, min 12, max 13, zero_threshold 14 }.
 */
export class ExponentialFields extends PointFields {
  count = 0;
  sum: number | undefined = undefined;
  min: number | undefined = undefined;
  max: number | undefined = undefined;
  scale = 0;
  zeroCount = 0;
  zeroThreshold = 0;
  readonly positive = new BucketRun();
  readonly negative = new BucketRun();

  protected rebuilt(no: number): boolean {
    return (no >= 2 && no <= 10) || no === 12 || no === 13 || no === 14;
  }

  read(c: Cursor, b: Cursor, view: DataView): void {
    this.clearCommon(c);
    this.count = this.scale = this.zeroCount = this.zeroThreshold = 0;
    this.sum = this.min = this.max = undefined;
    this.positive.clear();
    this.negative.clear();
    while (c.pos < c.end) {
      const fieldStart = c.pos;
      c.tag();
      const f = c.field;
      const w = c.wire;
      if (w === I64 && (f === 2 || f === 3)) this.readTimes(c, view, f === 2);
      else if ((f === 4 || f === 7) && w === I64) {
        const v = readUint64(c, view);
        if (f === 4) this.count = v;
        else this.zeroCount = v;
      } else if ((f === 5 || f === 12 || f === 13 || f === 14) && w === I64) {
        const v = view.getFloat64(c.pos, true);
        c.fixed(8);
        if (f === 5) this.sum = v;
        else if (f === 12) this.min = v;
        else if (f === 13) this.max = v;
        else this.zeroThreshold = v;
      } else if (f === 6 && w === VARINT) {
        const z = c.varint();
        this.scale = (z >>> 1) ^ -(z & 1);
      } else if ((f === 8 || f === 9) && w === LEN) {
        const end = c.len();
        b.on(c.buf, c.pos, end);
        (f === 8 ? this.positive : this.negative).read(b);
        c.pos = end;
      } else if (f === 10 && w === VARINT) this.flags = c.varint();
      else {
        c.skip(w, f);
        if (f === 1 && w === LEN) this.attributes.add(fieldStart, c.pos);
      }
    }
    // The data model's bounds: the bucket arithmetic (index >> change) relies on them.
    if (this.scale < -10 || this.scale > 20) throw new WireFormatError(`${c.path}: scale ${this.scale} outside [-10, 20]`);
    for (const r of [this.positive, this.negative]) {
      if (r.offset + r.length > 0x7fffffff) throw new WireFormatError(`${c.path}: buckets past index 2^31`);
    }
  }
}

/** One range of exponential buckets: counts of consecutive indexes from `offset`. */
export class BucketRun {
  offset = 0;
  counts = new Float64Array(16);
  length = 0;

  clear(): void {
    this.offset = 0;
    this.length = 0;
  }

  /** Reads a Buckets message (merged as protobuf merges a repeated field: counts appended). */
  read(c: Cursor): void {
    while (c.pos < c.end) {
      c.tag();
      const f = c.field;
      const w = c.wire;
      if (f === 1 && w === VARINT) {
        const z = c.varint();
        this.offset = (z >>> 1) ^ -(z & 1);
      } else if (f === 2 && (w === LEN || w === VARINT)) {
        const end = w === LEN ? c.len() : -1;
        do {
          if (this.length === this.counts.length) this.counts = grow(this.counts);
          this.counts[this.length++] = c.varint();
        } while (c.pos < end);
      } else {
        c.skip(w, f);
      }
    }
  }
}

/** A fixed64 as a number (exact below 2^53: counts). */
function readUint64(c: Cursor, view: DataView): number {
  const at = c.pos;
  c.fixed(8);
  return view.getUint32(at + 4, true) * 4294967296 + view.getUint32(at, true);
}

function grow(a: Float64Array): Float64Array<ArrayBuffer> {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}
