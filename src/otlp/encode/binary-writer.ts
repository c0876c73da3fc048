/**
 * The protobuf wire writer of our direct encoders: the part of protobuf-es's chainable
 * `BinaryWriter` they use (`tag`, `fork`/`join`, the scalar writes, `finish`), with the same
 * method names and the same bytes (test/otlp/encode/binary-writer.test.ts compares the two).
 *
 * Why our own: `@bufbuild/protobuf/wire` re-exports its size-delimited stream helpers, which
 * import `toBinary`/`fromBinary` and with them protobuf-es reflection. Importing it costs a
 * process ~6.5 MiB of RSS and ~35 ms (npm run bench:startup), a third of what the whole
 * official metrics SDK costs, for a writer the encoders could not tell apart from this one.
 * The primitives are `Stage`'s (one home); this class adds the chainable API and the fork stack.
 *
 * Integers are checked as protobuf-es checks them (a throw, not a corrupt varint), because
 * `encodeMetricsRequest` passes user input through; each check is one comparison.
 */
import type { WireType } from '@bufbuild/protobuf/wire';
import { Stage } from './stage.js';

/** Growable buffer with chainable protobuf writes; `finish()` returns a copy and resets it for reuse. */
export class BinaryWriter extends Stage {
  /** Positions of the length bytes of the messages `fork()` opened and `join()` has not closed. */
  forks: number[] = [];

  constructor() {
    // protobuf-es starts at 1 KiB too; callers that collect often reuse one writer (meter-provider.ts).
    super(1024);
  }

  /** Writes a field tag. */
  tag(fieldNo: number, type: WireType): this {
    this.varint32(((fieldNo << 3) | type) >>> 0);
    return this;
  }

  /** Opens a length-delimited message; `join()` writes its length. */
  fork(): this {
    this.forks.push(this.open());
    return this;
  }

  /** Closes the message the last `fork()` opened. */
  join(): this {
    const at = this.forks.pop();
    if (at === undefined) throw new Error('BinaryWriter.join() without fork()');
    this.close(at);
    return this;
  }

  /** Returns the bytes written (a copy) and empties the writer, keeping its buffer. */
  finish(): Uint8Array {
    const out = this.buf.slice(0, this.pos);
    this.pos = 0;
    this.forks.length = 0;
    return out;
  }

  uint32(v: number): this {
    if (v >>> 0 !== v) throw invalid('uint32', v);
    this.varint32(v);
    return this;
  }

  /** Negative values take 10 bytes (sign-extended to 64 bits), as protobuf prescribes for int32. */
  int32(v: number): this {
    if ((v | 0) !== v) throw invalid('int32', v);
    if (v >= 0) this.varint32(v);
    else this.varint64(BigInt(v));
    return this;
  }

  /** `v` is an integer (a number up to ±2^63 or a bigint); negatives in two's complement. */
  int64(v: number | bigint): this {
    if (typeof v === 'number' && v >>> 0 === v) this.varint32(v);
    else this.varint64(BigInt(v)); // BigInt() throws for a fraction, NaN or ±Infinity
    return this;
  }

  bool(v: boolean): this {
    this.reserve(1);
    this.buf[this.pos++] = v ? 1 : 0;
    return this;
  }

  fixed32(v: number): this {
    if (v >>> 0 !== v) throw invalid('fixed32', v);
    this.reserve(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
    return this;
  }

  /** Wrapped to 64 bits. */
  fixed64(v: bigint): this {
    this.reserve(8);
    this.view.setBigUint64(this.pos, v, true);
    this.pos += 8;
    return this;
  }

  /** Wrapped to 64 bits. */
  sfixed64(v: bigint): this {
    this.reserve(8);
    this.view.setBigInt64(this.pos, v, true);
    this.pos += 8;
    return this;
  }

  double(v: number): this {
    this.reserve(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
    return this;
  }

  /** Length-delimited UTF-8. */
  override string(s: string): this {
    super.string(s);
    return this;
  }

  /** Length-delimited bytes (copied). */
  override bytes(b: Uint8Array): this {
    super.bytes(b);
    return this;
  }

  /** Bytes as they are (copied), e.g. a message body encoded earlier. */
  override raw(b: Uint8Array): this {
    super.raw(b);
    return this;
  }
}

function invalid(type: string, v: number): Error {
  return new Error(`invalid ${type}: ${String(v)}`);
}
