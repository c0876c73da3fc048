import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createMeterProvider } from '../../src/metrics/meter-provider.js';
import { captureWarnings, point, points } from './helpers.js';

const test = suite('metrics/cardinality');

const OVERFLOW = 'otel.metric.overflow=true';

/** [attrs, value] pairs sorted by attributes: output order carries no meaning. */
function pairs(ps: Awaited<ReturnType<typeof points>>, field: 'value' | 'count' = 'value'): Array<[string, number]> {
  return ps.map((x): [string, number] => [x.attrs, x[field]]).sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

test('limit − 1 real series plus one overflow series, with one warning', async () => {
  const { warnings, result } = await captureWarnings(async () => {
    const p = createMeterProvider({ cardinalityLimit: 4 });
    const c = p.registerConsumer();
    const ctr = p.getMeter('m').createCounter('c');
    for (let i = 0; i < 10; i++) ctr.add(1, { i });
    ctr.add(5, { i: 0 }); // seen before the overflow: still its own series
    return points(c);
  });
  assert.is(result.length, 4);
  assert.equal(
    result.map((x) => [x.attrs, x.value]),
    [
      ['i=0', 6],
      ['i=1', 1],
      ['i=2', 1],
      [OVERFLOW, 7],
    ],
  );
  assert.is(warnings.length, 1);
  assert.match(warnings[0] ?? '', /cardinality limit of 4/);
});

test('under a cumulative consumer the limit holds for the life of the process', async () => {
  const p = createMeterProvider({ cardinalityLimit: 3 });
  const c = p.registerConsumer();
  const d = p.registerConsumer({ temporality: 'delta' });
  const ctr = p.getMeter('m').createCounter('c');
  ctr.add(1, { k: 'a' });
  ctr.add(1, { k: 'b' });
  await points(d);
  await points(c);
  for (let i = 0; i < 3; i++) await points(d); // idle: would reclaim without the cumulative consumer
  ctr.add(1, { k: 'c' });
  ctr.add(1, { k: 'a' });
  const ps = await points(c);
  assert.equal(
    ps.map((x) => [x.attrs, x.value]),
    [
      ['k=a', 2],
      ['k=b', 1],
      [OVERFLOW, 1],
    ],
  );
  assert.equal(pairs(await points(d)), [
    ['k=a', 1],
    [OVERFLOW, 1],
  ]);
});

test('delta only: idle series are reclaimed once every consumer collected them, freeing their slot', async () => {
  const p = createMeterProvider({ cardinalityLimit: 3 });
  const d1 = p.registerConsumer({ temporality: 'delta' });
  const d2 = p.registerConsumer({ temporality: 'delta' });
  const ctr = p.getMeter('m').createCounter('c');
  ctr.add(1, { k: 'a' });
  ctr.add(1, { k: 'b' });
  assert.is((await points(d1)).length, 2);
  // d2 has not collected yet: a and b are held for it.
  ctr.add(1, { k: 'c' });
  assert.equal(point(await points(d1), 'c', OVERFLOW)?.value, 1);
  assert.equal(pairs(await points(d2)), [
    ['k=a', 1],
    ['k=b', 1],
    [OVERFLOW, 1],
  ]);
  // Next drain: nothing held any more, everything reclaimed.
  assert.equal(await points(d1), []);
  ctr.add(2, { k: 'c' });
  ctr.add(3, { k: 'd' });
  assert.equal(pairs(await points(d1)), [
    ['k=c', 2],
    ['k=d', 3],
  ]);
  assert.equal(pairs(await points(d2)), [
    ['k=c', 2],
    ['k=d', 3],
  ]);
});

test('a cached attributes object whose series was reclaimed gets a new live series', async () => {
  const p = createMeterProvider();
  const d = p.registerConsumer({ temporality: 'delta' });
  const ctr = p.getMeter('m').createCounter('c');
  const attrs = { k: 'v' };
  for (let i = 0; i < 3; i++) ctr.add(1, attrs);
  assert.is(point(await points(d), 'c', 'k=v')?.value, 3);
  await points(d); // reclaims
  ctr.add(7, attrs);
  assert.is(point(await points(d), 'c', 'k=v')?.value, 7);
});

test('a view sets its own limit; histograms overflow alike', async () => {
  const p = createMeterProvider({ views: [{ instrumentName: 'h', cardinalityLimit: 2 }] });
  const c = p.registerConsumer();
  const h = p.getMeter('m').createHistogram('h');
  for (let i = 0; i < 5; i++) h.record(i, { i });
  const ps = await points(c);
  assert.equal(
    ps.map((x) => [x.attrs, x.count]),
    [
      ['i=0', 1],
      [OVERFLOW, 4],
    ],
  );
  assert.is(point(ps, 'h', OVERFLOW)?.sum, 10);
});

test('observable: the first limit − 1 sets observed in each collection win', async () => {
  const p = createMeterProvider({ cardinalityLimit: 3 });
  const c = p.registerConsumer();
  const d = p.registerConsumer({ temporality: 'delta' });
  let order = [1, 2, 3, 4];
  let base = 10;
  p.getMeter('m')
    .createObservableCounter('o')
    .addCallback((r) => {
      for (const i of order) r.observe(base * i, { i });
    });
  assert.equal(pairs(await points(c)), [
    ['i=1', 10],
    ['i=2', 20],
    [OVERFLOW, 70],
  ]);
  order = [4, 3, 2, 1];
  assert.equal(pairs(await points(c)), [
    ['i=3', 30],
    ['i=4', 40],
    [OVERFLOW, 30],
  ]);
  assert.equal(pairs(await points(d)), [
    ['i=3', 30],
    ['i=4', 40],
    [OVERFLOW, 30],
  ]);
  base = 11;
  // Deltas of the overflowed sets are still differences from their own previous values.
  assert.equal(pairs(await points(d)), [
    ['i=3', 3],
    ['i=4', 4],
    [OVERFLOW, 3],
  ]);
});

test.run();
