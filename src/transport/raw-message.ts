/**
 * A message that re-serializes to given bytes without being decoded, so already
 * encoded OTLP requests pass through connect-es (which wants a message) untouched.
 */
import { create, fromBinary } from '@bufbuild/protobuf';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { WireType } from '@bufbuild/protobuf/wire';

/**
 * Returns a message of `schema` whose `toBinary` output is exactly `bytes`.
 *
 * How: toBinary writes each `$unknown` entry as `tag(no, wireType)` followed by its
 * `data` verbatim. A single entry whose tag is the body's first tag and whose data is
 * everything after that tag (a zero-copy subarray) therefore reproduces the whole body:
 * the first field's value and every later field, tags included. Nothing is parsed
 * beyond the first tag.
 *
 * The only body this cannot reproduce is one whose first tag is a non-minimal varint
 * (legal but never produced by protobuf encoders); it is decoded and re-encoded
 * instead, which keeps its meaning but not its exact bytes.
 */
export function rawMessage<D extends DescMessage>(schema: D, bytes: Uint8Array): MessageShape<D> {
  const message = create(schema);
  if (bytes.length === 0) return message;
  const tag = readTag(bytes);
  if (tag === undefined) return fromBinary(schema, bytes);
  message.$unknown = [{ no: tag.no, wireType: tag.wireType, data: bytes.subarray(tag.length) }];
  return message;
}

/**
 * Throws (protobuf-es's decode error) when `bytes` cannot be a message of `schema`
 * judging by its first tag alone; a non-minimal first tag is decoded in full to decide.
 * For callers that send the bytes themselves and only want the cheap check.
 */
export function assertMessageStart(schema: DescMessage, bytes: Uint8Array): void {
  if (bytes.length > 0 && readTag(bytes) === undefined) fromBinary(schema, bytes);
}

/** Reads the first tag when it is a minimal varint with a valid field number and wire type. */
function readTag(bytes: Uint8Array): { no: number; wireType: WireType; length: number } | undefined {
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
      if (wireType !== WireType.Varint && wireType !== WireType.Bit64 && wireType !== WireType.LengthDelimited && wireType !== WireType.Bit32) {
        return undefined;
      }
      return { no, wireType, length: i + 1 };
    }
  }
  return undefined;
}
