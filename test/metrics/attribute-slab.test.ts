import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AttributeSlab } from '../../src/metrics/attribute-slab.js';
import { prng } from './helpers.js';

const test = suite('metrics/attribute-slab');

function bytes(n: number, seed: number): Uint8Array {
  const rnd = prng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
}

test('entries of every size read back exactly, across chunks', () => {
  const slab = new AttributeSlab();
  const entries = [0, 1, 127, 128, 300, 4096, 4097, 70000, 65530, 5].map((n, i) => ({ data: bytes(n, i), bo: -1 }));
  for (let round = 0; round < 20; round++) for (const e of entries) e.bo = slab.add(e.data);
  for (const e of entries) assert.equal(slab.read(e.bo), e.data);
});

test('freeing releases empty chunks; compaction keeps every live entry', () => {
  const rnd = prng(9);
  const slab = new AttributeSlab();
  const live: Array<{ data: Uint8Array; bo: number }> = [];
  for (let i = 0; i < 5000; i++) {
    const e = { data: bytes(20 + Math.floor(rnd() * 200), i), bo: -1 };
    e.bo = slab.add(e.data);
    live.push(e);
  }
  const before = slab.live;
  for (let i = live.length - 1; i >= 0; i--) {
    if (rnd() < 0.8) {
      slab.free((live[i] as { bo: number }).bo);
      live.splice(i, 1);
    }
  }
  assert.ok(slab.live < before / 3);
  assert.ok(slab.wasteful);
  slab.compact(live);
  assert.not.ok(slab.wasteful);
  for (const e of live) assert.equal(slab.read(e.bo), e.data);
  // Still usable after compaction.
  const extra = { data: bytes(50, 77), bo: -1 };
  extra.bo = slab.add(extra.data);
  assert.equal(slab.read(extra.bo), extra.data);
});

test.run();
