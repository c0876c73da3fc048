import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { Stage } from '../../../src/otlp/encode/stage.js';

/** Flushes `st` through a BinaryWriter and returns the bytes. */
function flushed(st: Stage): Uint8Array {
  const w = new BinaryWriter();
  st.flushTo(w);
  return w.finish();
}

const test = suite('otlp/encode/stage');

test('strings match BinaryWriter for ASCII, UTF-8 and every length-prefix size', () => {
  const samples = [
    '',
    'a',
    'x'.repeat(127),
    'x'.repeat(128),
    'é',
    'ascii then é',
    '😀'.repeat(50),
    'ж'.repeat(70),
    '\uD800 lone',
    'y'.repeat(20_000),
  ];
  for (const s of samples) {
    const st = new Stage(4); // tiny, to force growth inside string()
    st.string(s);
    assert.equal(flushed(st), new BinaryWriter().string(s).finish(), `string of length ${s.length}`);
  }
});

test('varints match BinaryWriter', () => {
  for (const v of [0n, 1n, 127n, 128n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 63n - 1n, -1n, -(2n ** 63n)]) {
    const st = new Stage(1);
    st.varint64(v);
    assert.equal(flushed(st), new BinaryWriter().int64(v).finish(), `int64 ${v}`);
  }
  for (const v of [0, 127, 128, 2 ** 32 - 1, 2 ** 32, 2 ** 35 + 5, 2 ** 53 - 1]) {
    const st = new Stage(1);
    st.varintNumber(v);
    assert.equal(flushed(st), new BinaryWriter().uint64(v).finish(), `uint64 number ${v}`);
  }
  for (const v of [0, 127, 128, 16384, 2 ** 32 - 1]) {
    const st = new Stage(1);
    st.varint32(v);
    assert.equal(flushed(st), new BinaryWriter().uint32(v).finish(), `uint32 ${v}`);
  }
});

test('open/close writes minimal lengths, shifting bodies of 128 B, 16 KiB and 2 MiB', () => {
  for (const size of [0, 127, 128, 16383, 16384, 2 ** 21 - 1, 2 ** 21]) {
    const body = new Uint8Array(size).map((_, i) => i & 0xff);
    const st = new Stage(8);
    st.reserve(1);
    st.byte(0x0a);
    const at = st.open();
    st.raw(body);
    st.close(at);
    st.reserve(1);
    st.byte(0x42); // a byte after the message must follow it directly
    const w = new BinaryWriter();
    w.uint32(0x0a).bytes(body).uint32(0x42);
    assert.equal(flushed(st), w.finish(), `body of ${size} bytes`);
  }
});

test('flushTo empties the stage and reuses its views', () => {
  const st = new Stage(16);
  const w = new BinaryWriter();
  for (let i = 0; i < 3; i++) {
    st.tagDouble(0x21, i);
    st.flushTo(w);
    assert.is(st.pos, 0);
  }
  assert.is(st.views.filter((v) => v !== undefined).length, 1);
  const out = w.finish();
  assert.is(out.length, 27);
  assert.is(new DataView(out.buffer).getFloat64(19, true), 2);
});

test('tagFixed64 wraps negative bigints to two’s complement', () => {
  const st = new Stage();
  st.tagFixed64(0x31, -2n);
  assert.equal(flushed(st), new BinaryWriter().uint32(0x31).sfixed64(-2n).finish());
});

test.run();
