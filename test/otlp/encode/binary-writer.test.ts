import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BinaryWriter as Reference } from '@bufbuild/protobuf/wire';
import { WireType } from '@bufbuild/protobuf/wire';
import { BinaryWriter } from '../../../src/otlp/encode/binary-writer.js';

// Our writer stands in for protobuf-es's in the direct encoders (start-up cost, see the
// module comment): it must write the very same bytes for every call the encoders make.
const test = suite('otlp/encode/binary-writer');

type Op = (w: BinaryWriter) => unknown;

/** protobuf-es's writer seen through our type: same method names and argument shapes (its enum WireType has our numbers). */
const asOurs = (w: Reference): BinaryWriter => w as unknown as BinaryWriter;

/** One call, applied to both writers. */
const steps: ReadonlyArray<readonly [string, Op]> = [
  ['tag 1 varint', (w) => w.tag(1, WireType.Varint)],
  ['tag 16 (two-byte tag)', (w) => w.tag(16, WireType.LengthDelimited)],
  ['tag 2^29-1', (w) => w.tag(2 ** 29 - 1, WireType.Bit32)],
  ['uint32 0', (w) => w.uint32(0)],
  ['uint32 127/128', (w) => w.uint32(127).uint32(128)],
  ['uint32 2^32-1', (w) => w.uint32(2 ** 32 - 1)],
  ['int32 -1', (w) => w.int32(-1)],
  ['int32 -2^31', (w) => w.int32(-(2 ** 31))],
  ['int32 2^31-1', (w) => w.int32(2 ** 31 - 1)],
  [
    'int64 number 0, 2^32, 2^53-1',
    (w) =>
      w
        .int64(0)
        .int64(2 ** 32)
        .int64(2 ** 53 - 1),
  ],
  ['int64 number -1, -2^53', (w) => w.int64(-1).int64(-(2 ** 53))],
  ['int64 number 9.1e18 (integral, beyond 2^53)', (w) => w.int64(9.1e18)],
  [
    'int64 bigint extremes',
    (w) =>
      w
        .int64(2n ** 63n - 1n)
        .int64(-(2n ** 63n))
        .int64(0n),
  ],
  ['bool', (w) => w.bool(true).bool(false)],
  ['fixed32', (w) => w.fixed32(0).fixed32(2 ** 32 - 1)],
  [
    'fixed64',
    (w) =>
      w
        .fixed64(0n)
        .fixed64(2n ** 64n - 1n)
        .fixed64(1_700_000_000_123_456_789n),
  ],
  [
    'sfixed64',
    (w) =>
      w
        .sfixed64(-1n)
        .sfixed64(-(2n ** 63n))
        .sfixed64(42n),
  ],
  ['double', (w) => w.double(0).double(-0).double(Number.NaN).double(Infinity).double(0.1)],
  ['string ascii / empty', (w) => w.string('http.method').string('')],
  ['string 127 and 128 ascii (length varint grows)', (w) => w.string('a'.repeat(127)).string('a'.repeat(128))],
  ['string non-ascii', (w) => w.string('größe ✓ 𝄞').string('é'.repeat(100))],
  ['string lone surrogate', (w) => w.string('a\ud800b')],
  [
    'bytes',
    (w) =>
      w
        .bytes(new Uint8Array([1, 2, 3]))
        .bytes(new Uint8Array(0))
        .bytes(new Uint8Array(300).fill(7)),
  ],
  ['raw', (w) => w.raw(new Uint8Array([9, 8, 7]))],
  ['fork/join empty', (w) => w.tag(1, WireType.LengthDelimited).fork().join()],
  ['fork/join 127/128 bytes', (w) => w.fork().raw(new Uint8Array(127)).join().fork().raw(new Uint8Array(128)).join()],
  ['nested fork/join, inner > 16 KiB', (w) => w.fork().tag(1, WireType.LengthDelimited).fork().raw(new Uint8Array(20_000)).join().uint32(5).join()],
];

test('each call writes the bytes protobuf-es writes', () => {
  for (const [name, op] of steps) {
    const ours = new BinaryWriter();
    const ref = new Reference();
    op(ours);
    op(asOurs(ref));
    assert.equal(ours.finish(), ref.finish(), name);
  }
});

// mulberry32: a tiny seeded PRNG so the property test is reproducible.
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('seeded random call sequences, reusing the writer after finish(): same bytes', () => {
  const rnd = prng(0xb1a5);
  const ours = new BinaryWriter();
  for (let round = 0; round < 200; round++) {
    const ref = new Reference();
    let depth = 0;
    const n = 1 + Math.floor(rnd() * 60);
    for (let i = 0; i < n; i++) {
      const [, op] = steps[Math.floor(rnd() * steps.length)]!;
      op(ours);
      op(asOurs(ref));
      if (rnd() < 0.2) {
        ours.fork();
        ref.fork();
        depth++;
      } else if (depth > 0 && rnd() < 0.3) {
        ours.join();
        ref.join();
        depth--;
      }
    }
    for (; depth > 0; depth--) {
      ours.join();
      ref.join();
    }
    assert.equal(ours.finish(), ref.finish(), `round ${round}`);
  }
});

test('an integer out of range or not integral throws, as in protobuf-es (no corrupt varint)', () => {
  const bad: ReadonlyArray<readonly [string, Op]> = [
    ['uint32 -1', (w) => w.uint32(-1)],
    ['uint32 2^32', (w) => w.uint32(2 ** 32)],
    ['uint32 1.5', (w) => w.uint32(1.5)],
    ['uint32 NaN', (w) => w.uint32(Number.NaN)],
    ['int32 2^31', (w) => w.int32(2 ** 31)],
    ['int32 0.5', (w) => w.int32(0.5)],
    ['int64 1.5', (w) => w.int64(1.5)],
    ['int64 NaN', (w) => w.int64(Number.NaN)],
    ['fixed32 -1', (w) => w.fixed32(-1)],
  ];
  for (const [name, op] of bad) {
    assert.throws(() => op(new BinaryWriter()), name);
    assert.throws(() => op(asOurs(new Reference())), `${name} (reference)`);
  }
  assert.throws(() => new BinaryWriter().join(), /without fork/);
});

test.run();
