/**
 * One resource entry of an encoded Export*ServiceRequest (a `resource_metrics`,
 * `resource_logs` or `resource_spans` field, as otlp/scan.ts finds it) taken apart at the
 * resource, so that its attributes can be edited and the entry written back without
 * decoding the rest: scopes, items, schema_url and unknown fields are copied as bytes.
 *
 * Field numbers: Resource{Metrics,Logs,Spans} { resource = 1 }; Resource { attributes = 1
 * (KeyValue), dropped_attributes_count = 2, entity_refs = 3 }; KeyValue { key = 1, value = 2
 * (AnyValue) }; AnyValue { string 1, bool 2, int 3, double 4, array 5, kvlist 6, bytes 7 }.
 */
import { BinaryReader } from '@bufbuild/protobuf/wire';
import { BinaryWriter } from './encode/binary-writer.js';
import { Cursor } from './scan.js';
import { I64, LEN, VARINT } from './wire.js';
import { AnyValueSchema } from '../../gen/opentelemetry/proto/common/v1/common_pb.js';
import { writeKeyValue } from './encode/common.js';
import { protobufToJson } from './json-from-protobuf.js';
import type { AnyValueInput } from './types.js';

/**
 * One attribute (of a resource, a data point, a log record, a span), as positions in the bytes it
 * was read from; its views (`key`, `field`, `kv`, `value`) are made when asked. The item processors
 * read every attribute of every item they edit and mostly only compare keys and copy fields: a view
 * made per part cost ~0.6 µs per 3-attribute point, most of an edit.
 */
export class WireAttribute {
  constructor(
    readonly buf: Uint8Array,
    /** The whole `attributes` field, [fieldStart, fieldEnd): tag, length and KeyValue message. */
    readonly fieldStart: number,
    readonly fieldEnd: number,
    /** Where the KeyValue message starts (after the tag and the length). */
    readonly kvStart: number,
    readonly keyStart: number,
    readonly keyEnd: number,
    /** The AnyValue, [valueStart, valueEnd); -1: none. */
    readonly valueStart: number,
    readonly valueEnd: number,
    /** The AnyValue when merged from several fields (rare): not a view of `buf`. */
    readonly merged?: Uint8Array,
  ) {}

  /** The key's UTF-8 bytes. */
  get key(): Uint8Array {
    return this.buf.subarray(this.keyStart, this.keyEnd);
  }

  /** The whole `attributes` field: tag, length and KeyValue message (its field number is the message's). */
  get field(): Uint8Array {
    return this.buf.subarray(this.fieldStart, this.fieldEnd);
  }

  /** The KeyValue message (the field without its tag and length), to write under another field number. */
  get kv(): Uint8Array {
    return this.buf.subarray(this.kvStart, this.fieldEnd);
  }

  /** The AnyValue message; undefined when the KeyValue has no value. */
  get value(): Uint8Array | undefined {
    if (this.merged !== undefined) return this.merged;
    return this.valueStart < 0 ? undefined : this.buf.subarray(this.valueStart, this.valueEnd);
  }

  /** Whether the key is `key` (compared in place). */
  hasKey(key: Uint8Array): boolean {
    const n = this.keyEnd - this.keyStart;
    if (key.length !== n) return false;
    const buf = this.buf;
    for (let i = 0, p = this.keyStart; i < n; i++, p++) if (buf[p] !== key[i]) return false;
    return true;
  }
}

/** A resource entry taken apart; every Uint8Array is a view of the request, not a copy. */
export interface EntryParts {
  /** Whether the entry has a `resource` field at all (an entry without one decodes to `resource: undefined`). */
  readonly hasResource: boolean;
  /** The resource's attributes in order, duplicates kept. */
  readonly attributes: WireAttribute[];
  /** The resource's other fields (dropped_attributes_count, entity_refs, unknown), tags included. */
  readonly resourceRest: Uint8Array[];
  /** The entry's fields other than `resource` (scopes, schema_url, unknown), tags included, in order. */
  readonly entryRest: Uint8Array[];
}

/**
 * Takes apart the entry `entry` (the whole field: tag, length, message). Several `resource`
 * fields are merged as protobuf merges them (their attributes concatenated). Throws on bytes
 * that are not a length-delimited field 1.
 */
export function readEntry(entry: Uint8Array): EntryParts {
  const r = new BinaryReader(entry);
  const [field, wire] = r.tag();
  if (field !== 1 || wire !== LEN) throw new Error(`a resource entry is field 1 (length-delimited), got field ${field} wire type ${wire}`);
  const end = r.uint32() + r.pos;
  if (end !== entry.length) throw new Error('a resource entry must span its whole buffer');
  const attributes: WireAttribute[] = [];
  const resourceRest: Uint8Array[] = [];
  const entryRest: Uint8Array[] = [];
  let hasResource = false;
  // Runs of non-resource fields are kept as one view each (usually one run: resource first, then scopes).
  let runStart = r.pos;
  while (r.pos < end) {
    const fieldStart = r.pos;
    const [f, w] = r.tag();
    if (f === 1 && w === LEN) {
      if (fieldStart > runStart) entryRest.push(entry.subarray(runStart, fieldStart));
      hasResource = true;
      readResource(r.bytes(), attributes, resourceRest);
      runStart = r.pos;
    } else {
      r.skip(w, f);
    }
  }
  if (end > runStart) entryRest.push(entry.subarray(runStart, end));
  return { hasResource, attributes, resourceRest, entryRest };
}

function readResource(resource: Uint8Array, attributes: WireAttribute[], rest: Uint8Array[]): void {
  readAttributeFields(resource, 1, attributes, rest);
}

/**
 * Reads the attributes of a message whose `attributes` are field `fieldNo` (a Resource 1, a
 * NumberDataPoint 7, a LogRecord 6, a Span 9, ...) into `attributes`, its other fields (tags
 * included, in order) into `rest`.
 */
export function readAttributeFields(
  message: Uint8Array,
  fieldNo: number,
  attributes: WireAttribute[],
  rest: Uint8Array[] | undefined,
  start = 0,
  end = message.length,
): void {
  // Cursors, not protobuf-es's BinaryReader: no [field, wireType] array per tag (the item processors read every point's attributes).
  const r = fieldCursor;
  const k = kvCursor;
  r.on(message, start, end);
  while (r.pos < r.end) {
    const fieldStart = r.pos;
    r.tag();
    const f = r.field;
    const w = r.wire;
    if (f !== fieldNo || w !== LEN) {
      r.skip(w, f);
      rest?.push(message.subarray(fieldStart, r.pos));
      continue;
    }
    const kvEnd = r.len();
    const kvStart = r.pos;
    r.pos = kvEnd;
    // KeyValue: last key and last value win, as in a decoder; a value message set twice is merged,
    // which only the rare writer does: the concatenation of its parts is that merge.
    let keyStart = kvStart;
    let keyEnd = kvStart;
    let valueStart = -1;
    let valueEnd = -1;
    let merged: Uint8Array | undefined;
    k.on(message, kvStart, kvEnd);
    while (k.pos < k.end) {
      k.tag();
      const kf = k.field;
      const kw = k.wire;
      if ((kf === 1 || kf === 2) && kw === LEN) {
        const e = k.len();
        if (kf === 1) {
          keyStart = k.pos;
          keyEnd = e;
        } else if (valueStart < 0) {
          valueStart = k.pos;
          valueEnd = e;
        } else merged = concat(merged ?? message.subarray(valueStart, valueEnd), message.subarray(k.pos, e));
        k.pos = e;
      } else k.skip(kw, kf);
    }
    attributes.push(new WireAttribute(message, fieldStart, kvEnd, kvStart, keyStart, keyEnd, valueStart, valueEnd, merged));
  }
}

const EMPTY = new Uint8Array(0);
const fieldCursor = new Cursor(EMPTY, 0, 0, undefined, 'message');
const kvCursor = new Cursor(EMPTY, 0, 0, fieldCursor, 'attributes');

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * A resource entry (field 1 of the request, tag included) whose resource holds `attributes`
 * (whole fields, as in {@link WireAttribute.field}) followed by the resource's other fields,
 * then the entry's other fields as they were. The resource is written first.
 */
export function buildEntry(parts: EntryParts, attributes: readonly Uint8Array[]): Uint8Array {
  // The scopes are nearly all of an entry: they are copied once, into a buffer of the exact
  // size, not through a growing writer and its final copy. That one allocation and copy is
  // most of an edit's cost (5-8 of 11-14 µs for the benchmark's 12 KiB entry; BENCHMARKS.md).
  const w = new BinaryWriter();
  for (const a of attributes) w.raw(a);
  for (const f of parts.resourceRest) w.raw(f);
  const resource = w.finish();
  let restSize = 0;
  for (const f of parts.entryRest) restSize += f.length;
  const innerHead = w.tag(1, LEN).uint32(resource.length).finish();
  const outerHead = w
    .tag(1, LEN)
    .uint32(innerHead.length + resource.length + restSize)
    .finish();
  const out = new Uint8Array(outerHead.length + innerHead.length + resource.length + restSize);
  out.set(outerHead);
  let at = outerHead.length;
  out.set(innerHead, at);
  at += innerHead.length;
  out.set(resource, at);
  at += resource.length;
  for (const f of parts.entryRest) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

/** An `attributes` field of a Resource (tag included) holding `key` = `value`, as the library encodes attributes. */
export function encodeAttribute(key: string, value: AnyValueInput): WireAttribute {
  const w = new BinaryWriter();
  writeKeyValue(w, 1, key, value);
  const field = w.finish();
  return readAttribute(field);
}

/** Reads back one encoded `attributes` field. */
function readAttribute(field: Uint8Array): WireAttribute {
  const attributes: WireAttribute[] = [];
  readResource(field, attributes, []);
  return attributes[0]!;
}

/** Whether two byte strings are equal (attribute keys are compared as bytes: no decoding per attribute). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const utf8 = new TextEncoder();

/**
 * The string form of an AnyValue, as UTF-8: a string as is (its bytes, not re-encoded), a
 * bool `true`/`false`, an int in decimal, a double as JavaScript prints it (`0.5`, `1e+21`,
 * `NaN`) — the forms routes match on (otlp/scan.ts) —, and anything else (bytes, array,
 * kvlist, no value at all) as the OTLP/JSON of the whole AnyValue, e.g.
 * `{"arrayValue":{"values":[{"stringValue":"a"}]}}`, `{"bytesValue":"AQI="}`, `{}`.
 * The scalar forms are also read by scan.ts `readScalar`, on its own cursor: a deliberate copy,
 * that one is on every request's path, this one only on a `hash` edit's.
 */
export function anyValueStringForm(value: Uint8Array | undefined): Uint8Array {
  if (value === undefined) return utf8.encode('{}');
  const r = new BinaryReader(value);
  // The oneof's last member on the wire wins, as in a decoder.
  let last = 0;
  let text: Uint8Array | string = EMPTY;
  while (r.pos < r.len) {
    const [f, w] = r.tag();
    if (f === 1 && w === LEN) text = r.bytes();
    else if (f === 2 && w === VARINT) text = r.bool() ? 'true' : 'false';
    else if (f === 3 && w === VARINT) text = r.int64().toString();
    else if (f === 4 && w === I64) text = String(r.double());
    else {
      r.skip(w, f);
      if (f < 5 || f > 7) continue;
    }
    last = f;
  }
  if (last === 0 || last >= 5) return protobufToJson(AnyValueSchema, value);
  return typeof text === 'string' ? utf8.encode(text) : text;
}
