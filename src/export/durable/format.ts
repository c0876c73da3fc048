/**
 * The durable log's on-disk format, version 1, and its parser. Everything that reads bytes of a
 * segment goes through `decodeSegmentHeader` and `nextFrame`; both take any bytes (the fuzz target
 * `test/export/durable/fuzz.ts` feeds them random and mutated segments) and never throw.
 *
 * A segment is one file, `<base>.seg`, `<base>` the global position of its first byte, 16 decimal
 * digits (positions are byte offsets in one address space for the whole log, plain numbers: 2^53
 * bytes is 9 PB, so the hot path needs no bigint). Little-endian throughout.
 *
 * Segment header (32 bytes):
 * ```
 *  0 u32 magic "OFDL"      4 u16 format version (1)   6 u16 header size (32)
 *  8 f64 base position    16 f64 sequence number of the segment's first record
 * 24 u32 nonce (random, ≠ 0, per segment)              28 u32 CRC-32C of bytes 0–27
 * ```
 * Frame (24-byte header, then the payload):
 * ```
 *  0 u32 the segment's nonce (sync word)   4 u32 payload length   8 f64 record sequence number
 * 16 u32 CRC-32C of the payload           20 u32 CRC-32C of bytes 0–19
 * ```
 * Why a header checksum separate from the payload's: when only the payload is damaged the length is
 * still trusted, so exactly one record is lost and the next one is found at once; when the header is
 * damaged the reader searches forward for the next valid header (the sync word makes the search a
 * `indexOf`). The sync word is the segment's random nonce, so bytes a client sent (a payload holding
 * a copy of a frame) cannot pass for a frame during that search. Sequence numbers count records
 * across the whole log: a reader's backlog in records is a subtraction, and the records lost to a
 * damaged stretch are counted exactly from the gap.
 */
import { crc32c } from './crc32c.js';

/** "OFDL" read as a little-endian u32. */
export const SEGMENT_MAGIC = 0x4c44464f;
export const FORMAT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 32;
export const FRAME_HEADER_BYTES = 24;

/** Name of the segment file whose first byte is at `base`. */
export function segmentFileName(base: number): string {
  return `${String(base).padStart(16, '0')}.seg`;
}

/** The base position a segment file name encodes, or undefined when `name` is not a segment's. */
export function parseSegmentFileName(name: string): number | undefined {
  if (!/^\d{16}\.seg$/.test(name)) return undefined;
  const base = Number(name.slice(0, 16));
  return Number.isSafeInteger(base) ? base : undefined;
}

export interface SegmentHeader {
  readonly base: number;
  readonly firstSeq: number;
  readonly nonce: number;
}

export function encodeSegmentHeader(h: SegmentHeader): Buffer {
  const b = Buffer.alloc(SEGMENT_HEADER_BYTES);
  b.writeUInt32LE(SEGMENT_MAGIC, 0);
  b.writeUInt16LE(FORMAT_VERSION, 4);
  b.writeUInt16LE(SEGMENT_HEADER_BYTES, 6);
  b.writeDoubleLE(h.base, 8);
  b.writeDoubleLE(h.firstSeq, 16);
  b.writeUInt32LE(h.nonce, 24);
  b.writeUInt32LE(crc32c(b, 0, 28), 28);
  return b;
}

/** The header at the start of `b`, or a sentence saying why it is not one. */
export function decodeSegmentHeader(b: Uint8Array): SegmentHeader | string {
  if (b.length < SEGMENT_HEADER_BYTES) return `${b.length} bytes, shorter than a segment header`;
  const v = new DataView(b.buffer, b.byteOffset, SEGMENT_HEADER_BYTES);
  if (v.getUint32(0, true) !== SEGMENT_MAGIC) return 'bad magic number';
  if (v.getUint32(28, true) !== crc32c(b, 0, 28)) return 'header checksum mismatch';
  const version = v.getUint16(4, true);
  if (version !== FORMAT_VERSION) return `format version ${version}, this build reads ${FORMAT_VERSION}`;
  if (v.getUint16(6, true) !== SEGMENT_HEADER_BYTES) return 'bad header size';
  const base = v.getFloat64(8, true);
  const firstSeq = v.getFloat64(16, true);
  const nonce = v.getUint32(24, true);
  if (!Number.isSafeInteger(base) || base < 0) return 'bad base position';
  if (!Number.isSafeInteger(firstSeq) || firstSeq < 0) return 'bad first sequence number';
  if (nonce === 0) return 'zero nonce';
  return { base, firstSeq, nonce };
}

/** Writes a frame header into `b` at `at`. */
export function encodeFrameHeader(b: Buffer, at: number, nonce: number, length: number, seq: number, payloadCrc: number): void {
  b.writeUInt32LE(nonce, at);
  b.writeUInt32LE(length, at + 4);
  b.writeDoubleLE(seq, at + 8);
  b.writeUInt32LE(payloadCrc, at + 16);
  b.writeUInt32LE(crc32c(b, at, at + 20), at + 20);
}

/** Where `nextFrame` found things; reused between calls (no allocation per record). */
export class FrameCursor {
  /** Offset in the buffer of the payload's first byte ('record', 'corrupt', 'partial'). */
  payloadStart = 0;
  /** Offset in the buffer just after the frame ('record', 'corrupt', 'partial'), or of the next candidate ('garbage'). */
  end = 0;
  /** The frame's sequence number ('record', 'corrupt', 'partial'). */
  seq = 0;
}

/**
 * What is at `pos` of `buf`:
 * - `record`: a valid frame; `corrupt`: a valid header whose payload fails its checksum (skip to `end`);
 * - `partial`: a valid header whose frame ends past `avail` (read more: the frame ends at `end`);
 * - `garbage`: no valid header at `pos`; `end` is the next offset where one starts, or the first
 *   offset at which one could still start once more bytes are read (`avail - 23`), never ≤ `pos`;
 * - `short`: fewer than 24 bytes between `pos` and `avail`.
 * A header is valid when its sync word is `nonce`, its checksum matches, its sequence number is a
 * safe integer ≥ `minSeq` and its frame ends within `frameLimit` (the segment's end, relative to
 * `buf`): a length can never make the reader allocate more than the file holds.
 * `verify` false skips the payload checksum (a stretch another reader already verified).
 */
export function nextFrame(
  buf: Buffer,
  pos: number,
  avail: number,
  frameLimit: number,
  nonce: number,
  minSeq: number,
  verify: boolean,
  out: FrameCursor,
): 'record' | 'corrupt' | 'partial' | 'garbage' | 'short' {
  if (avail - pos < FRAME_HEADER_BYTES) return 'short';
  if (headerAt(buf, pos, frameLimit, nonce, minSeq, out)) {
    if (out.end > avail) return 'partial';
    if (!verify || buf.readUInt32LE(pos + 16) === crc32c(buf, out.payloadStart, out.end)) return 'record';
    return 'corrupt';
  }
  const last = avail - FRAME_HEADER_BYTES;
  const sync = syncBytes(nonce);
  let q = pos + 1;
  while (q <= last) {
    q = buf.indexOf(sync, q);
    if (q < 0 || q > last) break;
    if (headerAt(buf, q, frameLimit, nonce, minSeq, out)) {
      out.end = q;
      return 'garbage';
    }
    q++;
  }
  out.end = Math.max(pos + 1, last + 1);
  return 'garbage';
}

function headerAt(buf: Buffer, pos: number, frameLimit: number, nonce: number, minSeq: number, out: FrameCursor): boolean {
  if (buf.readUInt32LE(pos) !== nonce) return false;
  if (buf.readUInt32LE(pos + 20) !== crc32c(buf, pos, pos + 20)) return false;
  const seq = buf.readDoubleLE(pos + 8);
  if (!Number.isSafeInteger(seq) || seq < minSeq) return false;
  const end = pos + FRAME_HEADER_BYTES + buf.readUInt32LE(pos + 4);
  if (end > frameLimit) return false;
  out.payloadStart = pos + FRAME_HEADER_BYTES;
  out.end = end;
  out.seq = seq;
  return true;
}

let lastNonce = 0;
let lastSync = Buffer.alloc(4);
function syncBytes(nonce: number): Buffer {
  // One segment is scanned at a time in practice: keep its pattern instead of allocating per search.
  if (nonce !== lastNonce) {
    lastSync = Buffer.alloc(4);
    lastSync.writeUInt32LE(nonce, 0);
    lastNonce = nonce;
  }
  return lastSync;
}
