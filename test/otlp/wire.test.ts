import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { I32, I64, LEN, minimalTagBefore, readMinimalTag, VARINT, varintSize, writeVarint32 } from '../../src/otlp/wire.js';

const test = suite('otlp/wire');

test('writeVarint32 writes what BinaryWriter writes and returns the end', () => {
  for (const v of [0, 1, 127, 128, 300, 16383, 16384, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 32 - 1]) {
    const buf = new Uint8Array(8);
    const end = writeVarint32(buf, 1, v);
    const expected = new BinaryWriter().uint32(v).finish();
    assert.equal(buf.subarray(1, end), expected, String(v));
    assert.is(end - 1, varintSize(v), `size ${v}`);
  }
});

test('readMinimalTag: field number, wire type and length; undefined for what it cannot vouch for', () => {
  assert.equal(readMinimalTag(Uint8Array.of(0x0a, 0x00)), { no: 1, wireType: LEN, length: 1 });
  assert.equal(readMinimalTag(new BinaryWriter().tag(1000, I64).finish()), { no: 1000, wireType: I64, length: 2 });
  assert.equal(readMinimalTag(new BinaryWriter().tag(3, I32).finish()), { no: 3, wireType: I32, length: 1 });
  assert.equal(readMinimalTag(new BinaryWriter().tag(2, VARINT).finish()), { no: 2, wireType: VARINT, length: 1 });
  assert.is(readMinimalTag(Uint8Array.of(0x8a, 0x00)), undefined, 'padded (non-minimal)');
  assert.is(readMinimalTag(Uint8Array.of(0x02)), undefined, 'field 0');
  assert.is(readMinimalTag(Uint8Array.of(0x0b)), undefined, 'group wire type');
  assert.is(readMinimalTag(Uint8Array.of(0x80)), undefined, 'truncated');
});

test('minimalTagBefore checks the bytes in front of a view', () => {
  const bytes = new BinaryWriter().tag(1000, LEN).bytes(Uint8Array.of(7)).finish();
  const tag = 1000 * 8 + LEN;
  const after = bytes.subarray(2);
  assert.ok(minimalTagBefore(after, tag, 2));
  assert.not.ok(minimalTagBefore(after, tag + 1, 2));
  assert.not.ok(minimalTagBefore(after, tag, 3), 'not its minimal length');
  assert.not.ok(minimalTagBefore(bytes.subarray(1), tag, 2), 'not enough bytes before');
});

test.run();
