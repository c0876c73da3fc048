import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createMeterProvider } from '../../src/metrics/meter-provider.js';
import { MetricsConfigError } from '../../src/metrics/errors.js';
import { validateView, wildcardPattern } from '../../src/metrics/view.js';
import type { InstrumentDescriptor } from '../../src/metrics/instrument-descriptor.js';
import { captureWarnings, point, points } from './helpers.js';

const sel = suite('metrics/view: selection');

function desc(name: string, kind: InstrumentDescriptor['kind'] = 'counter', unit = ''): InstrumentDescriptor {
  return { name, kind, unit, description: '', valueType: 1, advice: {} };
}
const meter = { name: 'lib', version: '1', schemaUrl: 'https://s' };

sel('wildcards: * any run, ? one character, case-insensitive, other characters literal', () => {
  assert.ok(wildcardPattern('http.*').test('http.server.duration'));
  assert.ok(wildcardPattern('HTTP.*').test('http.x'));
  assert.not.ok(wildcardPattern('http.*').test('httpx'));
  assert.ok(wildcardPattern('a?c').test('abc'));
  assert.not.ok(wildcardPattern('a?c').test('ac'));
  assert.ok(wildcardPattern('*').test(''));
  assert.not.ok(wildcardPattern('a.c').test('abc'), '. is literal');
  assert.ok(wildcardPattern('a(b)+').test('a(b)+'));
});

sel('every criterion must hold', () => {
  const v = validateView(
    { instrumentName: 'req*', instrumentKind: 'counter', instrumentUnit: 'ms', meterName: 'lib', meterVersion: '1', meterSchemaUrl: 'https://s' },
    'v',
  );
  assert.ok(v.matches(desc('requests', 'counter', 'ms'), meter));
  assert.not.ok(v.matches(desc('requests', 'histogram', 'ms'), meter));
  assert.not.ok(v.matches(desc('requests', 'counter', 's'), meter));
  assert.not.ok(v.matches(desc('latency', 'counter', 'ms'), meter));
  assert.not.ok(v.matches(desc('requests', 'counter', 'ms'), { ...meter, version: '2' }));
  assert.not.ok(v.matches(desc('requests', 'counter', 'ms'), { ...meter, name: 'other' }));
  assert.not.ok(v.matches(desc('requests', 'counter', 'ms'), { ...meter, schemaUrl: '' }));
});

sel('invalid views fail fast with the field named', () => {
  const bad: Array<[unknown, string]> = [
    [{}, 'v'],
    [{ instrumentName: 'a*', name: 'b' }, 'v.name'],
    [{ instrumentKind: 'counter', name: 'b' }, 'v.name'],
    [{ instrumentName: 'a', name: '1b' }, 'v.name'],
    [{ instrumentName: 'a', instrumentKind: 'timer' }, 'v.instrumentKind'],
    [{ instrumentName: 'a', aggregation: { type: 'explicit_bucket_histogram', boundaries: [2, 1] } }, 'v.aggregation.boundaries[1]'],
    [{ instrumentName: 'a', aggregation: { type: 'base2_exponential_bucket_histogram', maxScale: 21 } }, 'v.aggregation.maxScale'],
    [{ instrumentName: 'a', aggregation: { type: 'median' } }, 'v.aggregation.type'],
    [{ instrumentName: 'a', cardinalityLimit: 0 }, 'v.cardinalityLimit'],
    [{ instrumentName: 'a', attributeKeys: { include: ['x'], exclude: ['y'] } }, 'v.attributeKeys'],
    [{ instrumentName: 'a', attributeKeys: { include: [1] } }, 'v.attributeKeys.include'],
  ];
  for (const [v, field] of bad) {
    assert.throws(
      () => validateView(v, 'v'),
      (e: unknown) => e instanceof MetricsConfigError && e.field === field,
      JSON.stringify(v),
    );
  }
});

sel.run();

const eff = suite('metrics/view: effects');

eff('rename and describe one instrument; others keep their default stream', async () => {
  const p = createMeterProvider({ views: [{ instrumentName: 'requests', name: 'http.requests', description: 'All requests' }] });
  const c = p.registerConsumer();
  const m = p.getMeter('m');
  m.createCounter('requests', { description: 'old' }).add(1);
  m.createCounter('other').add(1);
  const ps = await points(c);
  assert.equal(
    ps.map((x) => [x.metric, x.description]),
    [
      ['http.requests', 'All requests'],
      ['other', ''],
    ],
  );
});

eff('attribute allow-list and deny-list merge series', async () => {
  const p = createMeterProvider({
    views: [
      { instrumentName: 'a', attributeKeys: { include: ['route'] } },
      { instrumentName: 'b', attributeKeys: { exclude: ['user'] } },
    ],
  });
  const c = p.registerConsumer();
  const m = p.getMeter('m');
  const a = m.createCounter('a');
  const b = m.createCounter('b');
  const reused = { route: '/x', user: 'u1', code: 200 };
  for (const user of ['u1', 'u2', 'u3']) {
    a.add(1, { route: '/x', user, code: 200 });
    b.add(1, { route: '/x', user, code: 200 });
    reused.user = user;
    a.add(10, reused);
    b.add(10, reused);
  }
  const ps = await points(c);
  assert.is(point(ps, 'a', 'route=/x')?.value, 33);
  assert.is(point(ps, 'b', 'code=200,route=/x')?.value, 33);
  assert.is(ps.length, 2);
});

eff('several views make several streams; drop removes the default one', async () => {
  const p = createMeterProvider({
    views: [
      { instrumentName: 'lat', name: 'lat.hist', aggregation: { type: 'explicit_bucket_histogram', boundaries: [1, 2], recordMinMax: false } },
      { instrumentName: 'lat', name: 'lat.sum', aggregation: { type: 'sum' } },
      { instrumentName: 'lat', name: 'lat.last', aggregation: { type: 'last_value' } },
      { instrumentName: 'lat', name: 'lat.exp', aggregation: { type: 'base2_exponential_bucket_histogram', maxSize: 4 } },
      { instrumentName: 'noise*', aggregation: { type: 'drop' } },
    ],
  });
  const c = p.registerConsumer();
  const m = p.getMeter('m');
  const h = m.createHistogram('lat');
  for (const v of [0.5, 1.5, 3]) h.record(v);
  m.createCounter('noise.a').add(1);
  m.createObservableGauge('noise.b').addCallback((r) => r.observe(1));
  const bound = m.createCounter('noise.c').bind({ x: 1 });
  bound.add(1);
  const ps = await points(c);
  assert.equal(
    ps.map((x) => x.metric),
    ['lat.hist', 'lat.sum', 'lat.last', 'lat.exp'],
  );
  const hist = point(ps, 'lat.hist');
  assert.equal([hist?.buckets, hist?.bounds, hist?.min, hist?.max, hist?.sum], [[1, 1, 1], [1, 2], undefined, undefined, 5]);
  assert.equal([point(ps, 'lat.sum')?.value, point(ps, 'lat.sum')?.monotonic], [5, true]);
  assert.is(point(ps, 'lat.last')?.value, 3);
  assert.is(point(ps, 'lat.exp')?.count, 3);
});

eff('explicit boundaries: view over advice over the default; histogram sum left out for gauges', async () => {
  const p = createMeterProvider({
    views: [
      { instrumentName: 'v', aggregation: { type: 'explicit_bucket_histogram', boundaries: [5] } },
      { instrumentName: 'g', aggregation: { type: 'explicit_bucket_histogram' } },
    ],
  });
  const c = p.registerConsumer();
  const m = p.getMeter('m');
  m.createHistogram('v', { advice: { explicitBucketBoundaries: [1, 2, 3] } }).record(1);
  m.createHistogram('a', { advice: { explicitBucketBoundaries: [1, 2, 3] } }).record(1);
  m.createHistogram('d').record(1);
  m.createGauge('g').record(-1);
  const ps = await points(c);
  assert.equal(point(ps, 'v')?.bounds, [5]);
  assert.equal(point(ps, 'a')?.bounds, [1, 2, 3]);
  assert.is(point(ps, 'd')?.bounds.length, 15);
  assert.equal([point(ps, 'g')?.count, point(ps, 'g')?.sum, point(ps, 'g')?.min], [1, undefined, -1]);
});

eff('defaultHistogramAggregation switches histograms to base-2 exponential', async () => {
  const p = createMeterProvider({ defaultHistogramAggregation: 'base2_exponential_bucket_histogram' });
  const c = p.registerConsumer();
  const h = p.getMeter('m').createHistogram('h');
  for (const v of [0, 1, 2, 4, 1000]) h.record(v);
  const x = point(await points(c), 'h');
  assert.equal([x?.kind, x?.count, x?.zeroCount, x?.sum, x?.min, x?.max], ['exponentialHistogram', 5, 1, 1007, 0, 1000]);
  assert.is(
    x?.pos.reduce((a, b) => a + b, 0),
    4,
  );
});

eff('conflicting views warn and still report both streams', async () => {
  const { warnings, result } = await captureWarnings(async () => {
    const p = createMeterProvider({
      views: [
        { instrumentName: 'x', name: 'same', aggregation: { type: 'sum' } },
        { instrumentName: 'x', name: 'same', aggregation: { type: 'last_value' } },
      ],
    });
    const c = p.registerConsumer();
    p.getMeter('m').createCounter('x').add(2);
    return points(c);
  });
  assert.equal(
    result.map((x) => [x.metric, x.kind]),
    [
      ['same', 'sum'],
      ['same', 'gauge'],
    ],
  );
  assert.ok(warnings.some((w) => /conflicting metric streams named "same".*aggregation sum vs last_value/.test(w)));
});

eff('histogram aggregations on observable instruments fall back to the default with a warning', async () => {
  const { warnings, result } = await captureWarnings(async () => {
    const p = createMeterProvider({ views: [{ instrumentKind: 'observablegauge', aggregation: { type: 'explicit_bucket_histogram' } }] });
    const c = p.registerConsumer();
    p.getMeter('m')
      .createObservableGauge('og')
      .addCallback((r) => r.observe(4));
    return points(c);
  });
  assert.equal(
    result.map((x) => [x.kind, x.value]),
    [['gauge', 4]],
  );
  assert.is(warnings.length, 1);
});

eff('views select by meter and unit', async () => {
  const p = createMeterProvider({
    views: [
      { meterName: 'noisy', aggregation: { type: 'drop' } },
      { instrumentUnit: 'By', description: 'bytes' },
    ],
  });
  const c = p.registerConsumer();
  p.getMeter('noisy').createCounter('a').add(1);
  p.getMeter('quiet').createCounter('b', { unit: 'By' }).add(1);
  const ps = await points(c);
  assert.equal(
    ps.map((x) => [x.scope, x.metric, x.description]),
    [['quiet', 'b', 'bytes']],
  );
});

eff.run();
