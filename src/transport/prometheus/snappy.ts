/**
 * Snappy block format (not the framing format): what Prometheus remote write compresses its bodies
 * with. Our own encoder rather than a package (README, Dependencies, says why; bench/snappy.bench.ts
 * measures it against snappyjs). The format: the uncompressed length as a varint, then elements, each
 * a tag byte whose low 2 bits say what follows:
 * - 00 literal: length-1 in the tag's high 6 bits (< 60), or in the 1–4 bytes after it (60–63 say how
 *   many), then the bytes;
 * - 01 copy with a 1-byte offset: length 4–11 in bits 2–4, offset's high 3 bits in bits 5–7;
 * - 10 copy with a 2-byte little-endian offset: length 1–64 in the high 6 bits;
 * - 11 copy with a 4-byte offset (never written here: blocks are 64 KiB, so offsets fit in 2 bytes).
 * The encoder is the reference one's greedy scheme: 64 KiB blocks, a hash table of 4-byte sequences, a
 * skip that grows while nothing matches (incompressible input passes at a few bytes per probe).
 */

const BLOCK = 1 << 16;
const TABLE_BITS = 14;
// Hashing a 4-byte word: a multiplicative hash, the reference implementation's constant.
const HASH_MUL = 0x1e35a7bd;
// Matches shorter than this cost more as a copy than as a literal.
const MIN_MATCH = 4;
// Reused per call: reset per block (a block's offsets start at 0).
const table = new Int32Array(1 << TABLE_BITS);

/** The largest output for `n` input bytes (the reference's bound). */
export function maxCompressedLength(n: number): number {
  return 32 + n + Math.floor(n / 6);
}

/** Compresses `input` to one snappy block. */
export function snappyCompress(input: Uint8Array): Uint8Array {
  // Not zero-filled: only the bytes written are returned.
  const out = Buffer.allocUnsafe(maxCompressedLength(input.length));
  let o = varint(out, 0, input.length);
  for (let start = 0; start < input.length; start += BLOCK) {
    o = compressBlock(input, start, Math.min(start + BLOCK, input.length), out, o);
  }
  return out.subarray(0, o);
}

/** 4 bytes as a signed int32: compared and hashed only, and a signed value stays a small integer in V8 (no heap number). */
function load32(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}

function hash(u: number): number {
  return Math.imul(u, HASH_MUL) >>> (32 - TABLE_BITS);
}

function compressBlock(src: Uint8Array, start: number, end: number, out: Uint8Array, o: number): number {
  // Too short to hold a match and the 4 bytes of lookahead the loop reads.
  if (end - start < MIN_MATCH + 11) return literal(src, start, end, out, o);
  table.fill(-1);
  const limit = end - MIN_MATCH - 11;
  let pending = start; // first byte not yet written
  let s = start + 1;
  let nextHash = hash(load32(src, s));
  for (;;) {
    // Find a match: probe with a step that grows as misses accumulate (1 for the first 32, then faster).
    let skip = 32;
    let next = s;
    let candidate: number;
    do {
      s = next;
      const h = nextHash;
      const step = skip >> 5;
      next = s + step;
      skip += step;
      if (next > limit) return literal(src, pending, end, out, o);
      candidate = table[h]!;
      table[h] = s - start;
      nextHash = hash(load32(src, next));
    } while (candidate < 0 || load32(src, start + candidate) !== load32(src, s));
    candidate += start;
    o = literal(src, pending, s, out, o);
    // Emit copies while the next position matches right away (runs, repeated records).
    for (;;) {
      const base = s;
      s += MIN_MATCH;
      let c = candidate + MIN_MATCH;
      while (s < end && src[s] === src[c]) {
        s++;
        c++;
      }
      o = copy(out, o, base - candidate, s - base);
      pending = s;
      if (s >= limit) return literal(src, pending, end, out, o);
      // Index the position before s too, so that an overlapping next match is found.
      table[hash(load32(src, s - 1))] = s - 1 - start;
      const h = hash(load32(src, s));
      candidate = table[h]! + start;
      table[h] = s - start;
      if (candidate < start || load32(src, candidate) !== load32(src, s)) break;
    }
    s++;
    nextHash = hash(load32(src, s));
  }
}

function literal(src: Uint8Array, from: number, to: number, out: Uint8Array, o: number): number {
  const n = to - from;
  if (n === 0) return o;
  const m = n - 1;
  if (m < 60) out[o++] = m << 2;
  else if (m < 1 << 8) {
    out[o++] = 60 << 2;
    out[o++] = m;
  } else if (m < 1 << 16) {
    out[o++] = 61 << 2;
    out[o++] = m & 0xff;
    out[o++] = m >>> 8;
  } else {
    // Blocks are 64 KiB, so a literal's length-1 fits in 2 bytes; 3 bytes for safety.
    out[o++] = 62 << 2;
    out[o++] = m & 0xff;
    out[o++] = (m >>> 8) & 0xff;
    out[o++] = m >>> 16;
  }
  out.set(src.subarray(from, to), o);
  return o + n;
}

/** A copy of `length` bytes from `offset` back (offset < 64 KiB), as 2-byte-offset copies of at most 64. */
function copy(out: Uint8Array, o: number, offset: number, length: number): number {
  // Chunks of 64, keeping the last one at least 4 long (a 1-byte-offset copy needs 4).
  while (length >= 68) {
    o = copy2(out, o, offset, 64);
    length -= 64;
  }
  if (length > 64) {
    o = copy2(out, o, offset, 60);
    length -= 60;
  }
  if (length < 12 && offset < 2048) {
    out[o++] = ((offset >>> 8) << 5) | ((length - 4) << 2) | 1;
    out[o++] = offset & 0xff;
    return o;
  }
  return copy2(out, o, offset, length);
}

function copy2(out: Uint8Array, o: number, offset: number, length: number): number {
  out[o++] = ((length - 1) << 2) | 2;
  out[o++] = offset & 0xff;
  out[o++] = offset >>> 8;
  return o;
}

function varint(out: Uint8Array, o: number, v: number): number {
  while (v >= 0x80) {
    out[o++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[o++] = v;
  return o;
}

/** A snappy block that does not decode. */
export class SnappyError extends Error {
  override readonly name = 'SnappyError';
}

/**
 * Decompresses one snappy block, refusing one that would exceed `maxLength` bytes before allocating
 * (the length comes first). Throws {@link SnappyError} on malformed input.
 */
export function snappyDecompress(input: Uint8Array, maxLength = 64 * 1024 * 1024): Uint8Array {
  let i = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (i >= input.length || shift > 28) throw new SnappyError('bad length varint');
    const b = input[i++]!;
    length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  if (length > maxLength) throw new SnappyError(`decompressed length ${length} over the limit ${maxLength}`);
  const out = new Uint8Array(length);
  let o = 0;
  while (i < input.length) {
    const tag = input[i++]!;
    let n: number;
    let offset: number;
    switch (tag & 3) {
      case 0: {
        n = tag >>> 2;
        if (n >= 60) {
          const bytes = n - 59;
          if (i + bytes > input.length) throw new SnappyError('truncated literal length');
          n = 0;
          for (let k = 0; k < bytes; k++) n += input[i + k]! * 2 ** (8 * k);
          i += bytes;
        }
        n += 1;
        if (i + n > input.length || o + n > length) throw new SnappyError('literal past the end');
        out.set(input.subarray(i, i + n), o);
        i += n;
        o += n;
        continue;
      }
      case 1:
        if (i >= input.length) throw new SnappyError('truncated copy');
        n = 4 + ((tag >>> 2) & 7);
        offset = ((tag >>> 5) << 8) | input[i++]!;
        break;
      case 2:
        if (i + 2 > input.length) throw new SnappyError('truncated copy');
        n = 1 + (tag >>> 2);
        offset = input[i]! | (input[i + 1]! << 8);
        i += 2;
        break;
      default:
        if (i + 4 > input.length) throw new SnappyError('truncated copy');
        n = 1 + (tag >>> 2);
        offset = load32(input, i) >>> 0;
        i += 4;
    }
    if (offset === 0 || offset > o || o + n > length) throw new SnappyError('copy out of range');
    // Byte by byte: a copy may overlap its own output (a run).
    for (let k = 0; k < n; k++, o++) out[o] = out[o - offset]!;
  }
  if (o !== length) throw new SnappyError(`decompressed ${o} bytes, the header said ${length}`);
  return out;
}
