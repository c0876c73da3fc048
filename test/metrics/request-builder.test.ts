import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { ExportMetricsServiceRequestSchema } from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { manualClock } from '../../src/internal/clock.js';
import { createMeterProvider, type MetricConsumer } from '../../src/metrics/meter-provider.js';
import { captureWarnings, flatten, prng } from './helpers.js';

const test = suite('metrics/request-builder: splitting');

function key(p: ReturnType<typeof flatten>[number]): string {
  return `${p.scope}|${p.metric}|${p.attrs}|${p.value}|${p.count}|${p.buckets.join(',')}|${p.pos.join(',')}`;
}

/** A provider with a mixed workload and two identical consumers (to compare split and unsplit). */
async function workload(seed: number): Promise<{ a: MetricConsumer; b: MetricConsumer }> {
  const rnd = prng(seed);
  const p = createMeterProvider({
    clock: manualClock(),
    resource: { 'service.name': 'svc', 'host.name': 'h'.repeat(50) },
    resourceSchemaUrl: 'https://example.com/resource',
    views: [{ instrumentName: 'exp', aggregation: { type: 'base2_exponential_bucket_histogram' } }],
  });
  const a = p.registerConsumer();
  const b = p.registerConsumer();
  for (let mi = 0; mi < 3; mi++) {
    const m = p.getMeter(`meter${mi}`, '1', { schemaUrl: mi === 1 ? 'https://example.com/scope' : '' });
    const ctr = m.createCounter('ctr', { description: 'd'.repeat(mi * 40), unit: 'ms' });
    const h = m.createHistogram('hist');
    const e = m.createHistogram('exp');
    const n = 20 + Math.floor(rnd() * 40);
    for (let i = 0; i < n; i++) {
      const attrs = { i, name: 'x'.repeat(Math.floor(rnd() * 60)) };
      ctr.add(rnd() * 100, attrs);
      if (rnd() < 0.5) h.record(rnd() * 1000, attrs);
      if (rnd() < 0.3) e.record(rnd() * 1e6, attrs);
    }
    m.createObservableGauge('og').addCallback((r) => {
      for (let i = 0; i < 5; i++) r.observe(i, { i });
    });
  }
  return { a, b };
}

test('split by bytes and points: every body within limits, same points in total', async () => {
  for (let seed = 1; seed <= 12; seed++) {
    const { a, b } = await workload(seed);
    const whole = await a.collect();
    assert.is(whole.length, 1);
    const maxRequestBytes = 1000 + seed * 200;
    const maxPointsPerRequest = seed % 3 === 0 ? 7 : undefined;
    const parts = await b.collect({ maxRequestBytes, ...(maxPointsPerRequest === undefined ? {} : { maxPointsPerRequest }) });
    assert.ok(parts.length > 1, `seed ${seed} splits`);
    for (const body of parts) {
      assert.ok(body.length <= maxRequestBytes, `${body.length} <= ${maxRequestBytes}`);
      const msg = fromBinary(ExportMetricsServiceRequestSchema, body);
      assert.equal(toBinary(ExportMetricsServiceRequestSchema, msg), body, 'canonical encoding');
      if (maxPointsPerRequest !== undefined) assert.ok(flatten([msg]).length <= maxPointsPerRequest);
      const rm = msg.resourceMetrics[0];
      assert.is(rm?.schemaUrl, 'https://example.com/resource', 'every body carries the resource');
      assert.is(rm?.resource?.attributes.length, 2);
      for (const sm of rm?.scopeMetrics ?? []) {
        assert.ok(sm.metrics.length > 0, 'no empty scope');
        assert.is(sm.schemaUrl, sm.scope?.name === 'meter1' ? 'https://example.com/scope' : '');
      }
    }
    const want = flatten([fromBinary(ExportMetricsServiceRequestSchema, whole[0] as Uint8Array)])
      .map(key)
      .sort();
    const got = flatten(parts.map((x) => fromBinary(ExportMetricsServiceRequestSchema, x)))
      .map(key)
      .sort();
    assert.equal(got, want);
  }
});

test('points-only limit', async () => {
  const p = createMeterProvider();
  const c = p.registerConsumer();
  const ctr = p.getMeter('m').createCounter('c');
  for (let i = 0; i < 10; i++) ctr.add(1, { i });
  const parts = await c.collectMessages({ maxPointsPerRequest: 3 });
  assert.equal(
    parts.map((x) => flatten([x]).length),
    [3, 3, 3, 1],
  );
});

test('a point that cannot fit any body is dropped with a warning', async () => {
  const { warnings, result } = await captureWarnings(async () => {
    const p = createMeterProvider();
    const c = p.registerConsumer();
    const ctr = p.getMeter('m').createCounter('c');
    ctr.add(1, { small: 1 });
    ctr.add(1, { big: 'x'.repeat(1000) });
    ctr.add(1, { small: 2 });
    return c.collectMessages({ maxRequestBytes: 200 });
  });
  assert.equal(
    flatten(result).map((x) => x.attrs),
    ['small=1', 'small=2'],
  );
  assert.is(warnings.length, 1);
});

test.run();
