import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { metrics, ValueType as ApiValueType } from '@opentelemetry/api';
import { fromBinary } from '@bufbuild/protobuf';
import { ExportMetricsServiceRequestSchema } from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { manualClock } from '../../src/internal/clock.js';
import { createMeterProvider } from '../../src/metrics/meter-provider.js';
import { MetricsConfigError } from '../../src/metrics/errors.js';
import { ValueType } from '../../src/metrics/instrument-descriptor.js';
import { captureWarnings, flatten, point, points } from './helpers.js';

const api = suite('metrics/meter-provider: instruments');

/** Waits `n` event-loop turns (a timer would need to keep the loop alive). */
async function hops(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((res) => setImmediate(res));
}

api('every instrument kind reports with its default aggregation and metadata', async () => {
  const clock = manualClock(1000n);
  const p = createMeterProvider({ clock, resource: { 'service.name': 'svc' }, resourceSchemaUrl: 'https://r' });
  const c = p.registerConsumer();
  const m = p.getMeter('lib', '1.2', { schemaUrl: 'https://s', attributes: { team: 'x' } });
  m.createCounter('c', { unit: '{req}', description: 'requests', valueType: ValueType.INT }).add(3, { k: 'v' });
  m.createUpDownCounter('u').add(-2);
  m.createHistogram('h', { unit: 'ms' }).record(7);
  m.createGauge('g').record(1.5);
  m.createObservableCounter('oc').addCallback((r) => r.observe(10));
  m.createObservableUpDownCounter('ou').addCallback((r) => r.observe(-4));
  m.createObservableGauge('og').addCallback((r) => r.observe(0.25, { room: 'a' }));
  clock.advance(5n);
  const msgs = await c.collectMessages();
  assert.is(msgs.length, 1);
  const rm = msgs[0]?.resourceMetrics[0];
  assert.is(rm?.schemaUrl, 'https://r');
  assert.is(rm?.resource?.attributes[0]?.key, 'service.name');
  const sm = rm?.scopeMetrics[0];
  assert.is(sm?.scope?.name, 'lib');
  assert.is(sm?.scope?.version, '1.2');
  assert.is(sm?.scope?.attributes[0]?.key, 'team');
  assert.is(sm?.schemaUrl, 'https://s');
  const ps = flatten(msgs);
  const cp = point(ps, 'c', 'k=v');
  assert.ok(cp);
  assert.equal([cp.kind, cp.temporality, cp.monotonic, cp.value, cp.isInt, cp.unit, cp.description], ['sum', 2, true, 3, true, '{req}', 'requests']);
  assert.equal([point(ps, 'u')?.kind, point(ps, 'u')?.monotonic, point(ps, 'u')?.value], ['sum', false, -2]);
  const hp = point(ps, 'h');
  assert.equal([hp?.kind, hp?.count, hp?.sum, hp?.min, hp?.max, hp?.bounds.length], ['histogram', 1, 7, 7, 7, 15]);
  assert.equal([point(ps, 'g')?.kind, point(ps, 'g')?.value], ['gauge', 1.5]);
  assert.equal([point(ps, 'oc')?.kind, point(ps, 'oc')?.monotonic, point(ps, 'oc')?.value], ['sum', true, 10]);
  assert.equal([point(ps, 'ou')?.monotonic, point(ps, 'ou')?.value], [false, -4]);
  assert.equal([point(ps, 'og', 'room=a')?.kind, point(ps, 'og', 'room=a')?.value], ['gauge', 0.25]);
  for (const x of ps) assert.is(x.time, 1005n);
});

api('nothing measured: no request at all', async () => {
  const p = createMeterProvider();
  const c = p.registerConsumer();
  p.getMeter('m').createCounter('c');
  assert.equal(await c.collect(), []);
});

api('invalid names give a no-op instrument and one warning; never a throw', async () => {
  const { warnings, result } = await captureWarnings(async () => {
    const p = createMeterProvider();
    const c = p.registerConsumer();
    const m = p.getMeter('m');
    const bad = m.createCounter('1bad');
    bad.add(1);
    bad.add(2, { a: 'b' });
    bad.bind({ a: 'b' }).add(1);
    m.createHistogram('bad name').record(1);
    m.createObservableGauge('').addCallback((r) => r.observe(1));
    m.createCounter('1bad');
    return points(c);
  });
  assert.equal(result, []);
  assert.is(warnings.length, 3);
  assert.match(warnings[0] ?? '', /invalid instrument name "1bad"/);
});

api('negative and NaN values on counters and histograms are dropped with one warning', async () => {
  const { warnings, result } = await captureWarnings(async () => {
    const p = createMeterProvider();
    const c = p.registerConsumer();
    const m = p.getMeter('m');
    const ctr = m.createCounter('c');
    const h = m.createHistogram('h');
    for (let i = 0; i < 5; i++) {
      ctr.add(-1);
      ctr.add(NaN);
      h.record(-1);
      h.record(Infinity);
    }
    ctr.add(2);
    ctr.bind().add(-5);
    h.record(3);
    return points(c);
  });
  assert.is(point(result, 'c')?.value, 2);
  assert.is(point(result, 'h')?.count, 1);
  assert.is(warnings.length, 2, 'one per (instrument, reason)');
});

api('INT instruments truncate with a warning and write as_int', async () => {
  const { warnings, result } = await captureWarnings(async () => {
    const p = createMeterProvider();
    const c = p.registerConsumer();
    const m = p.getMeter('m');
    m.createUpDownCounter('u', { valueType: ValueType.INT }).add(2.9);
    m.createGauge('g', { valueType: ApiValueType.INT }).record(-1.5);
    m.createObservableCounter('o', { valueType: ValueType.INT }).addCallback((r) => r.observe(7.7));
    m.createCounter('d').add(1);
    return points(c);
  });
  assert.equal([point(result, 'u')?.value, point(result, 'u')?.isInt], [2, true]);
  assert.equal([point(result, 'g')?.value, point(result, 'g')?.isInt], [-1, true]);
  assert.equal([point(result, 'o')?.value, point(result, 'o')?.isInt], [7, true]);
  assert.is(point(result, 'd')?.isInt, false, 'DOUBLE is the default, as in the API');
  assert.is(warnings.length, 3);
});

api('identical registrations share one instrument; names compare case-insensitively', async () => {
  const { warnings, result } = await captureWarnings(async () => {
    const p = createMeterProvider();
    const c = p.registerConsumer();
    const m = p.getMeter('m');
    const a = m.createCounter('Requests', { unit: '1' });
    const b = m.createCounter('requests', { unit: '1' });
    assert.is(a, b);
    a.add(1);
    b.add(2);
    return points(c);
  });
  assert.is(warnings.length, 0);
  assert.is(result.length, 1);
  assert.equal([result[0]?.metric, result[0]?.value], ['Requests', 3]);
});

api('conflicting registrations warn (with a view recipe) and both are reported', async () => {
  const { warnings, result } = await captureWarnings(async () => {
    const p = createMeterProvider();
    const c = p.registerConsumer();
    const m = p.getMeter('m');
    m.createCounter('x', { unit: 'ms' }).add(1);
    m.createCounter('x', { unit: 's' }).add(2);
    m.createHistogram('x', { unit: 'ms' }).record(3);
    m.createCounter('d', { description: 'one' }).add(1);
    m.createCounter('d', { description: 'two' }).add(1);
    // Another meter may use the same name freely.
    p.getMeter('other').createUpDownCounter('x').add(5);
    return points(c);
  });
  assert.is(result.filter((x) => x.metric === 'x').length, 4);
  assert.is(result.filter((x) => x.metric === 'd').length, 2);
  assert.ok(warnings.some((w) => /conflicting metric streams named "x".*unit "ms" vs "s"/.test(w)));
  assert.ok(warnings.some((w) => /instrumentKind: 'histogram', name: 'x_histogram'/.test(w)));
  assert.ok(warnings.some((w) => /set one description with a view/.test(w)));
  assert.not.ok(warnings.some((w) => /other/.test(w)));
});

api('meters: same identity → same meter; schema URL or version makes another scope', () => {
  const p = createMeterProvider();
  assert.is(p.getMeter('a'), p.getMeter('a', ''));
  assert.is(p.getMeter('a', '1', { attributes: { x: 1, y: 2 } }), p.getMeter('a', '1', { attributes: { y: 2, x: 1 } }));
  assert.is.not(p.getMeter('a', '1'), p.getMeter('a', '2'));
  assert.is.not(p.getMeter('a'), p.getMeter('a', '', { schemaUrl: 'u' }));
});

api('bound handles go straight to their series and survive delta reclamation', async () => {
  const p = createMeterProvider();
  const c = p.registerConsumer({ temporality: 'delta' });
  const m = p.getMeter('m');
  const ctr = m.createCounter('c');
  const bound = ctr.bind({ k: 'v' });
  const h = m.createHistogram('h').bind({ k: 'v' });
  const g = m.createGauge('g').bind();
  bound.add(2);
  ctr.add(3, { k: 'v' });
  h.record(1);
  g.record(9);
  let ps = await points(c);
  assert.is(point(ps, 'c', 'k=v')?.value, 5);
  assert.is(point(ps, 'h', 'k=v')?.count, 1);
  assert.is(point(ps, 'g')?.value, 9);
  // Idle collections would reclaim an unbound series; a bound one must keep counting.
  for (let i = 0; i < 3; i++) assert.equal(await points(c), []);
  bound.add(4);
  ps = await points(c);
  assert.is(point(ps, 'c', 'k=v')?.value, 4);
});

api('mutating an attributes object after use records under its new content', async () => {
  const p = createMeterProvider();
  const c = p.registerConsumer();
  const ctr = p.getMeter('m').createCounter('c');
  const attrs: { [k: string]: string | number } = { route: '/a' };
  for (let i = 0; i < 3; i++) ctr.add(1, attrs); // cached by identity by now
  attrs['route'] = '/b';
  ctr.add(10, attrs);
  attrs['code'] = 200;
  ctr.add(100, attrs);
  delete attrs['code'];
  attrs['route'] = '/a';
  ctr.add(1000, attrs);
  const ps = await points(c);
  assert.is(point(ps, 'c', 'route=/a')?.value, 1003);
  assert.is(point(ps, 'c', 'route=/b')?.value, 10);
  assert.is(point(ps, 'c', 'code=200,route=/b')?.value, 100);
});

api('fresh literals in any key order share a series; attributes come out sorted', async () => {
  const p = createMeterProvider();
  const c = p.registerConsumer();
  const ctr = p.getMeter('m').createCounter('c');
  ctr.add(1, { b: 2, a: 'x' });
  ctr.add(1, { a: 'x', b: 2 });
  ctr.add(1, { a: 'x', z: undefined, b: 2 });
  const msgs = await c.collectMessages();
  const ps = flatten(msgs);
  assert.is(ps.length, 1);
  assert.is(ps[0]?.value, 3);
  const kvs = msgs[0]?.resourceMetrics[0]?.scopeMetrics[0]?.metrics[0]?.data;
  assert.ok(kvs?.case === 'sum');
  assert.equal(
    kvs.value.dataPoints[0]?.attributes.map((kv) => kv.key),
    ['a', 'b'],
  );
});

api('registers as the global @opentelemetry/api provider: one-line adoption', async () => {
  const p = createMeterProvider();
  const c = p.registerConsumer();
  metrics.disable();
  assert.ok(metrics.setGlobalMeterProvider(p));
  try {
    const meter = metrics.getMeter('via-api', '1');
    meter.createCounter('api.counter', { valueType: ApiValueType.INT }).add(4, { a: 'b' });
    meter.createHistogram('api.hist', { advice: { explicitBucketBoundaries: [1, 2] } }).record(1.5);
    const og = meter.createObservableGauge('api.gauge');
    og.addCallback((r) => r.observe(3));
    const oc = meter.createObservableCounter('api.oc');
    meter.addBatchObservableCallback((r) => r.observe(oc, 8), [oc]);
    const ps = await points(c);
    assert.equal([point(ps, 'api.counter', 'a=b')?.value, point(ps, 'api.counter', 'a=b')?.isInt], [4, true]);
    assert.equal(point(ps, 'api.hist')?.buckets, [0, 1, 0]);
    assert.is(point(ps, 'api.gauge')?.value, 3);
    assert.is(point(ps, 'api.oc')?.value, 8);
  } finally {
    metrics.disable();
  }
});

api('options are validated with errors naming the field', () => {
  assert.throws(
    () => createMeterProvider({ cardinalityLimit: 0 }),
    (e: unknown) => e instanceof MetricsConfigError && e.field === 'cardinalityLimit',
  );
  assert.throws(
    () => createMeterProvider({ defaultHistogramAggregation: 'nope' as 'explicit_bucket_histogram' }),
    (e: unknown) => e instanceof MetricsConfigError && e.field === 'defaultHistogramAggregation',
  );
  assert.throws(
    () => createMeterProvider({ resource: { a: {} as string } }),
    (e: unknown) => e instanceof MetricsConfigError && e.field === 'resource.a',
  );
  assert.throws(
    () => createMeterProvider().registerConsumer({ temporality: 'sometimes' as 'delta' }),
    (e: unknown) => e instanceof MetricsConfigError && e.field === 'temporality',
  );
  // Case-insensitive, as the environment variable is.
  createMeterProvider().registerConsumer({ temporality: 'LowMemory' as 'lowmemory' });
});

api.run();

const cb = suite('metrics/meter-provider: observable callbacks');

cb('each consumer runs the callbacks once per collection and sees only its own observations', async () => {
  const p = createMeterProvider();
  const a = p.registerConsumer();
  const b = p.registerConsumer({ temporality: 'delta' });
  let runs = 0;
  let total = 0;
  p.getMeter('m')
    .createObservableCounter('oc')
    .addCallback((r) => {
      runs++;
      total += 10;
      r.observe(total);
    });
  assert.is(point(await points(a), 'oc')?.value, 10);
  assert.is(runs, 1);
  assert.is(point(await points(b), 'oc')?.value, 20, 'first delta: from 0');
  assert.is(point(await points(b), 'oc')?.value, 10, 'then the difference');
  assert.is(point(await points(a), 'oc')?.value, 40);
  assert.is(runs, 4);
});

cb('async callbacks are awaited; failures are warned and the others still report', async () => {
  const { warnings, result } = await captureWarnings(async () => {
    const p = createMeterProvider();
    const c = p.registerConsumer();
    const m = p.getMeter('m');
    m.createObservableGauge('slow').addCallback(async (r) => {
      await hops(5);
      r.observe(1);
    });
    m.createObservableGauge('throws').addCallback(() => {
      throw new Error('boom');
    });
    m.createObservableGauge('rejects').addCallback(async () => {
      throw new Error('nope');
    });
    m.createObservableGauge('ok').addCallback((r) => r.observe(2));
    return points(c);
  });
  assert.is(point(result, 'slow')?.value, 1);
  assert.is(point(result, 'ok')?.value, 2);
  assert.is(result.length, 2);
  assert.ok(warnings.some((w) => /"throws" failed: boom/.test(w)));
  assert.ok(warnings.some((w) => /"rejects" failed: nope/.test(w)));
});

cb('an aborted collection stops waiting; a late observation is dropped, not carried over', async () => {
  const { warnings, result } = await captureWarnings(async () => {
    const p = createMeterProvider();
    const c = p.registerConsumer();
    const m = p.getMeter('m');
    let release: () => void = () => undefined;
    const gate = new Promise<void>((res) => (release = res));
    let first = true;
    m.createObservableGauge('hang').addCallback(async (r) => {
      if (!first) return;
      first = false;
      await gate;
      r.observe(99);
    });
    m.createObservableGauge('ok').addCallback((r) => r.observe(1));
    const ac = new AbortController();
    const pending = c.collectMessages({ signal: ac.signal });
    await new Promise((res) => setImmediate(res));
    ac.abort();
    const got = flatten(await pending);
    release();
    await new Promise((res) => setImmediate(res));
    const next = await points(c);
    return { got, next };
  });
  assert.equal(
    result.got.map((x) => x.metric),
    ['ok'],
  );
  assert.equal(
    result.next.map((x) => x.metric),
    ['ok'],
  );
  assert.ok(warnings.some((w) => /observed after its collection ended/.test(w)));
});

cb('batch callbacks observe only the instruments they were registered for', async () => {
  const { warnings, result } = await captureWarnings(async () => {
    const p = createMeterProvider();
    const c = p.registerConsumer();
    const m = p.getMeter('m');
    const a = m.createObservableGauge('a');
    const b = m.createObservableGauge('b');
    const batch = (r: { observe(o: typeof a, v: number): void }): void => {
      r.observe(a, 1);
      r.observe(b, 2);
    };
    m.addBatchObservableCallback(batch, [a]);
    const first = await points(c);
    m.removeBatchObservableCallback(batch, [a]);
    const second = await points(c);
    return { first, second };
  });
  assert.equal(
    result.first.map((x) => [x.metric, x.value]),
    [['a', 1]],
  );
  assert.equal(result.second, []);
  assert.ok(warnings.some((w) => /not registered for/.test(w)));
});

cb('removeCallback stops a callback; duplicate observations of one set add up for sums', async () => {
  const p = createMeterProvider();
  const c = p.registerConsumer();
  const o = p.getMeter('m').createObservableUpDownCounter('o');
  const f = (r: { observe(v: number, a?: { k: string }): void }): void => {
    r.observe(1, { k: 'x' });
    r.observe(2, { k: 'x' });
  };
  o.addCallback(f);
  o.addCallback(f);
  assert.is(point(await points(c), 'o', 'k=x')?.value, 3, 'the same callback is registered once');
  o.removeCallback(f);
  assert.equal(await points(c), []);
});

cb('collections of one consumer run one after the other', async () => {
  const p = createMeterProvider();
  const c = p.registerConsumer({ temporality: 'delta' });
  let v = 0;
  p.getMeter('m')
    .createObservableCounter('o')
    .addCallback(async (r) => {
      const mine = ++v;
      await hops(4 - mine);
      r.observe(mine * 10);
    });
  const [x, y] = await Promise.all([points(c), points(c)]);
  assert.is(point(x, 'o')?.value, 10);
  assert.is(point(y, 'o')?.value, 10);
});

cb('collectSync runs sync callbacks, does not wait for async ones, and drops their late observations', async () => {
  const { warnings, result } = await captureWarnings(async () => {
    const p = createMeterProvider();
    const c = p.registerConsumer();
    const m = p.getMeter('m');
    m.createCounter('c').add(1);
    m.createObservableGauge('sync').addCallback((r) => r.observe(1));
    m.createObservableGauge('async').addCallback(async (r) => {
      await hops(1);
      r.observe(2);
    });
    const bodies = c.collectSync();
    await hops(3);
    return flatten(bodies.map((b) => fromBinary(ExportMetricsServiceRequestSchema, b)));
  });
  assert.equal(
    result.map((x) => x.metric),
    ['c', 'sync'],
  );
  assert.ok(warnings.some((w) => /"async" observed after its collection ended/.test(w)));
});

cb('collect() and collectMessages() are one data model', async () => {
  const p = createMeterProvider({ clock: manualClock() });
  const c = p.registerConsumer();
  p.getMeter('m').createCounter('c').add(1, { a: 1 });
  const bytes = await c.collect();
  p.getMeter('m').createCounter('c').add(1, { a: 1 });
  const msgs = await c.collectMessages();
  assert.equal(
    flatten(bytes.map((b) => fromBinary(ExportMetricsServiceRequestSchema, b))).map((x) => x.value),
    [1],
  );
  assert.equal(
    flatten(msgs).map((x) => x.value),
    [2],
  );
});

cb('unregister and shutdown: collect returns nothing, other consumers go on', async () => {
  const p = createMeterProvider();
  const a = p.registerConsumer();
  const b = p.registerConsumer({ temporality: 'delta' });
  const ctr = p.getMeter('m').createCounter('c');
  ctr.add(1);
  a.unregister();
  a.unregister();
  assert.equal(await a.collect(), []);
  assert.is(point(await points(b), 'c')?.value, 1);
  ctr.add(1);
  await p.shutdown();
  assert.equal(await b.collect(), []);
});

cb.run();

const common = suite('metrics/meter-provider: attributes of every point');

common('every point carries them: sync and observable, with and without attributes, bound handles', async () => {
  const p = createMeterProvider({ clock: manualClock(1n), attributes: { tenant: 't1', node: 'n1' } });
  const c = p.registerConsumer();
  const m = p.getMeter('lib');
  const counter = m.createCounter('c');
  counter.add(1);
  counter.add(2, { route: '/a' });
  counter.bind({ route: '/b' }).add(3);
  m.createHistogram('h').record(5, { route: '/a' });
  m.createObservableGauge('g').addCallback((r) => r.observe(7, { room: 'x' }));
  const ps = await points(c);
  assert.is(point(ps, 'c', 'node=n1,tenant=t1')?.value, 1);
  assert.is(point(ps, 'c', 'node=n1,route=/a,tenant=t1')?.value, 2);
  assert.is(point(ps, 'c', 'node=n1,route=/b,tenant=t1')?.value, 3);
  assert.is(point(ps, 'h', 'node=n1,route=/a,tenant=t1')?.count, 1);
  assert.is(point(ps, 'g', 'node=n1,room=x,tenant=t1')?.value, 7);
  assert.is(ps.length, 5);
});

common("a point's own attribute wins over the common one of the same key", async () => {
  const p = createMeterProvider({ attributes: { tenant: 'default', node: 'n1' } });
  const c = p.registerConsumer();
  const m = p.getMeter('lib');
  m.createCounter('c').add(1, { tenant: 'other' });
  m.createObservableCounter('o').addCallback((r) => r.observe(4, { tenant: 'other' }));
  const ps = await points(c);
  assert.is(point(ps, 'c', 'node=n1,tenant=other')?.value, 1);
  assert.is(point(ps, 'o', 'node=n1,tenant=other')?.value, 4);
});

common('they make no series: the cardinality limit counts attribute sets as before; views do not filter them', async () => {
  const p = createMeterProvider({
    attributes: { tenant: 't1' },
    cardinalityLimit: 3,
    views: [{ instrumentName: 'v', attributeKeys: { include: ['route'] } }],
  });
  const c = p.registerConsumer();
  const m = p.getMeter('lib');
  const counter = m.createCounter('c');
  await captureWarnings(() => {
    for (const route of ['/a', '/b', '/c', '/d']) counter.add(1, { route });
  });
  m.createCounter('v').add(1, { route: '/a', user: 'u1' });
  const ps = await points(c);
  assert.is(point(ps, 'c', 'route=/a,tenant=t1')?.value, 1);
  assert.is(point(ps, 'c', 'route=/b,tenant=t1')?.value, 1);
  assert.is(point(ps, 'c', 'otel.metric.overflow=true,tenant=t1')?.value, 2, 'limit 3: two series and the overflow one');
  assert.is(point(ps, 'v', 'route=/a,tenant=t1')?.value, 1, 'the view kept route, dropped user, left tenant');
});

common('a bad value throws MetricsConfigError naming the field, as other provider options do', () => {
  assert.throws(
    () => createMeterProvider({ attributes: { tenant: {} as string } }),
    (e: unknown) => e instanceof MetricsConfigError && e.field === 'attributes.tenant',
  );
});

common.run();
