/**
 * The temporality state's table: LRU and stale eviction (counted, raising the horizon), undo of
 * a refused request, and the identity index against a Map model under random operations (seeded).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HELD_DOUBLE, StreamTable } from '../../../../src/gateway/forward/processors/stream-table.js';
import { below, prng } from '../../../support/prng.js';

const test = suite('gateway/processors/stream-table');

/** A stream with a value and a last time, as the converter stores one. */
function put(t: StreamTable, id: number, now: number, time: number, value: number): number {
  let slot = t.find(0, id, now);
  if (slot < 0) slot = t.insert(0, id, now);
  else t.save(slot);
  t.held[slot] = HELD_DOUBLE;
  t.timeLo[slot] = time;
  t.value[slot] = value;
  return slot;
}

test('past maxStreams the least recently seen stream is forgotten, counted, and raises the horizon', () => {
  const t = new StreamTable(3, 60_000);
  put(t, 1, 0, 100, 1);
  put(t, 2, 1, 200, 2);
  put(t, 3, 2, 300, 3);
  assert.ok(t.find(0, 1, 3) >= 0, 'touching 1 makes 2 the least recent');
  put(t, 4, 4, 400, 4);
  t.commit();
  assert.is(t.count, 3);
  assert.is(t.evictedLru, 1);
  assert.is(t.find(0, 2, 5), -1);
  for (const id of [1, 3, 4]) assert.ok(t.find(0, id, 5) >= 0, `stream ${id} kept`);
  assert.equal([t.horizonHi, t.horizonLo], [0, 200], "the forgotten stream's last time");
});

test('streams not seen for staleAfter are forgotten by sweep(), counted apart', () => {
  const t = new StreamTable(10, 1000);
  put(t, 1, 0, 10, 1);
  put(t, 2, 500, 20, 2);
  put(t, 3, 900, 30, 3);
  t.commit();
  t.sweep(1400);
  assert.equal([t.count, t.evictedStale, t.evictedLru], [2, 1, 0]);
  t.sweep(1850);
  assert.equal([t.count, t.evictedStale], [1, 2]);
  assert.ok(t.find(0, 3, 1850) >= 0);
  t.sweep(1850 + 1000);
  assert.is(t.count, 1, 'seen at 1850: not stale before 2850');
});

test('rollback undoes the request: created streams go, changed ones come back, extra included', () => {
  const t = new StreamTable(10, 60_000);
  const a = put(t, 1, 0, 100, 1);
  t.extra[a] = { buckets: [1] };
  t.commit();
  const old = t.extra[a];
  const b = put(t, 1, 1, 200, 5);
  assert.is(b, a);
  t.extra[a] = { buckets: [2] };
  put(t, 2, 1, 200, 7);
  t.rollback();
  assert.is(t.count, 1);
  assert.is(t.find(0, 2, 2), -1, 'the stream created by the refused request is gone');
  assert.equal([t.timeLo[a], t.value[a], t.held[a]], [100, 1, HELD_DOUBLE]);
  assert.is(t.extra[a], old);
  // Commit keeps.
  put(t, 1, 3, 300, 9);
  t.commit();
  t.rollback();
  assert.equal([t.timeLo[a], t.value[a]], [300, 9]);
});

test('rollback leaves alone a slot the same request gave to another stream', () => {
  const t = new StreamTable(2, 60_000);
  put(t, 1, 0, 100, 1);
  put(t, 2, 1, 100, 2);
  t.commit();
  put(t, 1, 2, 200, 3); // journaled
  put(t, 3, 3, 200, 4); // evicts 2
  put(t, 4, 4, 200, 5); // evicts 1, whose journal entry is now stale
  t.rollback();
  assert.is(t.count, 0, 'both streams the request created are gone; the evicted ones stay forgotten');
  assert.is(t.find(0, 1, 5), -1);
  assert.is(t.evictedLru, 2);
});

test('property: through inserts, evictions, sweeps, commits and undos the index finds every stream and undo restores the committed values (seeded)', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const rnd = prng(seed);
    const max = 1 + below(rnd, 200);
    const t = new StreamTable(max, 50);
    // The model: committed values by id, and the request in progress's writes.
    const committed = new Map<number, number>();
    let pending = new Map<number, number>();
    let now = 0;
    for (let step = 0; step < 2000; step++) {
      now += below(rnd, 3);
      // Ids colliding in their low bits exercise probe runs and backward-shift deletion.
      const id = below(rnd, 64) * 1024 + below(rnd, 4);
      const r = rnd();
      if (r < 0.7) {
        put(t, id, now, step, step);
        pending.set(id, step);
      } else if (r < 0.8) t.sweep(now);
      else if (r < 0.9) {
        t.commit();
        for (const [k, v] of pending) committed.set(k, v);
        pending = new Map();
      } else {
        t.rollback();
        pending = new Map();
        // What the table kept of an undone request is its state before it.
        for (let slot = t.head; slot >= 0; slot = t.next[slot]!) {
          assert.is(t.value[slot], committed.get(t.idLo[slot]!), `seed ${seed} step ${step}: undone to the committed value`);
        }
      }
      assert.ok(t.count <= max);
    }
    t.commit();
    // Every live slot is found under its id, and the count matches the LRU list's length.
    const listed: number[] = [];
    for (let slot = t.head; slot >= 0; slot = t.next[slot]!) listed.push(slot);
    assert.is(listed.length, t.count, `seed ${seed}: LRU list holds every stream`);
    for (const slot of listed) assert.is(t.find(t.idHi[slot]!, t.idLo[slot]!, now), slot, `seed ${seed}: slot ${slot} indexed`);
    let cells = 0;
    for (const cell of t.index) if (cell !== 0) cells++;
    assert.is(cells, t.count, `seed ${seed}: one index cell per stream`);
  }
});

test.run();
