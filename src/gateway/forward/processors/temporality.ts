/**
 * Temporality conversion of one upstream's metrics (`temporality:` on an upstream; docs/gateway.md,
 * Temporality conversion), following the OTLP metrics data model ("Temporality", "Resets and
 * Gaps", "Sums: Delta-to-Cumulative").
 *
 * A stream is its resource, its scope, its metric's identity (name, unit, point kind, monotonicity,
 * temporality; not the description) and its point attributes, as bytes: the same stream must come
 * encoded the same way, as SDKs do (attributes in another order are another stream). Its state is
 * one slot of a StreamTable, found by a 64-bit hash of those bytes.
 *
 * To delta (monotonic sums, histograms, exponential histograms that are cumulative; non-monotonic
 * sums stay cumulative, as an SDK's delta preference keeps up-down counters cumulative; gauges and
 * summaries pass):
 * - a point of a known stream becomes the difference from the stream's previous point, and its
 *   start time the previous point's time: (prev.time, time];
 * - the first point of a stream: `firstPoint: drop` drops it; `auto` passes it as it is when its
 *   start time is before its time and not before the horizon (the state's creation, raised to the
 *   last time of every stream it forgot): the stream then began after the gateway could have seen
 *   any of it, so all of its value is new. Otherwise it is dropped, and counted (`first_point`);
 * - a new run (a later start time) that began at or after the previous point is passed as it is
 *   (its whole value is new); one that began before it overlaps what was sent and is dropped
 *   (`first_point`); an older start time, or a time not after the previous point's, is dropped
 *   (`late`);
 * - a reset without a new start time (a value, a count or a bucket that went down, or a changed
 *   bucket layout) rebases: the point's own value becomes the delta (what accrued since the reset,
 *   as Prometheus counts a counter reset), never a negative delta;
 * - exponential histograms of different scales are both brought to the lower one before the
 *   difference; min and max are dropped (they cannot be derived for an interval, as the data model
 *   says), except on a first point passed as it is.
 *
 * To cumulative (delta sums of any monotonicity, histograms, exponential histograms):
 * - the first point of a stream starts a run: start time and value as they are;
 * - the next point continues it when its start time is the previous point's time (or unknown):
 *   values added, start time the run's; min/max combined;
 * - a point whose time is not after the previous one's is dropped (`late`); one that starts
 *   before the previous point's time (overlapping it) is dropped (`overlap`);
 * - a gap (a start time after the previous point's time), or a changed bucket layout (explicit
 *   bounds, zero threshold), starts a new run with the point's own start time. An SDK that omits
 *   unchanged streams from its delta exports (ours does) therefore makes a new run after every
 *   quiet interval: the data model's rule (a gap may be lost data), and exact for backends that
 *   read start times;
 * - exponential buckets are accumulated at the lowest scale seen, lowered further to keep each
 *   range within max(160, the widest point's buckets).
 *
 * A point flagged "no recorded value" ends its stream: it passes, and the stream's state keeps only
 * that point's time, so that a later first point passes as it is only if it started after it.
 * Int sums are converted in 64-bit integer arithmetic; doubles in double arithmetic.
 *
 * Cost: a sum point whose start time is present (every SDK writes it) is converted by patching
 * its start time and value in one copy of the entry (otlp/entry-edits.ts); histogram points are
 * read and written again. BENCHMARKS.md, Processors, has the figures.
 */
import type { Clock } from '../../../internal/clock.js';
import { ByteHash } from '../../../internal/byte-hash.js';
import { BinaryWriter } from '../../../otlp/encode/binary-writer.js';
import {
  exponentialHistogramPoint,
  histogramPoint,
  numberPoint,
  writeExponentialHistogramDataPoint,
  writeHistogramDataPoint,
  writeNumberDataPoint,
} from '../../../otlp/encode/metrics.js';
import { applyEdits, EntryEdits } from '../../../otlp/entry-edits.js';
import {
  type BucketRun,
  CUMULATIVE,
  DELTA,
  EXPONENTIAL_HISTOGRAM,
  ExponentialFields,
  GAUGE,
  HISTOGRAM,
  HistogramFields,
  MetricFields,
  NO_RECORDED_VALUE,
  NumberPointFields,
  type PointFields,
  readMetric,
  SUM,
} from '../../../otlp/metric-points.js';
import { Cursor, WireFormatError } from '../../../otlp/scan.js';
import { LEN } from '../../../otlp/wire.js';
import type { TemporalityConfig } from '../../config/processors.js';
import type { EntryStep, ProcessContext } from './chain.js';
import { difference, downscale, spanAt, sum, trim } from './exponential-buckets.js';
import type { Buckets, Counts } from './exponential-buckets.js';
import { HELD_DOUBLE, HELD_EXPONENTIAL, HELD_HISTOGRAM, HELD_INT, HELD_NONE, StreamTable } from './stream-table.js';

/** The conversion state of one upstream: kept across pipelines while its settings stay the same (conversions.ts). */
export interface TemporalityState {
  readonly settings: TemporalityConfig;
  readonly table: StreamTable;
}

/** A new, empty state; its horizon is now (no stream began before it that it could have seen). */
export function createTemporalityState(settings: TemporalityConfig, clock: Clock): TemporalityState {
  const table = new StreamTable(settings.maxStreams, settings.staleAfterMillis);
  const now = clock.nowNanos();
  table.horizonHi = Number(now >> 32n);
  table.horizonLo = Number(now & 0xffffffffn);
  return { settings, table };
}

/** Histogram state: replaced on every change (the table's undo keeps the old object). */
interface HistogramState {
  readonly count: number;
  readonly sum: number | undefined;
  readonly min: number | undefined;
  readonly max: number | undefined;
  readonly counts: Counts;
  /** Shared by every stream of the same bounds (`internBounds`). */
  readonly bounds: Float64Array;
}

interface ExponentialState {
  readonly count: number;
  readonly sum: number | undefined;
  readonly min: number | undefined;
  readonly max: number | undefined;
  readonly scale: number;
  readonly zeroCount: number;
  readonly zeroThreshold: number;
  readonly positive: Buckets;
  readonly negative: Buckets;
}

// What a point becomes.
const KEEP = 0;
const DROP_FIRST = 1;
const DROP_LATE = 2;
const DROP_OVERLAP = 3;
const REASONS = [undefined, 'first_point', 'late', 'overlap'] as const;

/** Seeds of the identity hash (arbitrary, fixed: a state outlives pipelines, not processes). */
const SEED_A = 0x6f746c70;
const SEED_B = 0x66616e6f;
/** Distinct explicit-bounds lists shared between streams; a bound on what interning keeps. */
const BOUNDS_KEPT = 256;
/** The spec's default MaxSize: the least a cumulative exponential range may keep before lowering its scale. */
const MIN_MAX_SIZE = 160;
const MIN_SCALE = -10;
const EMPTY = new Uint8Array(0);
const NO_COUNTS = new Float64Array(0);

/** The conversion step of one upstream, over its state. */
export function compileTemporality(state: TemporalityState, clock: Clock): EntryStep {
  const { table, settings } = state;
  const toDelta = settings.to === 'delta';
  const dropFirst = settings.firstPoint === 'drop';
  const edits = new EntryEdits();
  const hash = new ByteHash();
  const writer = new BinaryWriter();
  const metric = new MetricFields();
  const num = new NumberPointFields();
  const hist = new HistogramFields();
  const exp = new ExponentialFields();
  const numberOut = numberPoint(false);
  const histOut = histogramPoint(NO_COUNTS, NO_COUNTS);
  const posOut: { offset: number; counts: Counts } = { offset: 0, counts: NO_COUNTS };
  const negOut: { offset: number; counts: Counts } = { offset: 0, counts: NO_COUNTS };
  // Explicit bounds, one array per distinct list (at most BOUNDS_KEPT lists; past it, one per stream).
  const boundsKept = new Map<string, Float64Array>();
  const internBounds = (values: Float64Array, n: number): Float64Array => {
    const own = values.slice(0, n);
    const key = own.join(',');
    const known = boundsKept.get(key);
    if (known !== undefined) return known;
    if (boundsKept.size < BOUNDS_KEPT) boundsKept.set(key, own);
    return own;
  };
  const expOut = exponentialHistogramPoint(posOut, negOut);
  // One cursor per nesting level, reused.
  const entryC = new Cursor(EMPTY, 0, 0, undefined, 'resource_metrics');
  const scopeC = new Cursor(EMPTY, 0, 0, entryC, 'scope_metrics');
  const metricC = new Cursor(EMPTY, 0, 0, scopeC, 'metrics');
  const dataC = new Cursor(EMPTY, 0, 0, metricC, 'data');
  const pointC = new Cursor(EMPTY, 0, 0, dataC, 'data_points');
  const bucketsC = new Cursor(EMPTY, 0, 0, pointC, 'buckets');

  let buf: Uint8Array = EMPTY;
  let view: DataView = new DataView(new ArrayBuffer(0));
  let now = 0;
  // The stream identity of the point being converted.
  let idHi = 0;
  let idLo = 0;
  let ended = -1;
  /** The slot of the sum point just converted (-1: none), for the layout memo. */
  let lastSlot = -1;
  const layout = new LayoutRecorder();
  const memos = new Map<number, Layout>();
  let memoBytes = 0;
  // A converted number value: a double, or an int64 as two words.
  let outDouble = 0;
  let outLo = 0;
  let outHi = 0;

  const cmp = (aHi: number, aLo: number, bHi: number, bLo: number): number =>
    aHi !== bHi ? (aHi < bHi ? -1 : 1) : aLo !== bLo ? (aLo < bLo ? -1 : 1) : 0;
  const ns = (hi: number, lo: number): bigint => (BigInt(hi) << 32n) | BigInt(lo);

  /** Hashes the point's attributes onto the metric's identity (seeded in `hash` state a/b). */
  function identify(p: PointFields, metricA: number, metricB: number): void {
    hash.seed(metricA, metricB);
    const r = p.attributes;
    for (let i = 0; i < r.length; i++) hash.update(buf, view, r.start[i]!, r.end[i]!);
    idHi = hash.hi;
    idLo = hash.lo;
  }

  /**
   * Whether the first point of a stream may pass as it is: it must start before its time and not
   * before the horizon, nor before the end of the stream's previous life (a stream ended by a "no
   * recorded value" point keeps its slot, holding nothing but that time: `ended`).
   */
  function firstPasses(p: PointFields): boolean {
    if (dropFirst || p.startAt < 0) return false;
    if (cmp(p.startHi, p.startLo, p.timeHi, p.timeLo) >= 0) return false;
    if (cmp(p.startHi, p.startLo, table.horizonHi, table.horizonLo) < 0) return false;
    return ended < 0 || cmp(p.startHi, p.startLo, table.timeHi[ended]!, table.timeLo[ended]!) >= 0;
  }

  /** Ends the stream of a "no recorded value" point: its slot keeps only the point's time. */
  function endStream(p: PointFields): void {
    const slot = table.find(idHi, idLo, now);
    if (slot < 0) return;
    table.save(slot);
    table.held[slot] = HELD_NONE;
    table.extra[slot] = undefined;
    setTimes(slot, p, true);
  }

  /** The slot of the current stream, or -1 when it has no state (then `ended` is its ended slot, or -1). */
  function lookup(): number {
    const slot = table.find(idHi, idLo, now);
    ended = slot >= 0 && table.held[slot] === HELD_NONE ? slot : -1;
    return slot >= 0 && ended < 0 ? slot : -1;
  }

  /** A slot for the current stream's new state (journaled). */
  function claim(): number {
    let slot = table.find(idHi, idLo, now);
    if (slot < 0) slot = table.insert(idHi, idLo, now);
    else table.save(slot);
    return slot;
  }

  function setTimes(slot: number, p: PointFields, start: boolean): void {
    if (start) {
      table.startHi[slot] = p.startHi;
      table.startLo[slot] = p.startLo;
    }
    table.timeHi[slot] = p.timeHi;
    table.timeLo[slot] = p.timeLo;
  }

  /**
   * Where a known stream's point stands against its state: KEEP (continue the run), or a drop, or
   * -1 for a new run. Shared by every point kind.
   */
  function place(slot: number, p: PointFields): number {
    const t = table;
    if (cmp(p.timeHi, p.timeLo, t.timeHi[slot]!, t.timeLo[slot]!) <= 0) return DROP_LATE;
    if (p.startAt < 0) return KEEP; // no start time: nothing tells a reset or a gap apart
    if (toDelta) {
      const c = cmp(p.startHi, p.startLo, t.startHi[slot]!, t.startLo[slot]!);
      if (c < 0) return DROP_LATE;
      return c === 0 ? KEEP : -1;
    }
    const c = cmp(p.startHi, p.startLo, t.timeHi[slot]!, t.timeLo[slot]!);
    if (c < 0) return DROP_OVERLAP;
    return c === 0 ? KEEP : -1;
  }

  /**
   * A new run's first point: passes as it is, except to delta when the run began before the
   * previous point (two runs overlap: a restart whose clock disagrees, or two writers): its value
   * may hold some of what was already sent, so it is dropped and becomes the state.
   */
  function newRun(slot: number, p: PointFields): number {
    if (!toDelta) return KEEP;
    return cmp(p.startHi, p.startLo, table.timeHi[slot]!, table.timeLo[slot]!) >= 0 ? KEEP : DROP_FIRST;
  }

  /** Continues a sum's run with the point in `num`: the value against the state, patched in place. */
  function continueNumber(slot: number, held: number, fieldStart: number, fieldEnd: number): void {
    const p = num;
    table.save(slot);
    const w = table.words;
    const v = table.value;
    if (held === HELD_DOUBLE) {
      const prev = v[slot]!;
      outDouble = toDelta ? (p.double >= prev ? p.double - prev : p.double) : prev + p.double;
      v[slot] = toDelta ? p.double : outDouble;
    } else {
      const lo = w[2 * slot]!;
      const hi = w[2 * slot + 1]! | 0;
      if (toDelta) {
        // 64-bit p − prev; a negative difference is a reset: the point's value is the delta.
        if (hi < p.valueHi || (hi === p.valueHi && lo <= p.valueLo)) {
          outLo = (p.valueLo - lo) >>> 0;
          outHi = (p.valueHi - hi - (p.valueLo < lo ? 1 : 0)) | 0;
        } else {
          outLo = p.valueLo;
          outHi = p.valueHi;
        }
        w[2 * slot] = p.valueLo;
        w[2 * slot + 1] = p.valueHi;
      } else {
        const sumLo = lo + p.valueLo;
        outLo = sumLo >>> 0;
        outHi = (hi + p.valueHi + (sumLo > 0xffffffff ? 1 : 0)) | 0;
        w[2 * slot] = outLo;
        w[2 * slot + 1] = outHi;
      }
    }
    // Delta: (previous point's time, time]. Cumulative: the run's start.
    const sHi = toDelta ? table.timeHi[slot]! : table.startHi[slot]!;
    const sLo = toDelta ? table.timeLo[slot]! : table.startLo[slot]!;
    setTimes(slot, p, toDelta);
    if (p.startAt >= 0) {
      // The usual case: same length, patched in the copy of the entry.
      edits.patch64(p.startAt, sLo, sHi);
      if (held === HELD_DOUBLE) edits.patchDouble(p.valueAt, outDouble);
      else edits.patch64(p.valueAt, outLo, outHi);
    } else rewriteNumber(fieldStart, fieldEnd, sHi, sLo, held);
  }

  // ---- Sums ----

  function convertNumber(fieldStart: number, fieldEnd: number): number {
    const p = num;
    if (p.timeAt < 0 || p.valueAt < 0) return KEEP;
    if ((p.flags & NO_RECORDED_VALUE) !== 0) {
      endStream(p);
      return KEEP;
    }
    const held = p.isInt ? HELD_INT : HELD_DOUBLE;
    let slot = lookup();
    lastSlot = slot;
    let outcome: number;
    if (slot < 0) outcome = toDelta && !firstPasses(p) ? DROP_FIRST : KEEP;
    else {
      outcome = table.held[slot] !== held ? -1 : place(slot, p);
      if (outcome === DROP_LATE || outcome === DROP_OVERLAP) return outcome;
      if (outcome === -1) outcome = newRun(slot, p);
      else {
        continueNumber(slot, held, fieldStart, fieldEnd);
        return KEEP;
      }
    }
    // A first point, or a new run: the point as it is becomes the state.
    slot = claim();
    lastSlot = slot;
    table.held[slot] = held;
    table.extra[slot] = undefined;
    setTimes(slot, p, true);
    if (held === HELD_DOUBLE) table.value[slot] = p.double;
    else {
      table.words[2 * slot] = p.valueLo;
      table.words[2 * slot + 1] = p.valueHi;
    }
    return outcome;
  }

  /** Writes a number point again with a start time (it had none) and the converted value. */
  function rewriteNumber(fieldStart: number, fieldEnd: number, sHi: number, sLo: number, held: number): void {
    const p = num;
    const out = numberOut;
    out.attrs = p.carriedBytes(pointC, buf);
    out.startNs = ns(sHi, sLo);
    out.timeNs = ns(p.timeHi, p.timeLo);
    out.flags = p.flags;
    out.isInt = held === HELD_INT;
    out.value = held === HELD_DOUBLE ? outDouble : BigInt.asIntN(64, ns(outHi >>> 0, outLo));
    writeNumberDataPoint(writer, out);
    edits.splice(fieldStart, fieldEnd, writer.finish());
  }

  // ---- Histograms ----

  function convertHistogram(fieldStart: number, fieldEnd: number): number {
    const p = hist;
    if (p.timeAt < 0) return KEEP;
    if ((p.flags & NO_RECORDED_VALUE) !== 0) {
      endStream(p);
      return KEEP;
    }
    let slot = lookup();
    let outcome = slot < 0 ? (toDelta && !firstPasses(p) ? DROP_FIRST : KEEP) : table.held[slot] !== HELD_HISTOGRAM ? -1 : place(slot, p);
    if (outcome === DROP_LATE || outcome === DROP_OVERLAP) return outcome;
    const prev = slot < 0 ? undefined : (table.extra[slot] as HistogramState);
    const counts = kept(p.counts, p.buckets);
    const sameLayout = prev !== undefined && sameBounds(prev.bounds, p.boundValues, p.bounds) && prev.counts.length === counts.length;
    const bounds = sameLayout ? prev.bounds : internBounds(p.boundValues, p.bounds);
    if (slot >= 0 && outcome === KEEP && !toDelta && !sameLayout) outcome = -1; // a new layout starts a new run
    if (outcome === -1) outcome = newRun(slot, p);
    else if (slot >= 0 && outcome === KEEP) {
      const s = prev!;
      const sHi = toDelta ? table.timeHi[slot]! : table.startHi[slot]!;
      const sLo = toDelta ? table.timeLo[slot]! : table.startLo[slot]!;
      table.save(slot);
      let out: HistogramState;
      if (toDelta) {
        let reset = !sameLayout || p.count < s.count;
        const delta = new Float64Array(counts.length);
        for (let i = 0; i < counts.length && !reset; i++) {
          delta[i] = counts[i]! - s.counts[i]!;
          if (delta[i]! < 0) reset = true;
        }
        out = reset
          ? { count: p.count, sum: p.sum, min: undefined, max: undefined, counts, bounds }
          : {
              count: p.count - s.count,
              sum: p.sum !== undefined && s.sum !== undefined ? p.sum - s.sum : undefined,
              min: undefined,
              max: undefined,
              counts: delta,
              bounds,
            };
        table.extra[slot] = { count: p.count, sum: p.sum, min: undefined, max: undefined, counts, bounds } satisfies HistogramState;
      } else {
        const total: number[] = new Array(counts.length);
        for (let i = 0; i < counts.length; i++) total[i] = counts[i]! + s.counts[i]!;
        out = {
          count: p.count + s.count,
          sum: p.sum !== undefined && s.sum !== undefined ? p.sum + s.sum : undefined,
          min: p.min !== undefined && s.min !== undefined ? Math.min(p.min, s.min) : undefined,
          max: p.max !== undefined && s.max !== undefined ? Math.max(p.max, s.max) : undefined,
          counts: total,
          bounds,
        };
        table.extra[slot] = out;
      }
      setTimes(slot, p, toDelta);
      const o = histOut;
      o.attrs = p.carriedBytes(pointC, buf);
      o.startNs = ns(sHi, sLo);
      o.timeNs = ns(p.timeHi, p.timeLo);
      o.flags = p.flags;
      o.count = out.count;
      o.sum = out.sum;
      o.bucketCounts = out.counts;
      o.bounds = out.bounds;
      o.min = out.min;
      o.max = out.max;
      writeHistogramDataPoint(writer, o);
      edits.splice(fieldStart, fieldEnd, writer.finish());
      return KEEP;
    }
    slot = claim();
    table.held[slot] = HELD_HISTOGRAM;
    table.extra[slot] = { count: p.count, sum: p.sum, min: p.min, max: p.max, counts, bounds } satisfies HistogramState;
    setTimes(slot, p, true);
    return outcome;
  }

  // ---- Exponential histograms ----

  function convertExponential(fieldStart: number, fieldEnd: number): number {
    const p = exp;
    if (p.timeAt < 0) return KEEP;
    if ((p.flags & NO_RECORDED_VALUE) !== 0) {
      endStream(p);
      return KEEP;
    }
    let slot = lookup();
    let outcome = slot < 0 ? (toDelta && !firstPasses(p) ? DROP_FIRST : KEEP) : table.held[slot] !== HELD_EXPONENTIAL ? -1 : place(slot, p);
    if (outcome === DROP_LATE || outcome === DROP_OVERLAP) return outcome;
    const prev = slot < 0 ? undefined : (table.extra[slot] as ExponentialState);
    const current: ExponentialState = {
      count: p.count,
      sum: p.sum,
      min: p.min,
      max: p.max,
      scale: p.scale,
      zeroCount: p.zeroCount,
      zeroThreshold: p.zeroThreshold,
      positive: runOf(p.positive),
      negative: runOf(p.negative),
    };
    const sameZero = prev !== undefined && Object.is(prev.zeroThreshold, p.zeroThreshold);
    if (slot >= 0 && outcome === KEEP && !toDelta && !sameZero) outcome = -1;
    if (outcome === -1) outcome = newRun(slot, p);
    else if (slot >= 0 && outcome === KEEP) {
      const s = prev!;
      const sHi = toDelta ? table.timeHi[slot]! : table.startHi[slot]!;
      const sLo = toDelta ? table.timeLo[slot]! : table.startLo[slot]!;
      table.save(slot);
      let out: ExponentialState;
      if (toDelta) {
        // Both at the lower scale (lower still should their ranges not fit together), then the
        // difference; anything negative is a reset.
        const scale = commonScale(current, s, widest(current, s));
        const pos = sameZero ? difference(downscale(current.positive, p.scale - scale), downscale(s.positive, s.scale - scale)) : undefined;
        const neg = sameZero ? difference(downscale(current.negative, p.scale - scale), downscale(s.negative, s.scale - scale)) : undefined;
        const reset = pos === undefined || neg === undefined || p.count < s.count || p.zeroCount < s.zeroCount;
        out = reset
          ? { ...current, min: undefined, max: undefined }
          : {
              count: p.count - s.count,
              sum: p.sum !== undefined && s.sum !== undefined ? p.sum - s.sum : undefined,
              min: undefined,
              max: undefined,
              scale,
              zeroCount: p.zeroCount - s.zeroCount,
              zeroThreshold: p.zeroThreshold,
              positive: pos,
              negative: neg,
            };
        table.extra[slot] = compact(current);
      } else {
        // At the lower scale, lower still to keep each range within max(160, the widest range received).
        const scale = commonScale(current, s, widest(current, s));
        const pos = sum(downscale(current.positive, p.scale - scale), downscale(s.positive, s.scale - scale));
        const neg = sum(downscale(current.negative, p.scale - scale), downscale(s.negative, s.scale - scale));
        out = {
          count: p.count + s.count,
          sum: p.sum !== undefined && s.sum !== undefined ? p.sum + s.sum : undefined,
          min: p.min !== undefined && s.min !== undefined ? Math.min(p.min, s.min) : undefined,
          max: p.max !== undefined && s.max !== undefined ? Math.max(p.max, s.max) : undefined,
          scale,
          zeroCount: p.zeroCount + s.zeroCount,
          zeroThreshold: p.zeroThreshold,
          positive: pos,
          negative: neg,
        };
        table.extra[slot] = compact(out);
      }
      setTimes(slot, p, toDelta);
      const o = expOut;
      o.attrs = p.carriedBytes(pointC, buf);
      o.startNs = ns(sHi, sLo);
      o.timeNs = ns(p.timeHi, p.timeLo);
      o.flags = p.flags;
      o.count = out.count;
      o.sum = out.sum;
      o.min = out.min;
      o.max = out.max;
      o.scale = out.scale;
      o.zeroCount = out.zeroCount;
      o.zeroThreshold = out.zeroThreshold;
      posOut.offset = out.positive.offset;
      posOut.counts = out.positive.counts;
      negOut.offset = out.negative.offset;
      negOut.counts = out.negative.counts;
      o.positive = posOut;
      o.negative = negOut;
      writeExponentialHistogramDataPoint(writer, o);
      edits.splice(fieldStart, fieldEnd, writer.finish());
      return KEEP;
    }
    slot = claim();
    table.held[slot] = HELD_EXPONENTIAL;
    table.extra[slot] = compact(current);
    setTimes(slot, p, true);
    return outcome;
  }

  // ---- The walk: entry → scopes → metrics → points ----

  /** Converts the metrics of one scope; returns whether every metric with points lost them all. */
  function convertScope(ctx: ProcessContext, resourceA: number, resourceB: number): boolean {
    const c = scopeC;
    const start = c.pos;
    // The scope's identity first (it may come after its metrics on the wire).
    hash.seed(resourceA, resourceB);
    while (c.pos < c.end) {
      const fieldStart = c.pos;
      c.tag();
      if (c.field === 1 && c.wire === LEN) {
        c.pos = c.len();
        hash.update(buf, view, fieldStart, c.pos);
      } else c.skip(c.wire, c.field);
    }
    const scopeA = hash.a;
    const scopeB = hash.b;
    c.pos = start;
    let metrics = 0;
    let removed = 0;
    while (c.pos < c.end) {
      const fieldStart = c.pos;
      c.tag();
      if (c.field !== 2 || c.wire !== LEN) {
        c.skip(c.wire, c.field);
        continue;
      }
      const end = c.len();
      metrics++;
      metricC.on(buf, c.pos, end);
      readMetric(metricC, dataC, metric);
      c.pos = end;
      if (convertMetric(ctx, scopeA, scopeB)) {
        edits.splice(fieldStart, end, EMPTY);
        removed++;
      }
    }
    return metrics > 0 && removed === metrics;
  }

  /** Converts one metric's points; true when it had points and all were dropped (the metric goes too). */
  function convertMetric(ctx: ProcessContext, scopeA: number, scopeB: number): boolean {
    const m = metric;
    const kind = m.data;
    const convert = toDelta ? m.temporality === CUMULATIVE && (kind !== SUM || m.monotonic) : m.temporality === DELTA;
    if (!convert || m.temporalityAt < 0) {
      if (layout.ok) maskUnconverted(kind);
      return false;
    }
    if (kind !== SUM) layout.ok = false;
    else layout.addTemporality(m.temporalityAt);
    hash.seed(scopeA, scopeB);
    if (m.nameStart >= 0) hash.update(buf, view, m.nameStart, m.nameEnd);
    if (m.unitStart >= 0) hash.update(buf, view, m.unitStart, m.unitEnd);
    hash
      .word(kind)
      .word(m.monotonic ? 1 : 0)
      .word(m.temporality);
    const metricA = hash.a;
    const metricB = hash.b;
    edits.patchByte(m.temporalityAt, toDelta ? DELTA : CUMULATIVE);
    const before = edits.splices;
    const d = dataC;
    d.on(buf, m.dataStart, m.dataEnd);
    let points = 0;
    let kept = 0;
    while (d.pos < d.end) {
      const fieldStart = d.pos;
      d.tag();
      if (d.field !== 1 || d.wire !== LEN) {
        d.skip(d.wire, d.field);
        continue;
      }
      const end = d.len();
      pointC.on(buf, d.pos, end);
      d.pos = end;
      points++;
      let outcome: number;
      if (kind === SUM) {
        num.read(pointC, view);
        identify(num, metricA, metricB);
        outcome = convertNumber(fieldStart, end);
        if (layout.ok) {
          const p = num;
          if (p.startAt < 0 || p.timeAt < 0 || p.valueAt < 0 || p.flags !== 0 || lastSlot < 0) layout.ok = false;
          else layout.addPoint(p.startAt, p.timeAt, p.valueAt, lastSlot, table.gen[lastSlot]!, p.isInt);
        }
      } else if (kind === HISTOGRAM) {
        hist.read(pointC, view);
        identify(hist, metricA, metricB);
        outcome = convertHistogram(fieldStart, end);
      } else if (kind === EXPONENTIAL_HISTOGRAM) {
        exp.read(pointC, bucketsC, view);
        identify(exp, metricA, metricB);
        outcome = convertExponential(fieldStart, end);
      } else outcome = KEEP;
      if (outcome === KEEP) kept++;
      else {
        edits.splice(fieldStart, end, EMPTY);
        ctx.drop(REASONS[outcome]!, 1);
      }
    }
    if (points > 0 && kept === 0) {
      edits.truncateSplices(before);
      return true;
    }
    return false;
  }

  /** Masks the fixed-width fields of a metric this conversion leaves alone (they change between requests too). */
  function maskUnconverted(kind: number): void {
    if (kind !== SUM && kind !== GAUGE) {
      layout.ok = false;
      return;
    }
    const d = dataC;
    d.on(buf, metric.dataStart, metric.dataEnd);
    while (d.pos < d.end) {
      d.tag();
      if (d.field !== 1 || d.wire !== LEN) {
        d.skip(d.wire, d.field);
        continue;
      }
      const end = d.len();
      pointC.on(buf, d.pos, end);
      d.pos = end;
      num.read(pointC, view);
      layout.mask(num.startAt);
      layout.mask(num.timeAt);
      layout.mask(num.valueAt);
    }
  }

  /**
   * The steady state, without parsing or hashing: when `entry` is the memo's entry but for the
   * fixed-width fields of its points (times and values: compared masked, one native compare), each
   * point belongs to the stream the full walk found at that place last time, and continues its run
   * (checked per point before anything changes). Returns the converted entry, or undefined to take
   * the full walk.
   */
  function steady(entry: Uint8Array, memo: Layout): Uint8Array | undefined {
    // The output copy doubles as the compare buffer: masked, compared, then its masked fields
    // written (the converted ones by the conversion, the others restored). A miss wastes it.
    const n = entry.length;
    const out = new Uint8Array(n);
    out.set(entry);
    const ov = new DataView(out.buffer, 0, n);
    const masks = memo.masks;
    // setFloat64(0) writes 8 zero bytes, as the memo's copy holds at the same places.
    for (let i = 0; i < masks.length; i++) ov.setFloat64(masks[i]!, 0, true);
    if (Buffer.compare(out, memo.entry) !== 0) return undefined;
    const t = table;
    const { slot, gen, startAt, timeAt, isInt } = memo;
    for (let j = 0; j < slot.length; j++) {
      const k = slot[j]!;
      if (t.gen[k] !== gen[j] || t.held[k] !== (isInt[j] === 1 ? HELD_INT : HELD_DOUBLE)) return undefined;
      const at = timeAt[j]!;
      if (cmp(view.getUint32(at + 4, true), view.getUint32(at, true), t.timeHi[k]!, t.timeLo[k]!) <= 0) return undefined;
      const sa = startAt[j]!;
      const sHi = view.getUint32(sa + 4, true);
      const sLo = view.getUint32(sa, true);
      // To delta: the same run; to cumulative: the interval right after the last.
      if (toDelta ? sHi !== t.startHi[k] || sLo !== t.startLo[k] : sHi !== t.timeHi[k] || sLo !== t.timeLo[k]) return undefined;
    }
    const restore = memo.restore;
    for (let i = 0; i < restore.length; i++) {
      const at = restore[i]!;
      ov.setUint32(at, view.getUint32(at, true), true);
      ov.setUint32(at + 4, view.getUint32(at + 4, true), true);
    }
    edits.adopt(out, ov);
    for (const at of memo.temporalityAt) edits.patchByte(at, toDelta ? DELTA : CUMULATIVE);
    const p = num;
    const valueAt = memo.valueAt;
    for (let j = 0; j < slot.length; j++) {
      const k = slot[j]!;
      table.touch(k, now);
      p.startAt = startAt[j]!;
      p.timeAt = timeAt[j]!;
      p.valueAt = valueAt[j]!;
      p.startLo = view.getUint32(p.startAt, true);
      p.startHi = view.getUint32(p.startAt + 4, true);
      p.timeLo = view.getUint32(p.timeAt, true);
      p.timeHi = view.getUint32(p.timeAt + 4, true);
      if (isInt[j] === 1) {
        p.valueLo = view.getUint32(p.valueAt, true);
        p.valueHi = view.getInt32(p.valueAt + 4, true);
        continueNumber(k, HELD_INT, -1, -1);
      } else {
        p.double = view.getFloat64(p.valueAt, true);
        continueNumber(k, HELD_DOUBLE, -1, -1);
      }
    }
    return applyEdits(entry, edits);
  }

  /** Keeps the layout just recorded for `entry`, within the memo budget (oldest memos go first). */
  function remember(key: number, entry: Uint8Array): void {
    const old = memos.get(key);
    if (old !== undefined) {
      memos.delete(key);
      memoBytes -= old.bytes;
    }
    if (!layout.ok || layout.points === 0 || entry.length > MEMO_MAX_ENTRY) return;
    const memo = layout.take(entry);
    while (memoBytes + memo.bytes > MEMO_BUDGET && memos.size > 0) {
      const [oldest, m] = memos.entries().next().value as [number, Layout];
      memos.delete(oldest);
      memoBytes -= m.bytes;
    }
    memos.set(key, memo);
    memoBytes += memo.bytes;
  }

  return (entry, ctx) => {
    if (ctx.signal !== 'metrics') return entry;
    now = Number(clock.nowNanos() / 1_000_000n);
    table.sweep(now);
    edits.reset(entry);
    buf = entry;
    view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
    const c = entryC;
    c.on(entry, 0, entry.length);
    c.tag();
    if (c.field !== 1 || c.wire !== LEN) throw new WireFormatError('resource_metrics: an entry is field 1, length-delimited');
    const end = c.len();
    const start = c.pos;
    // The resource's identity: its whole field, as received.
    hash.seed(SEED_A, SEED_B);
    while (c.pos < end) {
      const fieldStart = c.pos;
      c.tag();
      if (c.field === 1 && c.wire === LEN) {
        c.pos = c.len();
        hash.update(entry, view, fieldStart, c.pos);
      } else c.skip(c.wire, c.field);
    }
    const resourceA = hash.a;
    const resourceB = hash.b;
    const key = hash.lo ^ entry.length;
    const memo = memos.get(key);
    if (memo !== undefined && memo.entry.length === entry.length) {
      const out = steady(entry, memo);
      if (out !== undefined) return out;
      edits.reset(entry);
    }
    layout.reset();
    c.pos = start;
    let scopes = 0;
    let removed = 0;
    while (c.pos < end) {
      const fieldStart = c.pos;
      c.tag();
      // Annotated: TypeScript keeps c.field narrowed to 1 from the entry's own tag check.
      const f: number = c.field;
      const w: number = c.wire;
      if (f !== 2 || w !== LEN) {
        c.skip(w, f);
        continue;
      }
      const scopeEnd = c.len();
      scopes++;
      scopeC.on(entry, c.pos, scopeEnd);
      const before = edits.splices;
      c.pos = scopeEnd;
      if (convertScope(ctx, resourceA, resourceB)) {
        edits.truncateSplices(before);
        edits.splice(fieldStart, scopeEnd, EMPTY);
        removed++;
      }
    }
    if (scopes > 0 && removed === scopes) {
      edits.truncateSplices(0);
      edits.splice(0, entry.length, EMPTY);
    }
    remember(key, entry);
    return applyEdits(entry, edits);
  };
}

/** Memos kept per conversion (an upstream), in entry bytes: a bound whatever the traffic. */
const MEMO_BUDGET = 4 * 1024 * 1024;
/** Larger entries are converted by the full walk every time (a memo would hold a copy of each). */
const MEMO_MAX_ENTRY = 256 * 1024;

/**
 * The layout of an entry the full walk converted (the memo of `steady()`): a copy of its bytes,
 * the fixed-width fields to mask when comparing, and per converted sum point where its start, time
 * and value are and which stream (slot and generation) it belongs to.
 */
interface Layout {
  /** The entry, its masked fields zeroed. */
  readonly entry: Uint8Array;
  readonly masks: Int32Array;
  /** Masked fields `steady()` does not write itself (times, and the points of metrics it leaves alone): copied from the entry. */
  readonly restore: Int32Array;
  readonly temporalityAt: Int32Array;
  readonly startAt: Int32Array;
  readonly timeAt: Int32Array;
  readonly valueAt: Int32Array;
  readonly slot: Int32Array;
  readonly gen: Uint32Array;
  readonly isInt: Uint8Array;
  /** What it holds, for the budget. */
  readonly bytes: number;
}

/** Records a Layout during the full walk; `ok` false once the entry holds anything `steady()` cannot replay. */
class LayoutRecorder {
  ok = true;
  points = 0;
  #masks: number[] = [];
  #restore: number[] = [];
  #temporalityAt: number[] = [];
  #startAt: number[] = [];
  #timeAt: number[] = [];
  #valueAt: number[] = [];
  #slot: number[] = [];
  #gen: number[] = [];
  #isInt: number[] = [];

  reset(): void {
    this.ok = true;
    this.points = 0;
    // Recording happens on the full walk only (a first request, a changed layout): new arrays are fine.
    this.#masks = [];
    this.#restore = [];
    this.#temporalityAt = [];
    this.#startAt = [];
    this.#timeAt = [];
    this.#valueAt = [];
    this.#slot = [];
    this.#gen = [];
    this.#isInt = [];
  }

  /** A fixed-width field of a point left alone: masked, and restored. */
  mask(at: number): void {
    if (at < 0) return;
    this.#masks.push(at);
    this.#restore.push(at);
  }

  addTemporality(at: number): void {
    this.#temporalityAt.push(at);
  }

  addPoint(startAt: number, timeAt: number, valueAt: number, slot: number, gen: number, isInt: boolean): void {
    this.#masks.push(startAt, timeAt, valueAt);
    this.#restore.push(timeAt);
    this.#startAt.push(startAt);
    this.#timeAt.push(timeAt);
    this.#valueAt.push(valueAt);
    this.#slot.push(slot);
    this.#gen.push(gen);
    this.#isInt.push(isInt ? 1 : 0);
    this.points++;
  }

  take(entry: Uint8Array): Layout {
    const copy = entry.slice();
    const masks = Int32Array.from(this.#masks);
    const view = new DataView(copy.buffer);
    for (const at of masks) view.setFloat64(at, 0, true);
    return {
      entry: copy,
      masks,
      restore: Int32Array.from(this.#restore),
      temporalityAt: Int32Array.from(this.#temporalityAt),
      startAt: Int32Array.from(this.#startAt),
      timeAt: Int32Array.from(this.#timeAt),
      valueAt: Int32Array.from(this.#valueAt),
      slot: Int32Array.from(this.#slot),
      gen: Uint32Array.from(this.#gen),
      isInt: Uint8Array.from(this.#isInt),
      bytes: copy.length + (masks.length + this.#restore.length) * 4 + this.points * 21,
    };
  }
}

/** Buckets a range may hold after combining `a` and `b`: max(160, the widest of their ranges). */
function widest(a: ExponentialState, b: ExponentialState): number {
  return Math.max(MIN_MAX_SIZE, a.positive.counts.length, a.negative.counts.length, b.positive.counts.length, b.negative.counts.length);
}

/**
 * The scale at which `a` and `b` combine: the lower of theirs, lowered until each range (positive,
 * negative) of the two together spans at most `maxSize` buckets — decided from the ranges' ends
 * before any bucket is moved, so two points far apart never allocate the span between them.
 */
function commonScale(a: ExponentialState, b: ExponentialState, maxSize: number): number {
  let scale = Math.min(a.scale, b.scale);
  const fits = (s: number): boolean =>
    spanAt(a.positive, a.scale, b.positive, b.scale, s) <= maxSize && spanAt(a.negative, a.scale, b.negative, b.scale, s) <= maxSize;
  while (scale > MIN_SCALE && !fits(scale)) scale--;
  return scale;
}

/** Whether `bounds` equals the first `n` of `values`. */
function sameBounds(bounds: Float64Array, values: Float64Array, n: number): boolean {
  if (bounds.length !== n) return false;
  for (let i = 0; i < n; i++) if (!Object.is(bounds[i], values[i])) return false;
  return true;
}

/** The first `n` of `a` as a plain array, to keep in the state. */
function kept(a: Float64Array, n: number): number[] {
  const out: number[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = a[i]!;
  return out;
}

/** `s` with its bucket counts in plain arrays, to keep in the state. */
function compact(s: ExponentialState): ExponentialState {
  const keep = (b: Buckets): Buckets => (Array.isArray(b.counts) || b.counts.length === 0 ? b : { offset: b.offset, counts: Array.from(b.counts) });
  return { ...s, positive: keep(s.positive), negative: keep(s.negative) };
}

function runOf(r: BucketRun): Buckets {
  return trim(r.offset, r.counts.slice(0, r.length));
}
