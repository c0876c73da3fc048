/**
 * Encoded OTLP requests through connect-es without decoding them: both halves of the trick.
 *
 * connect-es deals in messages, the gateway and the exporters in bytes already encoded. A
 * protobuf-es message keeps the fields it does not know in `$unknown` as `{no, wireType, data}`
 * entries, `data` being the field's encoded value as a view of the input, and `toBinary`
 * writes each entry back as its tag followed by `data` verbatim. So:
 * - sending ({@link rawMessage}): a message of the request's type holding ONE unknown entry,
 *   tagged like the body's first field and with everything after that tag as its data,
 *   serializes to exactly the body: the first field's value and every later field, tags
 *   included, copied once and never parsed. (Our gRPC transport goes one step further and
 *   hands the bytes to connect's HTTP client directly, grpc.ts `passThroughClient`; it uses
 *   {@link assertMessageStart} for the same cheap check.)
 * - receiving ({@link opaqueBody}): the gRPC receiver registers each Export method with
 *   `Opaque` (a message with no fields) as its input, so connect splits the request into
 *   top-level unknown entries without decoding any of them; the entries lie back to back in
 *   connect's buffer, so the body is one view from the first tag to the last byte.
 *
 * The one body neither half reproduces byte for byte is one whose tags are non-minimal varints
 * (legal, never produced by encoders): it is re-encoded, same fields, same meaning.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { OpaqueSchema } from '../../gen/otlp_fanout/internal/v1/opaque_pb.js';
import type { Opaque } from '../../gen/otlp_fanout/internal/v1/opaque_pb.js';
import { minimalTagBefore, readMinimalTag, varintSize } from '../otlp/wire.js';

/** Returns a message of `schema` whose `toBinary` output is exactly `bytes` (see the file comment). */
export function rawMessage<D extends DescMessage>(schema: D, bytes: Uint8Array): MessageShape<D> {
  const message = create(schema);
  if (bytes.length === 0) return message;
  const tag = readMinimalTag(bytes);
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
  if (bytes.length > 0 && readMinimalTag(bytes) === undefined) fromBinary(schema, bytes);
}

/**
 * The encoded request an Opaque message was parsed from. Each `$unknown` entry's `data` is a
 * view of connect's buffer starting right after the field's tag and holding the rest of the
 * field (length prefix included). When the entries lie back to back, each preceded by its
 * minimal tag, the whole body is one view of that buffer; otherwise it is re-serialized
 * (same fields, same order).
 */
export function opaqueBody(message: Opaque): Uint8Array {
  const parts = message.$unknown;
  if (parts === undefined || parts.length === 0) return new Uint8Array(0);
  const first = parts[0]!;
  const buffer = first.data.buffer;
  const start = first.data.byteOffset - varintSize(first.no * 8 + first.wireType);
  let end = start;
  for (const p of parts) {
    const tag = p.no * 8 + p.wireType;
    const tagLength = varintSize(tag);
    if (p.data.buffer !== buffer || p.data.byteOffset - tagLength !== end || !minimalTagBefore(p.data, tag, tagLength)) {
      return toBinary(OpaqueSchema, message);
    }
    end = p.data.byteOffset + p.data.byteLength;
  }
  return new Uint8Array(buffer, start, end - start);
}
