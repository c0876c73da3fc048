/**
 * Reads what the gateway needs from an encoded Export*ServiceRequest without decoding
 * it: where each top-level resource entry lies, a few of its resource attributes, and
 * how many items (data points, log records, spans) it holds. Forwarding can then pass
 * the received bytes on unchanged, or splice a subset of resource entries into a new
 * request, with no protobuf decode/encode round trip.
 *
 * It walks the wire structure down to the item level and checks every tag, wire type
 * and length on the way, so truncated or mistyped input is refused with a precise
 * message; the inside of each item is only bounds-checked.
 */
import { SIGNAL_SPECS } from './signals.js';
import { I32, I64, LEN, VARINT } from './wire.js';
import type { Signal } from './types.js';

export class WireFormatError extends Error {
  override readonly name = 'WireFormatError';
}

/** One `resource_*` entry of a request: bytes [start, end) of the whole field, tag included. */
export interface ResourceEntry {
  readonly start: number;
  readonly end: number;
  readonly items: number;
  /** Resource attributes with scalar values (strings as is; ints, doubles and bools in their JSON form). */
  readonly attributes: ReadonlyMap<string, string>;
}

export interface ScanResult {
  readonly entries: readonly ResourceEntry[];
  readonly items: number;
}

// Field numbers: request.resource_* = 1; Resource* { resource = 1, scope_* = 2 }; Scope* { items = 2 }.
// Metric: gauge 5, sum 7, histogram 9, exponential_histogram 10, summary 11; each has data_points = 1.
const METRIC_DATA_FIELDS = new Set([5, 7, 9, 10, 11]);

/**
 * A position in a protobuf message with checked reads: one per nesting level, reused (`reset`,
 * `on`) rather than made per message. Also the reader of the gateway's processors that look
 * inside items (gateway/forward/processors/), so malformed items are refused with the same
 * precise messages.
 */
export class Cursor {
  pos: number;
  /** The last tag read by `tag()`. */
  field = 0;
  wire = 0;
  constructor(
    public buf: Uint8Array,
    start: number,
    public end: number,
    readonly parent: Cursor | undefined,
    readonly name: string,
  ) {
    this.pos = start;
  }

  /** Points this cursor at another message of the same kind: one cursor per level, not one per message (~100 per request). */
  reset(start: number, end: number): void {
    this.pos = start;
    this.end = end;
  }

  /** Points this cursor at a message in another buffer. */
  on(buf: Uint8Array, start: number, end: number): void {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  /** Skips `n` bytes of a fixed-width field (I64: 8, I32: 4), checking they are there. */
  fixed(n: number): void {
    this.pos += n;
    if (this.pos > this.end) throw new WireFormatError(`${this.path}: truncated field ${this.field}`);
  }

  /** Where this cursor is, for error messages: built only when one is thrown (a string per sub-message cost ~10% of a scan). */
  get path(): string {
    return this.parent === undefined ? this.name : `${this.parent.path}.${this.name}`;
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new WireFormatError(`${this.path}: truncated varint at byte ${this.pos}`);
      const b = this.buf[this.pos++]!;
      if (shift < 28) result |= (b & 0x7f) << shift;
      else result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return shift < 28 ? result >>> 0 : result;
      shift += 7;
      if (shift > 63) throw new WireFormatError(`${this.path}: varint longer than 10 bytes at byte ${this.pos}`);
    }
  }

  /** Reads a tag into `field` and `wire` (fields, not a returned pair: no array per tag). */
  tag(): void {
    const t = this.varint();
    this.field = Math.floor(t / 8);
    this.wire = t & 7;
    if (this.field === 0) throw new WireFormatError(`${this.path}: invalid field number 0 at byte ${this.pos}`);
  }

  /** Reads a length prefix and returns the end of the payload. */
  len(): number {
    const n = this.varint();
    const end = this.pos + n;
    if (end > this.end) {
      throw new WireFormatError(`${this.path}: length ${n} at byte ${this.pos} runs past the end of the message`);
    }
    return end;
  }

  skip(wire: number, field: number): void {
    switch (wire) {
      case VARINT:
        this.varint();
        return;
      case I64:
        this.pos += 8;
        break;
      case I32:
        this.pos += 4;
        break;
      case LEN:
        this.pos = this.len();
        return;
      default:
        throw new WireFormatError(`${this.path}: field ${field} has unsupported wire type ${wire}`);
    }
    if (this.pos > this.end) throw new WireFormatError(`${this.path}: truncated field ${field}`);
  }

  expectLen(wire: number, field: number, what: string): void {
    if (wire !== LEN) {
      throw new WireFormatError(`${this.path}: field ${field} (${what}) has wire type ${wire}, expected 2 (length-delimited)`);
    }
  }

  sub(end: number, name: string): Cursor {
    return new Cursor(this.buf, this.pos, end, this, name);
  }
}

const text = new TextDecoder('utf-8', { fatal: false });

/** Scans an encoded Export<Signal>ServiceRequest. Throws WireFormatError on malformed input. */
export function scanRequest(signal: Signal, body: Uint8Array, wantedAttributes?: ReadonlySet<string>): ScanResult {
  // Names of the three levels, for error messages.
  const names = SIGNAL_SPECS[signal].fields;
  const root = new Cursor(body, 0, body.length, undefined, 'request');
  const entries: ResourceEntry[] = [];
  let total = 0;
  while (root.pos < root.end) {
    const start = root.pos;
    root.tag();
    const field = root.field;
    const wire = root.wire;
    if (field !== 1) {
      root.skip(wire, field);
      continue;
    }
    root.expectLen(wire, field, names[0]);
    const end = root.len();
    const r = root.sub(end, `${names[0]}[${entries.length}]`);
    const attributes = new Map<string, string>();
    let items = 0;
    while (r.pos < r.end) {
      r.tag();
      const f = r.field;
      const w = r.wire;
      if (f === 1) {
        r.expectLen(w, f, 'resource');
        const e = r.len();
        readResource(r.sub(e, 'resource'), attributes, wantedAttributes);
        r.pos = e;
      } else if (f === 2) {
        r.expectLen(w, f, names[1]);
        const e = r.len();
        items += countScope(signal, r.sub(e, names[1]), names[2]);
        r.pos = e;
      } else {
        r.skip(w, f);
      }
    }
    root.pos = end;
    entries.push({ start, end, items, attributes });
    total += items;
  }
  return { entries, items: total };
}

function countScope(signal: Signal, c: Cursor, itemName: string): number {
  let items = 0;
  const metric = signal === 'metrics' ? c.sub(c.pos, 'metric') : undefined;
  const data = metric?.sub(metric.pos, 'data');
  while (c.pos < c.end) {
    c.tag();
    const f = c.field;
    const w = c.wire;
    if (f === 2) {
      c.expectLen(w, f, itemName);
      const e = c.len();
      if (metric !== undefined) {
        metric.reset(c.pos, e);
        items += countMetric(metric, data!);
      } else {
        items += 1;
      }
      c.pos = e;
    } else {
      c.skip(w, f);
    }
  }
  return items;
}

function countMetric(c: Cursor, d: Cursor): number {
  let points = 0;
  while (c.pos < c.end) {
    c.tag();
    const f = c.field;
    const w = c.wire;
    if (METRIC_DATA_FIELDS.has(f)) {
      c.expectLen(w, f, 'data');
      const e = c.len();
      d.reset(c.pos, e);
      while (d.pos < d.end) {
        d.tag();
        const df = d.field;
        const dw = d.wire;
        if (df === 1) {
          d.expectLen(dw, df, 'data_points');
          d.pos = d.len();
          points++;
        } else {
          d.skip(dw, df);
        }
      }
      c.pos = e;
    } else {
      c.skip(w, f);
    }
  }
  return points;
}

function readResource(c: Cursor, out: Map<string, string>, wanted: ReadonlySet<string> | undefined): void {
  const keys = wanted === undefined ? undefined : wantedKeys(wanted);
  const kv = c.sub(c.pos, 'attributes');
  const value = kv.sub(kv.pos, 'value');
  while (c.pos < c.end) {
    c.tag();
    const f = c.field;
    const w = c.wire;
    if (f !== 1) {
      c.skip(w, f);
      continue;
    }
    c.expectLen(w, f, 'attributes');
    const e = c.len();
    kv.reset(c.pos, e);
    // Positions first: only a wanted key is decoded, and only its value read (a resource
    // often has a dozen attributes, the routes and the observer want one or two).
    let keyStart = -1;
    let keyEnd = -1;
    let valueStart = -1;
    let valueEnd = -1;
    while (kv.pos < kv.end) {
      kv.tag();
      const kf = kv.field;
      const kw = kv.wire;
      if (kf === 1 && kw === LEN) {
        keyEnd = kv.len();
        keyStart = kv.pos;
        kv.pos = keyEnd;
      } else if (kf === 2 && kw === LEN) {
        valueEnd = kv.len();
        valueStart = kv.pos;
        kv.pos = valueEnd;
      } else {
        kv.skip(kw, kf);
      }
    }
    c.pos = e;
    if (keyStart < 0 || valueStart < 0) continue;
    const key = keys === undefined ? text.decode(kv.buf.subarray(keyStart, keyEnd)) : matchKey(keys, kv.buf, keyStart, keyEnd);
    if (key === undefined) continue;
    value.reset(valueStart, valueEnd);
    const v = readScalar(value);
    if (v !== undefined) out.set(key, v);
  }
}

/** A wanted attribute key with its UTF-8 bytes, to compare before decoding anything. */
interface WantedKey {
  readonly key: string;
  readonly bytes: Uint8Array;
}

const encoder = new TextEncoder();
const wantedCache = new WeakMap<ReadonlySet<string>, readonly WantedKey[]>();

function wantedKeys(wanted: ReadonlySet<string>): readonly WantedKey[] {
  let keys = wantedCache.get(wanted);
  if (keys === undefined) {
    keys = [...wanted].map((key) => ({ key, bytes: encoder.encode(key) }));
    wantedCache.set(wanted, keys);
  }
  return keys;
}

/** The wanted key whose bytes are `buf[start, end)`, if any. */
function matchKey(keys: readonly WantedKey[], buf: Uint8Array, start: number, end: number): string | undefined {
  const n = end - start;
  outer: for (const k of keys) {
    if (k.bytes.length !== n) continue;
    for (let i = 0; i < n; i++) if (k.bytes[i] !== buf[start + i]) continue outer;
    return k.key;
  }
  return undefined;
}

/** AnyValue → its scalar text, or undefined for arrays, maps, bytes and empty values. */
function readScalar(c: Cursor): string | undefined {
  let out: string | undefined;
  while (c.pos < c.end) {
    c.tag();
    const f = c.field;
    const w = c.wire;
    if (f === 1 && w === LEN) {
      const e = c.len();
      out = text.decode(c.buf.subarray(c.pos, e));
      c.pos = e;
    } else if (f === 2 && w === VARINT) {
      out = c.varint() !== 0 ? 'true' : 'false';
    } else if (f === 3 && w === VARINT) {
      const start = c.pos;
      c.varint();
      out = readInt64(c.buf, start).toString();
    } else if (f === 4 && w === I64) {
      if (c.pos + 8 > c.end) throw new WireFormatError(`${c.path}: truncated double`);
      out = String(new DataView(c.buf.buffer, c.buf.byteOffset + c.pos, 8).getFloat64(0, true));
      c.pos += 8;
    } else {
      c.skip(w, f);
    }
  }
  return out;
}

function readInt64(buf: Uint8Array, pos: number): bigint {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const b = buf[pos++]!;
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
    shift += 7n;
  }
  return BigInt.asIntN(64, result);
}

/** Builds a request body from a subset of a scanned request's resource entries (a zero-decode split). */
export function spliceEntries(body: Uint8Array, entries: readonly ResourceEntry[]): Uint8Array {
  let size = 0;
  for (const e of entries) size += e.end - e.start;
  const out = new Uint8Array(size);
  let at = 0;
  for (const e of entries) {
    out.set(body.subarray(e.start, e.end), at);
    at += e.end - e.start;
  }
  return out;
}
