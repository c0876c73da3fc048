/**
 * Protobuf bytes → OTLP/JSON bytes in one pass over the wire format, without building
 * messages: a small reader walks the input and writes JSON into a growing byte buffer,
 * following a plan compiled once per message type from our schema (field numbers, JSON
 * names, scalar kinds, which bytes fields are hex ids).
 *
 * The output is the same JSON value as {@link encodeJson} gives for the decoded message
 * (same keys, same value spelling: ids as lowercase hex, enums as integers, 64-bit
 * integers as decimal strings, "NaN"/"Infinity"/"-Infinity", bytes as padded base64,
 * implicit-presence fields omitted when zero, `-0` written and spelled `0`); only the
 * key order may differ, as keys follow the order of the fields on the wire.
 *
 * Streaming is exact only when each field of a message occurs once, or, for a repeated
 * field, in one run. Every encoder writes that way; when a message does not (a field set
 * twice, a repeated field split by another field, two members of one oneof), protobuf
 * has "last one wins" and merge rules that a one-pass writer cannot follow, so the
 * output of that message is rewound and it is converted by the reference path
 * (`fromBinary` + `encodeJsonString`), which applies them.
 */
import { fromBinary, ScalarType } from '@bufbuild/protobuf';
import type { DescField, DescMessage } from '@bufbuild/protobuf';
import { encodeJsonString } from './json.js';
import { hexIdFields } from './json-ids.js';
import { WireFormatError } from './scan.js';
import { EGROUP, I32, I64, LEN, SGROUP, VARINT } from './wire.js';

/**
 * Converts the protobuf encoding of a `schema` message to OTLP/JSON (UTF-8), the same
 * JSON value as `encodeJson(schema, fromBinary(schema, bytes))` at a fraction of its
 * cost. Unknown fields are skipped. Throws {@link WireFormatError} for bytes that are
 * not a valid encoding (truncated, a wrong wire type for a known field, ...).
 */
export function protobufToJson(schema: DescMessage, bytes: Uint8Array): Uint8Array {
  const plan = planFor(schema);
  buf = bytes;
  view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  p = 0;
  // The output goes into a fresh buffer sized from the JSON/protobuf ratio of the last
  // request of this type, plus 1/8, and the result is a view of it: no final copy (the
  // copy was ~8% of the profile of an 11,000-point request). A buffer more than 1/4
  // empty (the first request of a type, a regrown buffer) is copied to its size instead.
  out = new Uint8Array(Math.ceil(bytes.length * plan.ratio * 1.125) + 64);
  outView = new DataView(out.buffer);
  o = 0;
  try {
    writeMessage(plan, bytes.length);
    // Small requests (where `{}` and keys dominate) would mislead the estimate.
    if (bytes.length >= 4096) plan.ratio = Math.min(Math.max(o / bytes.length, 1), 4);
    return o * 4 >= out.length * 3 ? out.subarray(0, o) : out.slice(0, o);
  } finally {
    depth = 0;
    out = EMPTY;
    outView = view = new DataView(EMPTY.buffer);
    buf = EMPTY;
  }
}

const EMPTY = new Uint8Array(0);

// Transcoding state: the calls are synchronous and never nested, so module-level
// variables (cheaper than fields in V8's optimized code) are safe.
let buf: Uint8Array = EMPTY;
let view: DataView = new DataView(EMPTY.buffer);
let p = 0;
let out: Uint8Array = EMPTY;
let outView: DataView = new DataView(EMPTY.buffer);
let o = 0;
// Nesting of the message being written; bounded as in protobuf-es (and most protobuf
// runtimes), so hostile input cannot exhaust the stack.
let depth = 0;
const RECURSION_LIMIT = 100;

// ---- plans ----------------------------------------------------------------------

// What the walker does with a field's value.
const enum Kind {
  Message,
  Double,
  Float,
  Int32, // int32 and enums
  Uint32,
  Sint32,
  Fixed32,
  Sfixed32,
  Int64,
  Uint64,
  Sint64,
  Fixed64,
  Sfixed64,
  Bool,
  String,
  Bytes,
  HexId,
}

interface FieldPlan {
  readonly field: DescField;
  readonly kind: Kind;
  /** Wire type of one value; repeated numeric fields also accept LEN (packed). */
  readonly wireType: number;
  readonly repeated: boolean;
  /** Omitted when zero: singular proto3 fields outside oneofs without `optional`. */
  readonly implicit: boolean;
  /** `"jsonName":` as UTF-8. */
  readonly key: Uint8Array;
  /** `key` as little-endian 32-bit words (zero-padded), written four bytes per store. */
  readonly keyWords: Int32Array;
  readonly bit: number;
  /** Bits that, already seen, mean this field is set a second time (itself, its oneof). */
  readonly conflicts: number;
  message: MessagePlan | undefined;
}

interface MessagePlan {
  readonly desc: DescMessage;
  /** Indexed by field number. */
  readonly byNumber: (FieldPlan | undefined)[];
  /** Map or group fields, or too many fields for the bit set: always use the reference path. */
  readonly reference: boolean;
  /** JSON bytes per protobuf byte of the last message converted from this type (root types only). */
  ratio: number;
}

const plans = new WeakMap<DescMessage, MessagePlan>();
const ascii = new TextEncoder();

function planFor(desc: DescMessage): MessagePlan {
  const cached = plans.get(desc);
  if (cached !== undefined) return cached;
  const byNumber: (FieldPlan | undefined)[] = [];
  let reference = desc.fields.length > 30;
  const fieldPlans: FieldPlan[] = [];
  desc.fields.forEach((field, index) => {
    if (field.fieldKind === 'map' || (field.message !== undefined && field.delimitedEncoding)) {
      reference = true;
      return;
    }
    const kind = kindOf(field);
    const repeated = field.fieldKind === 'list';
    const key = ascii.encode(`${JSON.stringify(field.jsonName)}:`);
    const fp: FieldPlan = {
      field,
      kind,
      wireType: wireTypeOf(kind),
      repeated,
      implicit: !repeated && field.oneof === undefined && field.presence === IMPLICIT && kind !== Kind.Message,
      key,
      keyWords: Int32Array.from(
        { length: Math.ceil(key.length / 4) },
        (_, i) => (key[4 * i] ?? 0) | ((key[4 * i + 1] ?? 0) << 8) | ((key[4 * i + 2] ?? 0) << 16) | ((key[4 * i + 3] ?? 0) << 24),
      ),
      bit: 1 << index,
      conflicts: field.oneof === undefined ? 1 << index : oneofBits(desc, field),
      message: undefined,
    };
    byNumber[field.number] = fp;
    fieldPlans.push(fp);
  });
  // 2.5: OTLP metrics and logs requests measure 2.0-2.4 JSON bytes per protobuf byte.
  const plan: MessagePlan = { desc, byNumber, reference, ratio: 2.5 };
  // Registered before the children, so recursive types (AnyValue) resolve to it.
  plans.set(desc, plan);
  for (const fp of fieldPlans) {
    const f = fp.field;
    if (f.fieldKind === 'message' || (f.fieldKind === 'list' && f.listKind === 'message')) fp.message = planFor(f.message);
  }
  return plan;
}

// FeatureSet_FieldPresence.IMPLICIT; the enum lives in protobuf-es' wkt bundle.
const IMPLICIT = 2;

function oneofBits(desc: DescMessage, field: DescField): number {
  let bits = 0;
  desc.fields.forEach((f, i) => {
    if (f.oneof !== undefined && f.oneof === field.oneof) bits |= 1 << i;
  });
  return bits;
}

function kindOf(field: DescField): Kind {
  if (field.fieldKind === 'message' || (field.fieldKind === 'list' && field.listKind === 'message')) return Kind.Message;
  if (field.fieldKind === 'enum' || (field.fieldKind === 'list' && field.listKind === 'enum')) return Kind.Int32;
  if (field.fieldKind !== 'scalar' && field.fieldKind !== 'list') throw new TypeError(`unsupported field ${field.toString()}`);
  switch (field.scalar) {
    case ScalarType.DOUBLE:
      return Kind.Double;
    case ScalarType.FLOAT:
      return Kind.Float;
    case ScalarType.INT32:
      return Kind.Int32;
    case ScalarType.UINT32:
      return Kind.Uint32;
    case ScalarType.SINT32:
      return Kind.Sint32;
    case ScalarType.FIXED32:
      return Kind.Fixed32;
    case ScalarType.SFIXED32:
      return Kind.Sfixed32;
    case ScalarType.INT64:
      return Kind.Int64;
    case ScalarType.UINT64:
      return Kind.Uint64;
    case ScalarType.SINT64:
      return Kind.Sint64;
    case ScalarType.FIXED64:
      return Kind.Fixed64;
    case ScalarType.SFIXED64:
      return Kind.Sfixed64;
    case ScalarType.BOOL:
      return Kind.Bool;
    case ScalarType.STRING:
      return Kind.String;
    case ScalarType.BYTES:
      return hexIdFields.has(field) ? Kind.HexId : Kind.Bytes;
  }
}

function wireTypeOf(kind: Kind): number {
  switch (kind) {
    case Kind.Message:
    case Kind.String:
    case Kind.Bytes:
    case Kind.HexId:
      return LEN;
    case Kind.Double:
    case Kind.Fixed64:
    case Kind.Sfixed64:
      return I64;
    case Kind.Float:
    case Kind.Fixed32:
    case Kind.Sfixed32:
      return I32;
    default:
      return VARINT;
  }
}

// ---- the walk -------------------------------------------------------------------

/** Writes the message in bytes [p, end) as a JSON object; leaves p at end. */
function writeMessage(plan: MessagePlan, end: number): void {
  const start = p;
  const outStart = o;
  if (++depth > RECURSION_LIMIT) fail(plan, `messages nested deeper than ${RECURSION_LIMIT} levels`);
  if (plan.reference) {
    writeReference(plan, start, end);
    depth--;
    return;
  }
  ensure(1);
  out[o++] = 123; // {
  const byNumber = plan.byNumber;
  let seen = 0;
  let prev: FieldPlan | undefined;
  let arrayOpen = false;
  while (p < end) {
    let tag = buf[p]!;
    if (tag < 0x80) p++;
    else tag = varint32(end);
    const wt = tag & 7;
    const f = byNumber[tag >>> 3];
    if (f === undefined) {
      if (tag >>> 3 === 0) fail(plan, `invalid field number 0 at byte ${p}`);
      skip(wt, tag >>> 3, end, plan);
      continue;
    }
    if (f !== prev || !f.repeated) {
      if ((seen & f.conflicts) !== 0) {
        // Set twice or split: rewind and let the reference path apply protobuf's rules.
        p = start;
        o = outStart;
        writeReference(plan, start, end);
        depth--;
        return;
      }
      seen |= f.bit;
      if (arrayOpen) {
        ensure(1);
        out[o++] = 93; // ]
        arrayOpen = false;
      }
      prev = f;
    }
    if (f.repeated) {
      if (wt === LEN && f.wireType !== LEN) {
        // Packed: a run of values in one length-delimited field.
        const packedEnd = lengthEnd(end, plan);
        while (p < packedEnd) {
          ensure(f.key.length + 48);
          if (arrayOpen) out[o++] = 44;
          else {
            openMember(f);
            out[o++] = 91; // [
            arrayOpen = true;
          }
          writeScalar(f, packedEnd, plan);
        }
        continue;
      }
      if (wt !== f.wireType) wrongWireType(plan, f, wt);
      ensure(f.key.length + 48);
      if (arrayOpen) out[o++] = 44;
      else {
        openMember(f);
        out[o++] = 91;
        arrayOpen = true;
      }
      writeValue(f, end, plan);
      continue;
    }
    if (wt !== f.wireType) wrongWireType(plan, f, wt);
    if (f.implicit) writeImplicit(f, end, plan);
    else {
      ensure(f.key.length + 48);
      openMember(f);
      writeValue(f, end, plan);
    }
  }
  if (p !== end) fail(plan, `a field runs past the end of the message at byte ${p}`);
  closeObject(arrayOpen);
  depth--;
}

/** `]` if the last field was a list, then `}`. */
function closeObject(arrayOpen: boolean): void {
  ensure(2);
  // Branch-free: a rarely taken `if` here sent V8 into a deoptimization loop (1,800 per request).
  out[o] = 93;
  o += arrayOpen ? 1 : 0;
  out[o++] = 125; // }
}

/** Comma if needed, then the key. Capacity is ensured by the caller. */
function openMember(f: FieldPlan): void {
  // Byte loops work on locals: module-level `out`/`o` would be reloaded on every store.
  const ob = out;
  let q = o;
  if (ob[q - 1] !== 123) ob[q++] = 44;
  // Keys are the most frequent bytes; word stores cut their share of the profile by a
  // third against a byte loop or TypedArray#set. The last word may write up to 3 bytes
  // past the key, inside the capacity every caller ensures; they are overwritten next.
  const words = f.keyWords;
  const v = outView;
  for (let i = 0; i < words.length; i++) v.setInt32(q + 4 * i, words[i]!, true);
  o = q + f.key.length;
}

/** Writes one value of `f` (tag already read, wire type checked). */
function writeValue(f: FieldPlan, end: number, plan: MessagePlan): void {
  switch (f.kind) {
    case Kind.Message: {
      const e = lengthEnd(end, plan);
      writeMessage(f.message!, e);
      return;
    }
    case Kind.String: {
      const e = lengthEnd(end, plan);
      if (!writeString(p, e)) invalidUtf8(plan, f);
      p = e;
      return;
    }
    case Kind.Bytes: {
      const e = lengthEnd(end, plan);
      writeBase64(p, e);
      p = e;
      return;
    }
    case Kind.HexId: {
      const e = lengthEnd(end, plan);
      writeHex(p, e);
      p = e;
      return;
    }
    default:
      writeScalar(f, end, plan);
  }
}

/** Writes a numeric or bool value (capacity for 48 bytes ensured by the caller). */
function writeScalar(f: FieldPlan, end: number, plan: MessagePlan): void {
  switch (f.kind) {
    case Kind.Double:
      need(8, end, plan);
      writeDouble(view.getFloat64(p, true));
      p += 8;
      return;
    case Kind.Float:
      need(4, end, plan);
      writeDouble(view.getFloat32(p, true));
      p += 4;
      return;
    case Kind.Int32:
      writeInt(varint32(end) | 0);
      return;
    case Kind.Uint32:
      writeInt(varint32(end) >>> 0);
      return;
    case Kind.Sint32: {
      const n = varint32(end);
      writeInt((n >>> 1) ^ -(n & 1));
      return;
    }
    case Kind.Fixed32:
      need(4, end, plan);
      writeInt(view.getUint32(p, true));
      p += 4;
      return;
    case Kind.Sfixed32:
      need(4, end, plan);
      writeInt(view.getInt32(p, true));
      p += 4;
      return;
    case Kind.Int64:
      varint64(end);
      writeInt64(true);
      return;
    case Kind.Uint64:
      varint64(end);
      writeInt64(false);
      return;
    case Kind.Sint64: {
      varint64(end);
      // Zigzag: (n >>> 1) ^ -(n & 1) over 64 bits.
      const neg = lo & 1;
      lo = ((lo >>> 1) | (hi << 31)) >>> 0;
      hi = hi >>> 1;
      if (neg !== 0) {
        lo = ~lo >>> 0;
        hi = ~hi >>> 0;
      }
      writeInt64(true);
      return;
    }
    case Kind.Fixed64:
      need(8, end, plan);
      lo = view.getUint32(p, true);
      hi = view.getUint32(p + 4, true);
      p += 8;
      writeInt64(false);
      return;
    case Kind.Sfixed64:
      need(8, end, plan);
      lo = view.getUint32(p, true);
      hi = view.getUint32(p + 4, true);
      p += 8;
      writeInt64(true);
      return;
    case Kind.Bool: {
      varint64(end);
      writeAscii(lo !== 0 || hi !== 0 ? 'true' : 'false');
      return;
    }
    default:
      // Length-delimited kinds are never packed.
      fail(plan, `${f.field.name} cannot be packed`);
  }
}

/** A singular implicit-presence field: read first, written only when not zero. */
function writeImplicit(f: FieldPlan, end: number, plan: MessagePlan): void {
  switch (f.kind) {
    case Kind.String:
    case Kind.Bytes:
    case Kind.HexId: {
      const e = lengthEnd(end, plan);
      if (e === p) return;
      const n = e - p;
      // Worst case: every byte a \u00XX escape, or base64's 4/3 plus quotes.
      ensure(f.key.length + n * 6 + 2);
      openMember(f);
      if (f.kind === Kind.String) {
        if (!writeString(p, e)) invalidUtf8(plan, f);
      } else if (f.kind === Kind.Bytes) writeBase64(p, e);
      else writeHex(p, e);
      p = e;
      return;
    }
    case Kind.Double:
    case Kind.Fixed64:
    case Kind.Sfixed64:
      // All eight bytes zero is +0 (or 0): omitted; -0 has its sign bit set and is written.
      need(8, end, plan);
      if (view.getUint32(p, true) === 0 && view.getUint32(p + 4, true) === 0) {
        p += 8;
        return;
      }
      break;
    case Kind.Float:
    case Kind.Fixed32:
    case Kind.Sfixed32:
      need(4, end, plan);
      if (view.getUint32(p, true) === 0) {
        p += 4;
        return;
      }
      break;
    default: {
      // Varints: zero is the single byte 0 in canonical form; otherwise decode to know.
      const at = p;
      varint64(end);
      if (lo === 0 && hi === 0) return;
      // 32-bit kinds only see the low half: a zero low half with a non-zero high half
      // is zero for them too.
      if (lo === 0 && f.kind !== Kind.Int64 && f.kind !== Kind.Uint64 && f.kind !== Kind.Sint64 && f.kind !== Kind.Bool) return;
      p = at;
    }
  }
  ensure(f.key.length + 48);
  openMember(f);
  writeScalar(f, end, plan);
}

function writeReference(plan: MessagePlan, start: number, end: number): void {
  let text: string;
  try {
    text = encodeJsonString(plan.desc, fromBinary(plan.desc, buf.subarray(start, end)));
  } catch (cause) {
    throw new WireFormatError(`${plan.desc.typeName}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  ensure(text.length * 3);
  o += ascii.encodeInto(text, out.subarray(o)).written;
  p = end;
}

// ---- reading ----------------------------------------------------------------------

// The 64-bit value last read by varint64 (or a fixed64), as two unsigned 32-bit halves.
let lo = 0;
let hi = 0;

/** Reads a varint and returns its low 32 bits (as protobuf does for 32-bit fields). */
function varint32(end: number): number {
  let result = 0;
  for (let shift = 0; shift < 70; shift += 7) {
    if (p >= end) throw new WireFormatError(`truncated varint at byte ${p}`);
    const b = buf[p++]!;
    if (shift < 32) result |= (b & 0x7f) << shift;
    if (b < 0x80) return result >>> 0;
  }
  throw new WireFormatError(`varint longer than 10 bytes at byte ${p}`);
}

/** Reads a varint into `lo`/`hi`. */
function varint64(end: number): void {
  let l = 0;
  let h = 0;
  for (let shift = 0; shift < 70; shift += 7) {
    if (p >= end) throw new WireFormatError(`truncated varint at byte ${p}`);
    const b = buf[p++]!;
    if (shift < 28) l |= (b & 0x7f) << shift;
    else if (shift === 28) {
      l |= (b & 0x0f) << 28;
      h = (b & 0x7f) >>> 4;
    } else h |= (b & 0x7f) << (shift - 32);
    if (b < 0x80) {
      lo = l >>> 0;
      hi = h >>> 0;
      return;
    }
  }
  throw new WireFormatError(`varint longer than 10 bytes at byte ${p}`);
}

/** Reads a length prefix; returns the end of the payload, which must lie within `end`. */
function lengthEnd(end: number, plan: MessagePlan): number {
  let n = buf[p]!;
  if (n < 0x80 && p < end) p++;
  else n = varint32(end);
  const e = p + n;
  if (e > end) fail(plan, `length ${n} at byte ${p} runs past the end of the message`);
  return e;
}

function need(n: number, end: number, plan: MessagePlan): void {
  if (p + n > end) fail(plan, `truncated ${n}-byte value at byte ${p}`);
}

function skip(wt: number, field: number, end: number, plan: MessagePlan): void {
  switch (wt) {
    case VARINT:
      varint64(end);
      return;
    case I64:
      need(8, end, plan);
      p += 8;
      return;
    case I32:
      need(4, end, plan);
      p += 4;
      return;
    case LEN:
      p = lengthEnd(end, plan);
      return;
    case SGROUP:
      // A group of an unknown field: skip to its end-group tag, as protobuf readers do.
      if (depth + 1 > RECURSION_LIMIT) fail(plan, `groups nested deeper than ${RECURSION_LIMIT} levels`);
      depth++;
      for (;;) {
        if (p >= end) fail(plan, `unterminated group of field ${field}`);
        const tag = varint32(end);
        if ((tag & 7) === EGROUP) {
          if (tag >>> 3 !== field) fail(plan, `group of field ${field} ended by field ${tag >>> 3}`);
          depth--;
          return;
        }
        skip(tag & 7, tag >>> 3, end, plan);
      }
    default:
      fail(plan, `field ${field} has invalid wire type ${wt} at byte ${p}`);
  }
}

function wrongWireType(plan: MessagePlan, f: FieldPlan, wt: number): never {
  fail(plan, `field ${f.field.number} (${f.field.name}) has wire type ${wt}, expected ${f.wireType} at byte ${p}`);
}

function invalidUtf8(plan: MessagePlan, f: FieldPlan): never {
  fail(plan, `field ${f.field.number} (${f.field.name}) is not valid UTF-8 at byte ${p}`);
}

function fail(plan: MessagePlan, message: string): never {
  throw new WireFormatError(`${plan.desc.typeName}: ${message}`);
}

// ---- writing --------------------------------------------------------------------

function ensure(n: number): void {
  if (o + n <= out.length) return;
  const grown = new Uint8Array(Math.max(out.length * 2, o + n));
  grown.set(out.subarray(0, o));
  out = grown;
  outView = new DataView(grown.buffer);
}

function writeAscii(s: string): void {
  const ob = out;
  let q = o;
  for (let i = 0; i < s.length; i++) ob[q++] = s.charCodeAt(i);
  o = q;
}

/** A safe integer in decimal, without making a string. */
function writeInt(v: number): void {
  const ob = out;
  let q = o;
  if (v < 0) {
    ob[q++] = 45; // -
    v = -v;
  }
  let digits = 1;
  if (v < 0x80000000) {
    // Int32 division for the common case; the double path below is ~3× slower.
    for (let t = v; t >= 10; t = (t / 10) | 0) digits++;
    q += digits;
    for (let i = q - 1; v >= 10; i--) {
      const d = (v / 10) | 0;
      ob[i] = 48 + (v - d * 10);
      v = d;
    }
  } else {
    for (let t = v; t >= 10; t = Math.floor(t / 10)) digits++;
    q += digits;
    for (let i = q - 1; v >= 10; i--) {
      const d = Math.floor(v / 10);
      ob[i] = 48 + (v - d * 10);
      v = d;
    }
  }
  ob[q - digits] = 48 + v;
  o = q;
}

/** 0 <= n < 10^7 as exactly seven digits. */
function writeDigits7(n: number): void {
  const ob = out;
  for (let i = o + 6; i >= o; i--) {
    const d = (n / 10) | 0;
    ob[i] = 48 + (n - d * 10);
    n = d;
  }
  o += 7;
}

/** A double as JSON.stringify spells it, or the proto3 JSON strings for non-finite values. */
function writeDouble(v: number): void {
  // Most metric values and bounds are small integers: no string needed (-0 prints as 0, as in JSON.stringify).
  if (v === (v | 0)) writeInt(v | 0);
  else if (v !== v) writeAscii('"NaN"');
  else if (v === Infinity) writeAscii('"Infinity"');
  else if (v === -Infinity) writeAscii('"-Infinity"');
  else writeAscii(String(v));
}

/** `lo`/`hi` as a quoted decimal, signed (two's complement) or unsigned. */
function writeInt64(signed: boolean): void {
  out[o++] = 34;
  if (signed && hi >= 0x80000000) {
    out[o++] = 45;
    lo = (~lo + 1) >>> 0;
    hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
  }
  if (hi < 0x200000) writeInt(hi * 0x100000000 + lo);
  else writeBigDecimal(lo, hi);
  out[o++] = 34;
}

/** hi·2^32 + lo in decimal, for values of 2^53 and more (timestamps in nanoseconds). */
function writeBigDecimal(l: number, h: number): void {
  // Split into 24 + 24 + 16 bits: v = a + b·2^24 + c·2^48. With 2^24 = 1·10^7 + 6777216 and
  // 2^48 = 28147497·10^7 + 6710656 = (2·10^7 + 8147497)·10^7 + 6710656, v in base 10^7 has
  // digits d0 = a + 6777216·b + 6710656·c, d1 = b + 8147497·c, d2 = 2·c before carrying;
  // each stays below 2^53, so plain double arithmetic is exact.
  const a = l & 0xffffff;
  const b = ((l >>> 24) | (h << 8)) & 0xffffff;
  const c = h >>> 16;
  let d0 = a + 6777216 * b + 6710656 * c;
  let d1 = b + 8147497 * c;
  let d2 = 2 * c;
  let carry = Math.floor(d0 / 1e7);
  d0 -= carry * 1e7;
  d1 += carry;
  carry = Math.floor(d1 / 1e7);
  d1 -= carry * 1e7;
  d2 += carry;
  if (d2 > 0) {
    writeInt(d2);
    writeDigits7(d1);
  } else writeInt(d1);
  writeDigits7(d0);
}

// JSON.stringify's escapes for the bytes below 0x20: the short forms where JSON has one.
const SHORT_ESCAPES: Record<number, number> = { 8: 98, 9: 116, 10: 110, 12: 102, 13: 114 };
const HEX = '0123456789abcdef';

/**
 * The UTF-8 string in bytes [start, end) as a JSON string, escaped as JSON.stringify
 * does; valid UTF-8 needs no other escape, so it is copied byte for byte. Returns false
 * for invalid UTF-8, which proto3 strings must not hold (protobuf-es refuses it too).
 */
function writeString(start: number, end: number): boolean {
  ensure((end - start) * 6 + 2);
  const ob = out;
  const ib = buf;
  let q = o;
  ob[q++] = 34;
  let checked = false;
  for (let i = start; i < end; i++) {
    const c = ib[i]!;
    if (c >= 0x20 && c !== 34 && c !== 92) {
      if (c >= 0x80 && !checked) {
        if (!validUtf8(i, end)) return false;
        checked = true;
      }
      ob[q++] = c;
    } else if (c === 34 || c === 92) {
      ob[q++] = 92;
      ob[q++] = c;
    } else {
      ob[q++] = 92;
      const short = SHORT_ESCAPES[c];
      if (short !== undefined) ob[q++] = short;
      else {
        ob[q++] = 117; // u00XX
        ob[q++] = 48;
        ob[q++] = 48;
        ob[q++] = HEX.charCodeAt(c >> 4);
        ob[q++] = HEX.charCodeAt(c & 15);
      }
    }
  }
  ob[q++] = 34;
  o = q;
  return true;
}

/** Whether bytes [i, end) are well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF). */
function validUtf8(i: number, end: number): boolean {
  while (i < end) {
    const c = buf[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let min = 0x80;
    let max = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c === 0xe0) min = 0xa0;
      else if (c === 0xed) max = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c === 0xf0) min = 0x90;
      else if (c === 0xf4) max = 0x8f;
    } else return false;
    if (i + n >= end) return false;
    const second = buf[i + 1]!;
    if (second < min || second > max) return false;
    for (let k = 2; k <= n; k++) {
      const b = buf[i + k]!;
      if (b < 0x80 || b > 0xbf) return false;
    }
    i += n + 1;
  }
  return true;
}

const B64 = ascii.encode('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');

/** Bytes [start, end) as a quoted standard base64 string with padding. */
function writeBase64(start: number, end: number): void {
  ensure(Math.ceil((end - start) / 3) * 4 + 2);
  out[o++] = 34;
  let i = start;
  for (; i + 3 <= end; i += 3) {
    const n = (buf[i]! << 16) | (buf[i + 1]! << 8) | buf[i + 2]!;
    out[o++] = B64[n >> 18]!;
    out[o++] = B64[(n >> 12) & 63]!;
    out[o++] = B64[(n >> 6) & 63]!;
    out[o++] = B64[n & 63]!;
  }
  if (end - i === 1) {
    const n = buf[i]!;
    out[o++] = B64[n >> 2]!;
    out[o++] = B64[(n & 3) << 4]!;
    out[o++] = 61;
    out[o++] = 61;
  } else if (end - i === 2) {
    const n = (buf[i]! << 8) | buf[i + 1]!;
    out[o++] = B64[n >> 10]!;
    out[o++] = B64[(n >> 4) & 63]!;
    out[o++] = B64[(n & 15) << 2]!;
    out[o++] = 61;
  }
  out[o++] = 34;
}

// Each byte's two hex digits as one little-endian 16-bit word: one store per byte.
const HEX_PAIRS = new Uint16Array(256);
for (let b = 0; b < 256; b++) HEX_PAIRS[b] = HEX.charCodeAt(b >> 4) | (HEX.charCodeAt(b & 15) << 8);

/** Bytes [start, end) as a quoted lowercase hex string (ids of any length, as encodeJson). */
function writeHex(start: number, end: number): void {
  ensure((end - start) * 2 + 2);
  const v = outView;
  const ib = buf;
  let q = o;
  out[q++] = 34;
  for (let i = start; i < end; i++, q += 2) v.setUint16(q, HEX_PAIRS[ib[i]!]!, true);
  out[q++] = 34;
  o = q;
}
