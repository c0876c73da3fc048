/**
 * Our snappy block codec: round trips over seeded random inputs of every shape the encoder branches on
 * (empty, tiny, incompressible, runs, repeats across the 64 KiB block boundary), and agreement with an
 * independent implementation (snappyjs) both ways; the decoder refuses what is malformed.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import SnappyJS from 'snappyjs';
import { maxCompressedLength, SnappyError, snappyCompress, snappyDecompress } from '../../../src/transport/prometheus/snappy.js';
import { below, prng } from '../../support/prng.js';

const test = suite('snappy block codec');

function input(rng: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  const style = below(rng, 4);
  for (let i = 0; i < n; i++) {
    if (style === 0) out[i] = below(rng, 256);
    else if (style === 1) out[i] = 97 + below(rng, 3);
    else if (style === 2 && i >= 40 && rng() < 0.9) out[i] = out[i - 1 - below(rng, 40)]!;
    else out[i] = below(rng, 256);
  }
  return out;
}

test('round trip and agreement with snappyjs on seeded random inputs', () => {
  const rng = prng(1);
  const sizes = [0, 1, 3, 4, 15, 16, 17, 64, 65, 1000, 65_535, 65_536, 65_537, 200_000];
  for (let k = 0; k < 120; k++) {
    const n = k < sizes.length ? sizes[k]! : below(rng, 150_000);
    const data = input(rng, n);
    const ours = snappyCompress(data);
    assert.ok(ours.length <= maxCompressedLength(n));
    assert.equal(snappyDecompress(ours), data, `ours → ours, ${n} bytes`);
    assert.equal(new Uint8Array(SnappyJS.uncompress(ours)), data, `ours → snappyjs, ${n} bytes`);
    assert.equal(snappyDecompress(new Uint8Array(SnappyJS.compress(data))), data, `snappyjs → ours, ${n} bytes`);
  }
});

test('compresses what repeats', () => {
  const text = new TextEncoder().encode('http_requests_total{job="api",instance="a1"} 1\n'.repeat(2000));
  assert.ok(snappyCompress(text).length < text.length / 20);
});

test('the decoder refuses malformed blocks and lengths over its limit', () => {
  const bad: Array<[string, number[]]> = [
    ['empty', []],
    ['unterminated length', [0x80]],
    ['literal past the end', [5, 0x10, 1]],
    ['copy before any output', [4, 0x01, 0x01]],
    ['short output', [9, 0x00, 0x41]],
  ];
  for (const [what, bytes] of bad)
    assert.throws(
      () => snappyDecompress(new Uint8Array(bytes)),
      (e: unknown) => e instanceof SnappyError,
      what,
    );
  assert.throws(() => snappyDecompress(snappyCompress(new Uint8Array(100)), 99), /over the limit/);
});

test.run();
