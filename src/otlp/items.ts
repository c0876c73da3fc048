/**
 * A walk over the items of one resource entry (data points, log records, spans) for processors
 * that keep, drop or rewrite single items (the gateway's attribute edits and filters): each
 * decision becomes a splice (entry-edits.ts), and a metric, scope or entry that loses every item
 * it had goes too. Nothing but the items decided on, and their containers' lengths, changes.
 *
 * Field numbers (proto/opentelemetry/proto/): Resource{Metrics,Logs,Spans} { scope_* = 2 };
 * Scope* { items = 2 } (metrics, log_records, spans); Metric { name 1, data 5/7/9/10/11 with
 * data_points = 1 }; point attributes: NumberDataPoint 7, HistogramDataPoint 9,
 * ExponentialHistogramDataPoint 1, SummaryDataPoint 7; LogRecord { severity_number 2, body 5,
 * attributes 6 }; Span { name 5, attributes 9 }.
 */
import type { BinaryWriter } from './encode/binary-writer.js';
import { applyEdits, EntryEdits } from './entry-edits.js';
import type { WireAttribute } from './resource-entry.js';
import { Cursor, WireFormatError } from './scan.js';
import type { Signal } from './types.js';
import { LEN, VARINT } from './wire.js';

/** `attributes` field number of each kind of item. */
export const LOG_RECORD_ATTRIBUTES = 6;
export const SPAN_ATTRIBUTES = 9;
/** Of a data point, by its metric's `data` field (gauge 5, sum 7, histogram 9, exponential 10, summary 11). */
const POINT_ATTRIBUTES: Readonly<Record<number, number>> = { 5: 7, 7: 7, 9: 9, 10: 1, 11: 7 };

/** What a processor decides for items. */
export interface ItemVisitor {
  /** Whether `item()` has anything to do for this signal (else items are not visited: a metrics filter by name only needs `keepMetric`). */
  visitsItems(signal: Signal): boolean;
  /**
   * Metrics: whether the metric whose `name` field's payload is buf[nameStart, nameEnd) (an empty
   * range when it has none), holding `points` data points, is kept. Called before its points.
   */
  keepMetric(buf: Uint8Array, nameStart: number, nameEnd: number, points: number): boolean;
  /**
   * One item, its message buf[start, end), its attributes being field `attributesField`, itself
   * field `itemField` of its container: true keeps it as it is, false drops it, bytes replace the
   * whole field (tag and length included: see {@link withAttributes}).
   */
  item(buf: Uint8Array, start: number, end: number, attributesField: number, itemField: number): boolean | Uint8Array;
}

const EMPTY = new Uint8Array(0);

/** Walks the items of resource entries of one signal; one walker per processor step (it keeps its cursors). */
export class ItemWalker {
  readonly #edits = new EntryEdits();
  readonly #entry = new Cursor(EMPTY, 0, 0, undefined, 'resource');
  readonly #scope: Cursor;
  readonly #item: Cursor;
  readonly #data: Cursor;
  #visitItems = true;

  constructor() {
    this.#scope = new Cursor(EMPTY, 0, 0, this.#entry, 'scope');
    this.#item = new Cursor(EMPTY, 0, 0, this.#scope, 'item');
    this.#data = new Cursor(EMPTY, 0, 0, this.#item, 'data');
  }

  /** The entry with the visitor's decisions applied: `entry` itself when it kept everything as it is; empty when nothing is left. */
  walk(entry: Uint8Array, signal: Signal, visitor: ItemVisitor): Uint8Array {
    this.#visitItems = visitor.visitsItems(signal);
    const edits = this.#edits;
    edits.reset(entry);
    const c = this.#entry;
    c.on(entry, 0, entry.length);
    c.tag();
    if (c.field !== 1 || c.wire !== LEN) throw new WireFormatError('an entry is field 1, length-delimited');
    const end = c.len();
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
      const before = edits.splices;
      this.#scope.on(entry, c.pos, scopeEnd);
      c.pos = scopeEnd;
      if (this.#walkScope(signal, visitor)) {
        edits.truncateSplices(before);
        edits.splice(fieldStart, scopeEnd, EMPTY);
        removed++;
      }
    }
    if (scopes > 0 && removed === scopes) {
      edits.truncateSplices(0);
      edits.splice(0, entry.length, EMPTY);
    }
    return applyEdits(entry, edits);
  }

  /** True when the scope had items and lost them all. */
  #walkScope(signal: Signal, visitor: ItemVisitor): boolean {
    const c = this.#scope;
    const edits = this.#edits;
    let items = 0;
    let removed = 0;
    while (c.pos < c.end) {
      const fieldStart = c.pos;
      c.tag();
      const f = c.field;
      const w = c.wire;
      if (f !== 2 || w !== LEN) {
        c.skip(w, f);
        continue;
      }
      const end = c.len();
      const start = c.pos;
      c.pos = end;
      items++;
      if (signal === 'metrics') {
        const before = edits.splices;
        this.#item.on(c.buf, start, end);
        if (this.#walkMetric(visitor)) {
          edits.truncateSplices(before);
          edits.splice(fieldStart, end, EMPTY);
          removed++;
        }
        continue;
      }
      if (!this.#visitItems) continue;
      const decision = visitor.item(c.buf, start, end, signal === 'logs' ? LOG_RECORD_ATTRIBUTES : SPAN_ATTRIBUTES, 2);
      if (decision === true) continue;
      if (decision === false) {
        edits.splice(fieldStart, end, EMPTY);
        removed++;
      } else edits.splice(fieldStart, end, decision);
    }
    return items > 0 && removed === items;
  }

  /** True when the metric goes (dropped, or its points all dropped). */
  #walkMetric(visitor: ItemVisitor): boolean {
    const c = this.#item;
    const edits = this.#edits;
    const buf = c.buf;
    let nameStart = c.pos;
    let nameEnd = c.pos;
    let data = 0;
    let dataStart = 0;
    let dataEnd = 0;
    while (c.pos < c.end) {
      c.tag();
      const f = c.field;
      const w = c.wire;
      if (w === LEN && (f === 1 || POINT_ATTRIBUTES[f] !== undefined)) {
        const e = c.len();
        if (f === 1) {
          nameStart = c.pos;
          nameEnd = e;
        } else {
          data = f;
          dataStart = c.pos;
          dataEnd = e;
        }
        c.pos = e;
      } else c.skip(w, f);
    }
    const d = this.#data;
    let points = 0;
    if (data !== 0) {
      d.on(buf, dataStart, dataEnd);
      while (d.pos < d.end) {
        d.tag();
        if (d.field === 1 && d.wire === LEN) points++;
        d.skip(d.wire, d.field);
      }
    }
    if (!visitor.keepMetric(buf, nameStart, nameEnd, points)) return true;
    if (points === 0 || !this.#visitItems) return false;
    const attributes = POINT_ATTRIBUTES[data]!;
    let removed = 0;
    d.on(buf, dataStart, dataEnd);
    while (d.pos < d.end) {
      const fieldStart = d.pos;
      d.tag();
      const f = d.field;
      const w = d.wire;
      if (f !== 1 || w !== LEN) {
        d.skip(w, f);
        continue;
      }
      const end = d.len();
      const decision = visitor.item(buf, d.pos, end, attributes, 1);
      d.pos = end;
      if (decision === true) continue;
      if (decision === false) {
        edits.splice(fieldStart, end, EMPTY);
        removed++;
      } else edits.splice(fieldStart, end, decision);
    }
    return removed === points;
  }
}

/**
 * The item field `itemField` holding the message buf[start, end) with its attributes (field
 * `fieldNo`) replaced: its other fields as they were, in order, the attributes where the first of
 * them was (at the end when it had none). Written into `writer` after what it holds, and returned
 * as a view of it: the caller empties the writer once per entry, after the splices were applied (a
 * new array per item measured ~1-2 µs: arrays over 64 bytes get a backing store of their own).
 */
export function withAttributes(
  buf: Uint8Array,
  start: number,
  end: number,
  fieldNo: number,
  attributes: readonly WireAttribute[],
  writer: BinaryWriter,
  itemField: number,
): Uint8Array {
  const begin = writer.pos;
  writer.tag(itemField, LEN).fork();
  const c = scratchCursor;
  c.on(buf, start, end);
  let written = false;
  let run = start;
  while (c.pos < c.end) {
    const fieldStart = c.pos;
    c.tag();
    const f = c.field;
    const w = c.wire;
    c.skip(w, f);
    if (f !== fieldNo || w !== LEN) continue;
    if (fieldStart > run) writer.raw(buf.subarray(run, fieldStart));
    run = c.pos;
    if (!written) {
      writeAttributes(writer, attributes, fieldNo);
      written = true;
    }
  }
  if (end > run) writer.raw(buf.subarray(run, end));
  if (!written) writeAttributes(writer, attributes, fieldNo);
  writer.join();
  return writer.buf.subarray(begin, writer.pos);
}

/** Writes `attributes` as fields `fieldNo`: as they are when they already have that number, else re-tagged. */
function writeAttributes(writer: BinaryWriter, attributes: readonly WireAttribute[], fieldNo: number): void {
  const tag = (fieldNo << 3) | LEN;
  for (const a of attributes) {
    if (fieldNo < 16 && a.buf[a.fieldStart] === tag) {
      // Copied by hand from its positions: no view per attribute.
      const n = a.fieldEnd - a.fieldStart;
      writer.reserve(n);
      const out = writer.buf;
      const src = a.buf;
      for (let i = 0, p = writer.pos, q = a.fieldStart; i < n; i++) out[p++] = src[q++]!;
      writer.pos += n;
    } else writer.tag(fieldNo, LEN).bytes(a.kv);
  }
}

/** The payload of the first LEN field `fieldNo` of the message buf[start, end), as [start, end); [-1, -1] when none. */
export function lenField(buf: Uint8Array, start: number, end: number, fieldNo: number, out: Int32Array): void {
  const c = scratchCursor;
  c.on(buf, start, end);
  out[0] = out[1] = -1;
  while (c.pos < c.end) {
    c.tag();
    const f = c.field;
    const w = c.wire;
    if (f === fieldNo && w === LEN) {
      const e = c.len();
      out[0] = c.pos;
      out[1] = e;
      return;
    }
    c.skip(w, f);
  }
}

/** A LogRecord's `severity_number` (0 when unset). */
export function logSeverity(buf: Uint8Array, start: number, end: number): number {
  const c = scratchCursor;
  c.on(buf, start, end);
  let severity = 0;
  while (c.pos < c.end) {
    c.tag();
    const f = c.field;
    const w = c.wire;
    if (f === 2 && w === VARINT) severity = c.varint();
    else c.skip(w, f);
  }
  return severity;
}

/** Whether the message buf[start, end) has an attribute (field `fieldNo`) whose key is one of `keys`; reads no value, allocates nothing. */
export function hasAttributeKey(buf: Uint8Array, start: number, end: number, fieldNo: number, keys: readonly Uint8Array[]): boolean {
  const c = scratchCursor;
  const kv = kvCursor;
  c.on(buf, start, end);
  while (c.pos < c.end) {
    c.tag();
    const f = c.field;
    const w = c.wire;
    if (f !== fieldNo || w !== LEN) {
      c.skip(w, f);
      continue;
    }
    const e = c.len();
    kv.on(buf, c.pos, e);
    c.pos = e;
    while (kv.pos < kv.end) {
      kv.tag();
      if (kv.field !== 1 || kv.wire !== LEN) {
        kv.skip(kv.wire, kv.field);
        continue;
      }
      const ke = kv.len();
      const n = ke - kv.pos;
      outer: for (const key of keys) {
        if (key.length !== n) continue;
        for (let i = 0; i < n; i++) if (key[i] !== buf[kv.pos + i]) continue outer;
        return true;
      }
      kv.pos = ke;
    }
  }
  return false;
}

const scratchCursor = new Cursor(EMPTY, 0, 0, undefined, 'item');
const kvCursor = new Cursor(EMPTY, 0, 0, scratchCursor, 'attributes');
