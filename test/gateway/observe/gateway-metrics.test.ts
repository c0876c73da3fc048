import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ExportMetricsServiceRequest } from '../../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import type { KeyValue } from '../../../gen/opentelemetry/proto/common/v1/common_pb.js';
import type { HistogramDataPoint, NumberDataPoint } from '../../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import { GatewayConfigError } from '../../../src/gateway/config/config-error.js';
import type { GatewayView, ReloadResult, RequestEvent, UpstreamView } from '../../../src/gateway/observe/events.js';
import {
  createGatewayMeterProvider,
  createGatewayMetrics,
  EXPORT_DURATION_BOUNDARIES_S,
  GATEWAY_METER_NAME,
} from '../../../src/gateway/observe/gateway-metrics.js';
import { manualClock } from '../../../src/internal/clock.js';
import type { Signal } from '../../../src/otlp/types.js';
import { stats, upstream } from '../upstream-fixture.js';

function view(ups: UpstreamView[], queued = 0): GatewayView {
  return {
    addresses: { grpc: '127.0.0.1:4317', http: '127.0.0.1:4318' },
    upstreams: ups,
    queuedBytes: () => queued,
    maxQueuedBytes: 1024,
    draining: () => false,
  };
}

function request(signal: Signal, items: number, over: Partial<RequestEvent> = {}): RequestEvent {
  return {
    signal,
    protocol: 'http/protobuf',
    tenant: undefined,
    serviceNames: [],
    items,
    bytes: items * 10,
    wireBytes: items * 10,
    upstreams: [],
    unrouted: 0,
    body: new Uint8Array(0),
    encoding: 'protobuf',
    decode: () => {
      throw new Error('the metrics never decode');
    },
    ...over,
  };
}

function attrs(kvs: readonly KeyValue[]): Record<string, string> {
  const o: Record<string, string> = {};
  // Sorted keys: the SDK does not promise an attribute order, the test should not depend on one.
  for (const kv of [...kvs].sort((a, b) => (a.key < b.key ? -1 : 1))) o[kv.key] = String(kv.value?.value.value);
  return o;
}

/** Every number point of `name`, as [attributes, value]. */
function points(msgs: readonly ExportMetricsServiceRequest[], name: string): Array<[Record<string, string>, number]> {
  const out: Array<[Record<string, string>, number]> = [];
  for (const m of msgs)
    for (const rm of m.resourceMetrics)
      for (const sm of rm.scopeMetrics)
        for (const metric of sm.metrics) {
          if (metric.name !== name) continue;
          const d = metric.data;
          if (d.case !== 'sum' && d.case !== 'gauge') continue;
          for (const p of d.value.dataPoints as NumberDataPoint[]) out.push([attrs(p.attributes), Number(p.value.value)]);
        }
  return out;
}

function histogram(msgs: readonly ExportMetricsServiceRequest[], name: string): HistogramDataPoint[] {
  const out: HistogramDataPoint[] = [];
  for (const m of msgs)
    for (const rm of m.resourceMetrics)
      for (const sm of rm.scopeMetrics)
        for (const metric of sm.metrics) if (metric.name === name && metric.data.case === 'histogram') out.push(...metric.data.value.dataPoints);
  return out;
}

/** Compares points as sorted `{attributes}=value` strings. */
function expectPoints(actual: Array<[Record<string, string>, number]>, expected: readonly string[]): void {
  assert.equal(actual.map(([a, v]) => `${JSON.stringify(a)}=${v}`).sort(), [...expected].sort());
}

function reload(outcome: ReloadResult['outcome']): ReloadResult {
  const none = { added: [], changed: [], removed: [] };
  return {
    outcome,
    trigger: 'api',
    source: 'api',
    error: undefined,
    upstreams: none,
    tenants: none,
    settings: [],
    receivers: [],
    needsRestart: [],
    ignored: [],
    elapsedMs: 1,
  };
}

const test = suite('gateway/observe-metrics');

test('provider: gateway resource by default, caller attributes merged over it', async () => {
  const p = createGatewayMeterProvider({ resource: { 'service.instance.id': 'i-1' }, clock: manualClock() });
  const c = p.registerConsumer();
  p.getMeter('x').createCounter('n').add(1);
  const [msg] = await c.collectMessages();
  assert.equal(attrs(msg!.resourceMetrics[0]!.resource!.attributes), { 'service.name': 'otlp-fanout-gateway', 'service.instance.id': 'i-1' });
});

test('requests, items, sizes, refusals and forwarded: names, attributes and values', async () => {
  const p = createGatewayMeterProvider({ clock: manualClock() });
  const c = p.registerConsumer();
  const m = createGatewayMetrics(p);
  m.request(request('metrics', 100));
  m.request(request('metrics', 50, { protocol: 'grpc', tenant: 'acme', serviceNames: ['checkout'] }));
  m.request(request('logs', 7, { serviceNames: ['checkout', 'cart'] }));
  m.refused({ reason: 'backpressure', signal: 'metrics', protocol: 'grpc', status: 8, message: 'slow down', tenant: 'acme' });
  m.refused({ reason: 'not_found', signal: undefined, protocol: 'http', status: 404, message: 'no', tenant: undefined });
  m.forwarded({ upstream: 'a', signal: 'metrics', items: 100, bytes: 1000, body: 'as_received', queued: true });
  m.forwarded({ upstream: 'a', signal: 'metrics', items: 100, bytes: 1000, body: 'as_received', queued: true });
  m.forwarded({ upstream: 'b', signal: 'logs', items: 7, bytes: 70, body: 'spliced', queued: false });
  const msgs = await c.collectMessages();
  assert.is(msgs[0]!.resourceMetrics[0]!.scopeMetrics[0]!.scope!.name, GATEWAY_METER_NAME);
  expectPoints(points(msgs, 'otlp_fanout.gateway.requests'), [
    '{"outcome":"accepted","protocol":"grpc","signal":"metrics"}=1',
    '{"outcome":"refused","protocol":"grpc","signal":"metrics"}=1',
    '{"outcome":"refused","protocol":"http","signal":"unknown"}=1',
    '{"outcome":"accepted","protocol":"http/protobuf","signal":"logs"}=1',
    '{"outcome":"accepted","protocol":"http/protobuf","signal":"metrics"}=1',
  ]);
  expectPoints(points(msgs, 'otlp_fanout.gateway.items'), [
    '{"signal":"logs"}=7',
    '{"signal":"metrics"}=100',
    '{"signal":"metrics","tenant":"acme"}=50',
  ]);
  expectPoints(points(msgs, 'otlp_fanout.gateway.received.size'), [
    '{"protocol":"grpc","signal":"metrics"}=500',
    '{"protocol":"http/protobuf","signal":"logs"}=70',
    '{"protocol":"http/protobuf","signal":"metrics"}=1000',
  ]);
  expectPoints(points(msgs, 'otlp_fanout.gateway.service.items'), [
    '{"service.name":"cart","signal":"logs"}=7',
    '{"service.name":"checkout","signal":"logs"}=7',
    '{"service.name":"checkout","signal":"metrics"}=50',
  ]);
  expectPoints(points(msgs, 'otlp_fanout.gateway.refusals'), ['{"reason":"backpressure","signal":"metrics"}=1', '{"reason":"not_found"}=1']);
  expectPoints(points(msgs, 'otlp_fanout.gateway.forwarded'), [
    '{"body":"as_received","queued":"true","signal":"metrics","upstream":"a"}=2',
    '{"body":"spliced","queued":"false","signal":"logs","upstream":"b"}=1',
  ]);
});

test('service names: the first N get series, the rest share (other), totals kept', async () => {
  const p = createGatewayMeterProvider({ clock: manualClock() });
  const c = p.registerConsumer();
  const m = createGatewayMetrics(p, { maxServiceNames: 3 });
  for (let i = 0; i < 1000; i++) m.request(request('traces', 2, { serviceNames: [`svc-${i % 10}`] }));
  const pts = points(await c.collectMessages(), 'otlp_fanout.gateway.service.items');
  assert.is(pts.length, 4, 'three names plus (other), however many names arrive');
  assert.equal(pts.map(([a]) => a['service.name']).sort(), ['(other)', 'svc-0', 'svc-1', 'svc-2']);
  assert.is(
    pts.reduce((s, [, v]) => s + v, 0),
    2000,
  );
  assert.is(pts.find(([a]) => a['service.name'] === '(other)')![1], 1400);
});

test('upstreams: observed from stats at each collection; queue and limit', async () => {
  const p = createGatewayMeterProvider({ clock: manualClock() });
  const c = p.registerConsumer();
  const m = createGatewayMetrics(p);
  const a = upstream('a', 'http/protobuf');
  m.attach(view([a], 300));
  m.attach(view([upstream('ignored', 'http/protobuf')]));
  a.current = stats('a', {
    itemsSent: 90,
    itemsRejected: 2,
    itemsFailed: 3,
    itemsDropped: 5,
    requestsSent: 12,
    requestsFailed: 2,
    retries: 2,
    queueBytes: 300,
    queueRequests: 1,
    inFlightRequests: 1,
  });
  const msgs = await c.collectMessages();
  expectPoints(points(msgs, 'otlp_fanout.gateway.upstream.items'), [
    '{"outcome":"dropped","upstream":"a"}=5',
    '{"outcome":"failed","upstream":"a"}=3',
    '{"outcome":"rejected","upstream":"a"}=2',
    '{"outcome":"sent","upstream":"a"}=90',
  ]);
  expectPoints(points(msgs, 'otlp_fanout.gateway.upstream.attempts'), [
    '{"outcome":"failure","upstream":"a"}=2',
    '{"outcome":"success","upstream":"a"}=10',
  ]);
  assert.equal(points(msgs, 'otlp_fanout.gateway.upstream.retries'), [[{ upstream: 'a' }, 2]]);
  assert.equal(points(msgs, 'otlp_fanout.gateway.upstream.queue.size'), [[{ upstream: 'a' }, 300]]);
  assert.equal(points(msgs, 'otlp_fanout.gateway.upstream.queue.requests'), [[{ upstream: 'a' }, 1]]);
  assert.equal(points(msgs, 'otlp_fanout.gateway.upstream.in_flight'), [[{ upstream: 'a' }, 1]]);
  assert.equal(points(msgs, 'otlp_fanout.gateway.queue.size'), [[{}, 300]]);
  assert.equal(points(msgs, 'otlp_fanout.gateway.queue.limit'), [[{}, 1024]]);
  assert.not.ok(JSON.stringify(points(msgs, 'otlp_fanout.gateway.upstream.items')).includes('ignored'), 'attach works once');
});

test('durable storage: size, limit, damaged records and failed writes, read at each collection; absent without storage', async () => {
  const p = createGatewayMeterProvider({ clock: manualClock() });
  const c = p.registerConsumer();
  const m = createGatewayMetrics(p);
  let figures = { bytesOnDisk: 4096, maxBytes: 1 << 30, corruptRecords: 2, appendFailures: 1 };
  m.attach({ ...view([]), storage: { stats: () => figures } });
  let msgs = await c.collectMessages();
  assert.equal(points(msgs, 'otlp_fanout.gateway.storage.size'), [[{}, 4096]]);
  assert.equal(points(msgs, 'otlp_fanout.gateway.storage.limit'), [[{}, 1 << 30]]);
  assert.equal(points(msgs, 'otlp_fanout.gateway.storage.corrupt'), [[{}, 2]]);
  assert.equal(points(msgs, 'otlp_fanout.gateway.storage.write_failures'), [[{}, 1]]);
  figures = { ...figures, bytesOnDisk: 8192 };
  msgs = await c.collectMessages();
  assert.equal(points(msgs, 'otlp_fanout.gateway.storage.size'), [[{}, 8192]]);

  const p2 = createGatewayMeterProvider({ clock: manualClock() });
  const c2 = p2.registerConsumer();
  createGatewayMetrics(p2).attach(view([]));
  assert.equal(points(await c2.collectMessages(), 'otlp_fanout.gateway.storage.size'), []);
});

test('reloads: a counter by outcome, every outcome at 0 before the first; upstreams follow the view across reloads', async () => {
  const p = createGatewayMeterProvider({ clock: manualClock() });
  const c = p.registerConsumer();
  const m = createGatewayMetrics(p);
  const a = upstream('a', 'http/protobuf');
  const state = { ups: [a] as UpstreamView[] };
  m.attach({
    ...view([]),
    get upstreams() {
      return state.ups;
    },
  });
  a.current = stats('a', { itemsSent: 10, retries: 1 });
  expectPoints(points(await c.collectMessages(), 'otlp_fanout.gateway.reloads'), [
    '{"outcome":"applied"}=0',
    '{"outcome":"rejected"}=0',
    '{"outcome":"unchanged"}=0',
  ]);
  m.reload(reload('applied'));
  m.reload(reload('rejected'));
  m.reload(reload('rejected'));
  // A reload rebuilt a (same name, a new object) and added b.
  const a2 = upstream('a', 'http/protobuf');
  const b = upstream('b', 'http/protobuf');
  state.ups = [a2, b];
  a2.current = stats('a', { itemsSent: 5, queueBytes: 7 });
  b.current = stats('b', { itemsSent: 1 });
  const msgs = await c.collectMessages();
  expectPoints(points(msgs, 'otlp_fanout.gateway.reloads'), ['{"outcome":"applied"}=1', '{"outcome":"rejected"}=2', '{"outcome":"unchanged"}=0']);
  expectPoints(
    points(msgs, 'otlp_fanout.gateway.upstream.items').filter(([at]) => at['outcome'] === 'sent'),
    ['{"outcome":"sent","upstream":"a"}=15', '{"outcome":"sent","upstream":"b"}=1'],
  );
  assert.equal(points(msgs, 'otlp_fanout.gateway.upstream.retries'), [
    [{ upstream: 'a' }, 1],
    [{ upstream: 'b' }, 0],
  ]);
  assert.equal(points(msgs, 'otlp_fanout.gateway.upstream.queue.size'), [
    [{ upstream: 'a' }, 7],
    [{ upstream: 'b' }, 0],
  ]);
  // Removed: no longer reported.
  state.ups = [b];
  assert.equal(
    points(await c.collectMessages(), 'otlp_fanout.gateway.upstream.queue.size').map(([at]) => at['upstream']),
    ['b'],
  );
});

test('export duration: each call once, in every consumer, in seconds', async () => {
  const p = createGatewayMeterProvider({ clock: manualClock() });
  const c1 = p.registerConsumer();
  const c2 = p.registerConsumer();
  const m = createGatewayMetrics(p);
  const a = upstream('a', 'http/protobuf');
  a.latency.record(50); // before attach: not this gateway's to report
  m.attach(view([a]));
  for (let i = 0; i < 3; i++) a.latency.record(0.8);
  a.latency.record(120);
  const first = histogram(await c1.collectMessages(), 'otlp_fanout.gateway.upstream.export.duration');
  assert.is(first.length, 1);
  const h = first[0]!;
  assert.equal(h.explicitBounds, [...EXPORT_DURATION_BOUNDARIES_S]);
  assert.is(h.count, 4n);
  // 0.8 ms → (0.0005, 0.001]; 120 ms → (0.1, 0.25].
  assert.is(h.bucketCounts[1], 3n);
  assert.is(h.bucketCounts[8], 1n);
  assert.ok(Math.abs(h.sum! - (3 * 0.0008 + 0.12)) < 0.01, String(h.sum));
  a.latency.record(3);
  const second = histogram(await c2.collectMessages(), 'otlp_fanout.gateway.upstream.export.duration')[0]!;
  assert.is(second.count, 5n, 'the other consumer sees every call once');
  const again = histogram(await c1.collectMessages(), 'otlp_fanout.gateway.upstream.export.duration')[0]!;
  assert.is(again.count, 5n, 'cumulative, nothing counted twice');
});

test('options are validated', () => {
  const p = createGatewayMeterProvider();
  assert.throws(
    () => createGatewayMetrics(p, { maxServiceNames: 0 }),
    (e: unknown) => e instanceof GatewayConfigError && e.path === 'maxServiceNames',
  );
  assert.throws(
    () => createGatewayMetrics(p, { maxTenants: 1.5 }),
    (e: unknown) => e instanceof GatewayConfigError && e.path === 'maxTenants',
  );
});

test.run();
