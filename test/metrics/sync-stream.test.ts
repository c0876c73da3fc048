import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sumAggregator } from '../../src/metrics/aggregate/sum.js';
import { attributeFilter, KEEP_ALL } from '../../src/metrics/attribute-key.js';
import type { StreamInfo } from '../../src/metrics/stream-info.js';
import { SyncStream } from '../../src/metrics/sync-stream.js';
import type { SumSeries } from '../../src/metrics/aggregate/sum.js';

const test = suite('metrics/sync-stream');

const INFO: StreamInfo = {
  name: 's',
  description: '',
  unit: '',
  kind: 'counter',
  valueType: 1,
  aggregation: { type: 'sum', monotonic: true },
  created: 100n,
  scopeKey: 'm',
  commonAttributes: {},
};

function stream(limit = 2000, filter = KEEP_ALL): SyncStream {
  return new SyncStream(INFO, sumAggregator(true, false), filter, limit);
}

test('an object enters the WeakMap on its second sighting only', () => {
  const st = stream();
  const attrs = { a: 1 };
  const s = st.lookup(attrs);
  assert.not.ok(st.weak.has(attrs), 'a one-off literal is not cached');
  assert.is(st.lookup(attrs), s);
  assert.ok(st.weak.has(attrs));
  assert.is(st.lookup({ a: 1 }), s, 'equal fresh literal, same series');
});

test('filters: the guard on a WeakMap hit compares the kept keys only', () => {
  for (const filter of [attributeFilter({ include: ['a'] }), attributeFilter({ exclude: ['b'] })]) {
    const st = stream(2000, filter);
    const attrs: { [k: string]: number } = { a: 1, b: 1 };
    const s = st.lookup(attrs);
    st.lookup(attrs);
    attrs['b'] = 2;
    assert.is(st.lookup(attrs), s, 'a change in a dropped key keeps the series');
    attrs['a'] = 2;
    const t = st.lookup(attrs);
    assert.is.not(t, s);
    assert.equal(t.attrs, { a: 2 });
  }
});

test('series created between drains share the last drain time as start', () => {
  const st = stream();
  const a = st.lookup({ k: 'a' });
  assert.is(a.created, 100n);
  st.addConsumer(false);
  st.drain(200n);
  const b = st.lookup({ k: 'b' });
  const c = st.lookup({ k: 'c' });
  assert.is(b.created, 200n);
  assert.is(c.created, b.created, 'one shared bigint');
});

test('delta churn: memory stays bounded by what one interval holds', () => {
  const st = stream(100_000);
  st.addConsumer(true);
  for (let round = 0; round < 30; round++) {
    for (let i = 0; i < 500; i++) st.lookup({ id: `${round}-${i}`, pad: 'x'.repeat(40) }).measure(1);
    st.drain(BigInt(round));
    // Emission would encode attributes and clear the delta slots; do both by hand.
    const col = st.cols[0];
    for (let i = 0; i < st.bySlot.length; i++) {
      const s = st.bySlot[i];
      if (s === undefined || col === undefined || col.has[i] === 0) continue;
      if (s.bo < 0) s.bo = st.slab.add(new Uint8Array(60));
      col.clear(i);
    }
  }
  st.drain(1000n); // reclaims the last round
  assert.is(st.count, 0);
  assert.ok(st.bySlot.length <= 1000, `slots reused: ${st.bySlot.length}`);
  assert.ok(st.slab.live === 0);
});

test('cumulative consumers hold series; pinned series are never reclaimed', () => {
  const st = stream();
  st.addConsumer(true);
  const pinned = st.bind({ k: 'p' });
  pinned.measure(1);
  st.lookup({ k: 'q' }).measure(1);
  st.drain(1n);
  (st.cols[0] as { clear(i: number): void }).clear(pinned.slot);
  st.cols[0]?.clear(1);
  st.drain(2n);
  assert.ok(pinned.slot >= 0);
  assert.is(st.count, 1);
  st.addConsumer(false);
  st.lookup({ k: 'r' }).measure(1);
  st.drain(3n);
  st.drain(4n);
  assert.is(st.count, 2, 'nothing reclaimed under a cumulative consumer');
  st.removeConsumer(1);
  st.cols[0]?.clear(1);
  st.drain(5n);
  assert.is(st.count, 1, 'reclaimable again once it is gone');
});

test('the overflow series is never cached and gives way once a slot frees', () => {
  const st = stream(2);
  st.addConsumer(true);
  const a = st.lookup({ k: 'a' });
  const attrs = { k: 'b' };
  const o1 = st.lookup(attrs);
  const o2 = st.lookup(attrs);
  assert.is(o1, o2);
  assert.is(o1, st.overflow);
  assert.not.ok(st.weak.has(attrs));
  assert.is(st.lookup({ k: 'a' }), a);
  st.drain(1n); // nothing measured: a and the overflow series go
  const b = st.lookup(attrs);
  assert.is.not(b, o1);
  assert.equal(b.attrs, { k: 'b' });
  (b as SumSeries).measure(2);
  assert.is((b as SumSeries).v, 2);
});

test.run();
