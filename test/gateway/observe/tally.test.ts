import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BoundedCounts, OTHER_ROW, Tally } from '../../../src/gateway/observe/tally.js';
import { prng } from '../../support/prng.js';

const test = suite('gateway/observe-tally');

test('bounded: names beyond capacity go to (other); totals are conserved', () => {
  const b = new BoundedCounts(2);
  b.add('a', 10, 100);
  b.add('b', 5, 50);
  b.add('c', 7, 70);
  b.add('a', 1, 10);
  assert.is(b.size, 2);
  assert.equal(
    b.top(10).map((r) => [r.name, r.counts.requests, r.counts.items, r.counts.bytes]),
    [
      ['a', 2, 11, 110],
      ['b', 1, 5, 50],
      [OTHER_ROW, 1, 7, 70],
    ],
  );
  assert.equal(
    b.top(1).map((r) => [r.name, r.counts.items]),
    [
      ['a', 11],
      [OTHER_ROW, 12],
    ],
  );
  b.clear();
  assert.is(b.size, 0);
  assert.equal(b.top(3), []);
  b.add('c', 1, 1);
  assert.equal(
    b.top(3).map((r) => r.name),
    ['c'],
    'a cleared table admits new names',
  );
});

test('property: a flood of names stays bounded, top rows are exact below capacity, sums match', () => {
  const random = prng(20240501);
  for (let run = 0; run < 40; run++) {
    const capacity = 1 + Math.floor(random() * 50);
    const distinct = 1 + Math.floor(random() * 200);
    const n = Math.floor(random() * 2000);
    const b = new BoundedCounts(capacity);
    const exact = new Map<string, number>();
    let totalItems = 0;
    for (let i = 0; i < n; i++) {
      // Skewed: low indexes are far more frequent, as services in a real fleet are.
      const name = `svc-${Math.floor(distinct * random() ** 3)}`;
      const items = Math.floor(random() * 100);
      b.add(name, items, items * 8);
      exact.set(name, (exact.get(name) ?? 0) + items);
      totalItems += items;
    }
    assert.ok(b.size <= capacity, `run ${run}: ${b.size} ≤ ${capacity}`);
    const topN = 1 + Math.floor(random() * 12);
    const rows = b.top(topN);
    assert.ok(rows.length <= topN + 1);
    assert.is(
      rows.reduce((s, r) => s + r.counts.items, 0),
      totalItems,
      `run ${run}: items conserved`,
    );
    assert.is(
      rows.reduce((s, r) => s + r.counts.requests, 0),
      n,
      `run ${run}: requests conserved`,
    );
    const named = rows.filter((r) => r.name !== OTHER_ROW);
    for (let i = 1; i < named.length; i++) assert.ok(named[i - 1]!.counts.items >= named[i]!.counts.items, 'sorted by items');
    if (exact.size <= capacity) {
      for (const r of named) assert.is(r.counts.items, exact.get(r.name), `run ${run}: exact count of ${r.name}`);
      const want = [...exact.values()].sort((x, y) => y - x).slice(0, topN);
      assert.equal(
        named.map((r) => r.counts.items),
        want,
        `run ${run}: the top rows are the largest`,
      );
    }
  }
});

test('tally: per signal interval and totals, tenants, services, refusals; nextInterval keeps totals', () => {
  const t = new Tally({ maxServiceNames: 10, maxTenants: 10 });
  t.request('metrics', 'acme', ['a', 'b'], 100, 1000);
  t.request('logs', undefined, [], 5, 50);
  t.refused('backpressure');
  t.refused('backpressure');
  t.refused('unauthenticated');
  assert.is(t.intervalRequests(), 2);
  assert.is(t.intervalRefusals(), 3);
  assert.is(t.interval.metrics.items, 100);
  assert.is(t.tenants.top(5)[0]!.name, 'acme');
  assert.equal(
    t.services.top(5).map((r) => [r.name, r.counts.items]),
    [
      ['a', 100],
      ['b', 100],
    ],
  );
  t.nextInterval();
  assert.is(t.intervalRequests(), 0);
  assert.is(t.intervalRefusals(), 0);
  assert.is(t.services.size, 0);
  assert.is(t.total.metrics.items, 100);
  assert.is(t.total.logs.requests, 1);
  assert.is(t.refusalsTotal.get('backpressure'), 2);
});

test.run();
