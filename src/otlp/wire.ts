/**
 * Protobuf wire-format helpers for our hand-written readers and writers (scan.ts,
 * json-from-protobuf.ts, encode/*, the gRPC pass-through in transport/pass-through.ts, the
 * metrics attribute slab): the wire-type constants, varint sizes and writes, and tag reading.
 * protobuf-es's BinaryWriter/BinaryReader do the same for whole messages; these are for the
 * places that work on raw bytes for speed. Loads no module at all (types only).
 *
 * The varint *readers* stay with their cursors (scan.ts's Cursor, json-from-protobuf.ts's
 * module cursor, the attribute slab): each is a hot loop over its own position state with its
 * own error reporting, and a shared reader would have to return a value and a position.
 */
import type { WireType } from '@bufbuild/protobuf/wire';

// Wire types, named as the protobuf encoding spec names them; the values of protobuf-es's
// WireType, written out so this module loads nothing (the main entry's start-up budget).
export const VARINT = 0 as WireType.Varint;
export const I64 = 1 as WireType.Bit64;
export const LEN = 2 as WireType.LengthDelimited;
export const SGROUP = 3 as WireType.StartGroup;
export const EGROUP = 4 as WireType.EndGroup;
export const I32 = 5 as WireType.Bit32;

/** Bytes of an unsigned varint holding `v` (a non-negative integer below 2^64). */
export function varintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  let n = 5;
  // Past 2^35 the shifts would overflow 32 bits, so divide instead.
  for (let x = Math.floor(v / 0x800000000); x > 0; x = Math.floor(x / 128)) n++;
  return n;
}

/**
 * Writes `v` (an unsigned 32-bit integer) as a varint at `buf[pos]` and returns the position
 * after it. The caller has made room (at most 5 bytes).
 */
export function writeVarint32(buf: Uint8Array, pos: number, v: number): number {
  while (v > 0x7f) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

/** A field tag as read from the wire. */
export interface Tag {
  readonly no: number;
  readonly wireType: WireType;
  /** Bytes the tag took. */
  readonly length: number;
}

/**
 * Reads the tag at the start of `bytes` when it is a minimal varint (what every encoder writes)
 * with a valid field number and a non-group wire type; undefined otherwise.
 */
export function readMinimalTag(bytes: Uint8Array): Tag | undefined {
  let value = 0;
  // A tag is a uint32: at most 5 varint bytes.
  for (let i = 0; i < 5 && i < bytes.length; i++) {
    const b = bytes[i]!;
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) {
      // A final 0x00 byte after the first means the varint was padded (non-minimal).
      if (i > 0 && b === 0) return undefined;
      const no = Math.floor(value / 8);
      const wireType = value % 8;
      if (no < 1 || no > 0x1fffffff) return undefined;
      if (wireType !== VARINT && wireType !== I64 && wireType !== LEN && wireType !== I32) return undefined;
      return { no, wireType, length: i + 1 };
    }
  }
  return undefined;
}

/** Whether the `length` bytes before `data` (in its buffer) are exactly the minimal varint of `tag`. */
export function minimalTagBefore(data: Uint8Array, tag: number, length: number): boolean {
  if (data.byteOffset < length || varintSize(tag) !== length) return false;
  const before = new Uint8Array(data.buffer, data.byteOffset - length, length);
  let n = tag;
  for (let i = 0; i < length; i++) {
    const byte = i === length - 1 ? n : (n % 128) | 0x80;
    if (before[i] !== byte) return false;
    n = Math.floor(n / 128);
  }
  return true;
}
