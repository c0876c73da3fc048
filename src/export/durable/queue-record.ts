/**
 * The payload of one durable-log record when the log is a delivery queue: one received (or
 * collected) request, with the body each destination gets. A body shared by several
 * destinations is stored once; each destination's reader picks its own part out by name.
 *
 * Layout (little-endian, fixed widths: parsing is bounds checks and no varint loops):
 * ```
 * u8 version (1) | u8 signal (1 metrics, 2 logs, 3 traces) | u16 destinations | u16 bodies | u16 0
 * per destination: u16 name length | name (UTF-8) | u32 items | u16 body index
 * per body: u32 length
 * the bodies, in order
 * ```
 * The log's frame already carries a checksum; a payload that is well framed but does not parse
 * (another version, a bug) is skipped and counted by the reader, never delivered.
 */
import type { Signal } from '../../otlp/types.js';

const VERSION = 1;
const SIGNAL_CODES: readonly Signal[] = ['metrics', 'logs', 'traces'];
const HEADER_BYTES = 8;
const MAX_U16 = 0xffff;

/** One destination's part of a record. */
export interface QueueDelivery {
  /** The destination's name, UTF-8 (encode once per destination: {@link encodeQueueName}). */
  readonly name: Uint8Array;
  readonly items: number;
  /** Index into the record's bodies. */
  readonly body: number;
}

/** What a destination takes from a record. */
export interface QueuedPart {
  readonly signal: Signal;
  readonly body: Uint8Array;
  readonly items: number;
}

/** A payload that is not a queue record of this version. */
export class QueueRecordError extends Error {
  override readonly name = 'QueueRecordError';
}

/** A destination name as records store it. */
export function encodeQueueName(name: string): Uint8Array {
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.byteLength > MAX_U16) throw new RangeError(`queue destination name longer than ${MAX_U16} bytes`);
  return bytes;
}

/** One record for `deliveries`, whose bodies are `bodies` (copied into the record). */
export function encodeQueueRecord(signal: Signal, deliveries: readonly QueueDelivery[], bodies: readonly Uint8Array[]): Uint8Array {
  if (deliveries.length > MAX_U16 || bodies.length > MAX_U16) throw new RangeError('too many destinations or bodies for one queue record');
  let size = HEADER_BYTES + bodies.length * 4;
  for (const d of deliveries) size += 8 + d.name.byteLength;
  for (const b of bodies) size += b.byteLength;
  // Not zero-filled: every byte is written below.
  const out = Buffer.allocUnsafe(size);
  out[0] = VERSION;
  out[1] = SIGNAL_CODES.indexOf(signal) + 1;
  out.writeUInt16LE(deliveries.length, 2);
  out.writeUInt16LE(bodies.length, 4);
  out.writeUInt16LE(0, 6);
  let at = HEADER_BYTES;
  for (const d of deliveries) {
    out.writeUInt16LE(d.name.byteLength, at);
    out.set(d.name, at + 2);
    at += 2 + d.name.byteLength;
    out.writeUInt32LE(d.items, at);
    out.writeUInt16LE(d.body, at + 4);
    at += 6;
  }
  for (const b of bodies) {
    out.writeUInt32LE(b.byteLength, at);
    at += 4;
  }
  for (const b of bodies) {
    out.set(b, at);
    at += b.byteLength;
  }
  return out;
}

/**
 * The part of `record` for destination `name`, or undefined when the record has none for it.
 * The body is a view of `record`. Throws QueueRecordError when the record does not parse.
 */
export function queuedPart(record: Uint8Array, name: Uint8Array): QueuedPart | undefined {
  const view = Buffer.from(record.buffer, record.byteOffset, record.byteLength);
  const bad = (what: string): QueueRecordError => new QueueRecordError(`queue record: ${what}`);
  if (view.byteLength < HEADER_BYTES) throw bad(`${view.byteLength} bytes, shorter than a header`);
  if (view[0] !== VERSION) throw bad(`version ${view[0]}, expected ${VERSION}`);
  const signal = SIGNAL_CODES[view[1]! - 1];
  if (signal === undefined) throw bad(`signal code ${view[1]}`);
  const count = view.readUInt16LE(2);
  const bodies = view.readUInt16LE(4);
  let at = HEADER_BYTES;
  let found = -1;
  let items = 0;
  for (let i = 0; i < count; i++) {
    if (at + 2 > view.byteLength) throw bad('destinations past the end');
    const len = view.readUInt16LE(at);
    const nameAt = at + 2;
    at = nameAt + len + 6;
    if (at > view.byteLength) throw bad('destinations past the end');
    if (found < 0 && len === name.byteLength && view.compare(name, 0, len, nameAt, nameAt + len) === 0) {
      items = view.readUInt32LE(nameAt + len);
      found = view.readUInt16LE(nameAt + len + 4);
    }
  }
  if (found >= bodies) throw bad(`body index ${found} of ${bodies}`);
  const lengthsAt = at;
  at += bodies * 4;
  if (at > view.byteLength) throw bad('body lengths past the end');
  let start = at;
  for (let i = 0; i < bodies; i++) {
    const len = view.readUInt32LE(lengthsAt + i * 4);
    if (i < found) start += len;
    at += len;
  }
  if (at !== view.byteLength) throw bad(`bodies end at ${at}, the record at ${view.byteLength}`);
  if (found < 0) return undefined;
  const len = view.readUInt32LE(lengthsAt + found * 4);
  return { signal, body: record.subarray(start, start + len), items };
}
