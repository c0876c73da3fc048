import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createTelemetry, type Telemetry } from '../../src/telemetry.js';
import { startReceiver, ofSignal, type Receiver } from '../support/receiver.js';
import { settledHeap } from '../support/gc.js';
import { setDiagnosticSink, getDiagnosticSink, resetWarnings } from '../../src/internal/warn.js';
import type { ExportMetricsServiceRequest } from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { AggregationTemporality } from '../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';

// End to end on loopback: the real SDK pipeline (record → collect → encode → queue → transport) against real
// OTLP receivers built on our gen/ code.

/** `name` metric's sum points as {attributeValue: value} from one request. */
function sumPoints(req: ExportMetricsServiceRequest, name: string) {
  const out: Record<string, number> = {};
  let temporality: AggregationTemporality | undefined;
  for (const rm of req.resourceMetrics)
    for (const sm of rm.scopeMetrics)
      for (const m of sm.metrics) {
        if (m.name !== name || m.data.case !== 'sum') continue;
        temporality = m.data.value.aggregationTemporality;
        for (const p of m.data.value.dataPoints) {
          const key = p.attributes.map((a) => `${a.key}=${String(a.value?.value.value)}`).join(',');
          out[key] = p.value.case === 'asInt' ? Number(p.value.value) : (p.value.value as number);
        }
      }
  return { points: out, temporality };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const metricsOf = (r: Receiver) => r.requests.filter(ofSignal('metrics')).map((x) => x.message);
const hasMetric = (name: string) => (req: ExportMetricsServiceRequest) =>
  req.resourceMetrics.some((rm) => rm.scopeMetrics.some((sm) => sm.metrics.some((m) => m.name === name)));

const test = suite('export/telemetry end to end');
let sink = getDiagnosticSink();
const warnings: string[] = [];
test.before.each(() => {
  sink = getDiagnosticSink();
  warnings.length = 0;
  resetWarnings();
  setDiagnosticSink((m) => warnings.push(m));
});
test.after.each(() => setDiagnosticSink(sink));

test('a gRPC delta backend and an HTTP cumulative backend both receive exactly what was recorded', async () => {
  const tenant = await startReceiver();
  const central = await startReceiver();
  const telemetry = createTelemetry({
    env: {},
    serviceName: 'checkout',
    resource: { 'deployment.environment.name': 'prod' },
    backends: [
      { name: 'tenant', endpoint: tenant.grpcUrl, protocol: 'grpc', temporality: 'delta', headers: { authorization: 'Bearer t0k' } },
      { name: 'central', endpoint: central.httpUrl, protocol: 'http/protobuf' },
    ],
    exportIntervalMillis: 3_600_000,
  });
  try {
    const orders = telemetry.meterProvider.getMeter('checkout', '1.2.0').createCounter('orders');
    orders.add(1, { country: 'DE' });
    orders.add(2, { country: 'DE' });
    orders.add(5, { country: 'FR' });
    telemetry.loggerProvider.getLogger('checkout').emit({ severityNumber: 9, severityText: 'INFO', body: 'order placed' });
    await telemetry.forceFlush();

    const d1 = metricsOf(tenant).filter(hasMetric('orders'));
    const c1 = metricsOf(central).filter(hasMetric('orders'));
    assert.is(d1.length, 1);
    assert.is(c1.length, 1);
    assert.equal(sumPoints(d1[0]!, 'orders'), { points: { 'country=DE': 3, 'country=FR': 5 }, temporality: AggregationTemporality.DELTA });
    assert.equal(sumPoints(c1[0]!, 'orders'), { points: { 'country=DE': 3, 'country=FR': 5 }, temporality: AggregationTemporality.CUMULATIVE });
    const grpcReq = tenant.requests.find((r) => r.signal === 'metrics')!;
    assert.is(grpcReq.protocol, 'grpc');
    assert.is(grpcReq.headers['authorization'], 'Bearer t0k');
    const res = d1[0]!.resourceMetrics[0]!.resource!.attributes;
    assert.ok(res.some((a) => a.key === 'service.name' && a.value?.value.value === 'checkout'));
    assert.ok(res.some((a) => a.key === 'deployment.environment.name' && a.value?.value.value === 'prod'));
    assert.is(d1[0]!.resourceMetrics[0]!.scopeMetrics.find((s) => s.scope?.name === 'checkout')?.scope?.version, '1.2.0');

    for (const r of [tenant, central]) {
      const logs = r.requests.filter(ofSignal('logs'));
      assert.is(logs.length, 1, 'one log batch');
      const rec = logs[0]!.message.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
      assert.is(rec.body?.value.value, 'order placed');
      assert.is(rec.severityNumber, 9);
      assert.is(rec.severityText, 'INFO');
    }

    orders.add(1, { country: 'DE' });
    await telemetry.forceFlush();
    const d2 = metricsOf(tenant).filter(hasMetric('orders'));
    const c2 = metricsOf(central).filter(hasMetric('orders'));
    assert.equal(sumPoints(d2[1]!, 'orders').points, { 'country=DE': 1 }, 'delta: only what happened since');
    assert.equal(sumPoints(c2[1]!, 'orders').points, { 'country=DE': 4, 'country=FR': 5 }, 'cumulative: running totals');

    // The SDK reports its own delivery counters through itself.
    assert.ok(metricsOf(central).some(hasMetric('otlp_fanout.exporter.items')));
    const stats = telemetry.stats();
    assert.equal(stats.map((s) => `${s.name}/${s.signal}`).sort(), ['central/logs', 'central/metrics', 'tenant/logs', 'tenant/metrics']);
    assert.ok(stats.every((s) => s.itemsFailed === 0 && s.itemsDropped === 0));
  } finally {
    const report = await telemetry.shutdown();
    assert.equal(report.undelivered, []);
    await tenant.close();
    await central.close();
  }
});

test('nothing configured: nothing exported, no backend, no timer keeping the process alive', async () => {
  const telemetry = createTelemetry({ env: {} });
  telemetry.meterProvider.getMeter('m').createCounter('c').add(1);
  telemetry.loggerProvider.getLogger('l').emit({ body: 'x' });
  assert.equal(telemetry.stats(), []);
  assert.equal(telemetry.config.backends, []);
  await telemetry.forceFlush();
  assert.equal((await telemetry.shutdown()).undelivered, []);
});

test('a dead backend does not delay a healthy one: every interval arrives on time', async () => {
  const healthy = await startReceiver();
  const dead = await startReceiver();
  const deadUrl = dead.httpUrl;
  await dead.close(); // connection refused from now on
  const telemetry = createTelemetry({
    env: {},
    backends: [
      { name: 'dead', endpoint: deadUrl, protocol: 'http/protobuf', retry: { initialBackoffMillis: 20, maxBackoffMillis: 50 } },
      { name: 'healthy', endpoint: healthy.grpcUrl, protocol: 'grpc' },
    ],
    exportIntervalMillis: 100,
    exportTimeoutMillis: 100,
    selfMetrics: false,
  });
  try {
    telemetry.meterProvider.getMeter('m').createCounter('c').add(1);
    await sleep(650);
    const n = metricsOf(healthy).length;
    assert.ok(n >= 4, `healthy backend got ${n} collections in 650 ms at a 100 ms interval`);
    const dead = telemetry.stats().find((s) => s.name === 'dead' && s.signal === 'metrics')!;
    assert.ok(dead.retries > 0 && dead.itemsSent === 0);
  } finally {
    await telemetry.shutdown();
    await healthy.close();
  }
});

test('a stalled backend (accepts, never answers) does not delay a healthy one', async () => {
  const healthy = await startReceiver();
  const stalled = await startReceiver({ respond: () => ({ kind: 'stall' }) });
  const telemetry = createTelemetry({
    env: {},
    backends: [
      { name: 'stalled', endpoint: stalled.grpcUrl, protocol: 'grpc', timeoutMillis: 5_000 },
      { name: 'healthy', endpoint: healthy.httpUrl, protocol: 'http/protobuf' },
    ],
    exportIntervalMillis: 100,
    exportTimeoutMillis: 100,
    selfMetrics: false,
  });
  try {
    const c = telemetry.meterProvider.getMeter('m').createCounter('c');
    const loopDelays: number[] = [];
    for (let i = 0; i < 13; i++) {
      c.add(1);
      const t0 = performance.now();
      await sleep(50);
      loopDelays.push(performance.now() - t0 - 50);
    }
    assert.ok(metricsOf(healthy).length >= 4, `healthy got ${metricsOf(healthy).length}`);
    assert.ok(Math.max(...loopDelays) < 100, `event loop stayed responsive (max lag ${Math.max(...loopDelays).toFixed(1)} ms)`);
    const s = telemetry.stats().find((x) => x.name === 'stalled' && x.signal === 'metrics')!;
    assert.is(s.inFlightRequests, 1);
    assert.ok(s.queueRequests >= 3, 'later collections wait in the stalled backend queue');
  } finally {
    const report = await telemetry.shutdown();
    assert.ok(
      report.undelivered.some((u) => u.backend === 'stalled'),
      'shutdown reports what the stalled backend kept',
    );
    await healthy.close();
    await stalled.close();
  }
});

test('503 then recovery, and 429 with Retry-After: delivered after the retries, nothing lost', async () => {
  const r = await startReceiver({
    respond: (_req, i) =>
      i === 0
        ? { kind: 'error', httpStatus: 503, message: 'warming up' }
        : i === 1
          ? { kind: 'error', httpStatus: 429, retryAfter: '1' }
          : { kind: 'ok' },
  });
  const telemetry = createTelemetry({
    env: {},
    backends: [{ name: 'b', endpoint: r.httpUrl, protocol: 'http/protobuf', retry: { initialBackoffMillis: 10 } }],
    exportIntervalMillis: 3_600_000,
    selfMetrics: false,
  });
  try {
    telemetry.meterProvider.getMeter('m').createCounter('c').add(7);
    const t0 = Date.now();
    await telemetry.forceFlush();
    const metrics = r.requests.filter(ofSignal('metrics'));
    assert.is(metrics.length, 3, 'two failures then success');
    assert.ok(Date.now() - t0 >= 950, 'waited for Retry-After: 1');
    assert.equal(metrics[2]!.bytes, metrics[0]!.bytes, 'the same request was retried');
    const s = telemetry.stats().find((x) => x.signal === 'metrics')!;
    assert.is(s.retries, 2);
    assert.is(s.itemsSent, 1);
  } finally {
    await telemetry.shutdown();
    await r.close();
  }
});

test('a failed delta export stays queued and is delivered later: no data lost', async () => {
  let down = true;
  const accepted: number[] = [];
  const r = await startReceiver({
    respond: (_req, i) => {
      if (down) return { kind: 'error', httpStatus: 503 };
      accepted.push(i);
      return { kind: 'ok' };
    },
  });
  const telemetry = createTelemetry({
    env: {},
    backends: [
      { name: 'd', endpoint: r.httpUrl, protocol: 'http/protobuf', temporality: 'delta', retry: { initialBackoffMillis: 30, maxBackoffMillis: 30 } },
    ],
    exportIntervalMillis: 3_600_000,
    exportTimeoutMillis: 200,
    selfMetrics: false,
  });
  try {
    const c = telemetry.meterProvider.getMeter('m').createCounter('c');
    c.add(3);
    await telemetry.forceFlush(); // gives up waiting while the backend is down; the request stays queued
    c.add(4);
    await telemetry.forceFlush();
    assert.is(accepted.length, 0);
    down = false;
    await telemetry.forceFlush();
    // Every measurement arrives exactly once across the accepted delta requests.
    let total = 0;
    for (const i of accepted) {
      const req = r.requests[i]!;
      if (req.signal === 'metrics') total += Object.values(sumPoints(req.message, 'c').points).reduce((a, b) => a + b, 0);
    }
    assert.is(total, 7);
    assert.is(telemetry.stats()[0]!.itemsFailed, 0);
  } finally {
    await telemetry.shutdown();
    await r.close();
  }
});

test('connection reset mid-request: retried and delivered', async () => {
  const r = await startReceiver({ respond: (_req, i) => (i === 0 ? { kind: 'reset' } : { kind: 'ok' }) });
  const telemetry = createTelemetry({
    env: {},
    backends: [{ name: 'b', endpoint: r.grpcUrl, protocol: 'grpc', retry: { initialBackoffMillis: 10 } }],
    exportIntervalMillis: 3_600_000,
    selfMetrics: false,
  });
  try {
    telemetry.meterProvider.getMeter('m').createCounter('c').add(1);
    await telemetry.forceFlush();
    const s = telemetry.stats().find((x) => x.signal === 'metrics')!;
    assert.is(s.retries, 1);
    assert.is(s.itemsSent, 1);
    assert.is(r.requests.filter(ofSignal('metrics')).length, 2);
  } finally {
    await telemetry.shutdown();
    await r.close();
  }
});

test('configured from OTEL_* variables alone', async () => {
  const r = await startReceiver();
  const telemetry = createTelemetry({
    env: {
      OTEL_SERVICE_NAME: 'from-env',
      OTEL_RESOURCE_ATTRIBUTES: 'team=a%20b',
      OTEL_EXPORTER_OTLP_ENDPOINT: r.httpUrl,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=k1',
      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
    },
    selfMetrics: false,
  });
  try {
    telemetry.meterProvider.getMeter('m').createCounter('c').add(5);
    telemetry.loggerProvider.getLogger('l').emit({ body: 'env' });
    await telemetry.forceFlush();
    const m = r.requests.filter(ofSignal('metrics'));
    assert.is(m.length, 1);
    assert.is(m[0]!.protocol, 'http/json');
    assert.is(m[0]!.headers['x-api-key'], 'k1');
    assert.equal(sumPoints(m[0]!.message, 'c'), { points: { '': 5 }, temporality: AggregationTemporality.DELTA });
    const attrs = m[0]!.message.resourceMetrics[0]!.resource!.attributes;
    assert.ok(attrs.some((a) => a.key === 'service.name' && a.value?.value.value === 'from-env'));
    assert.ok(attrs.some((a) => a.key === 'team' && a.value?.value.value === 'a b'));
    assert.is(r.requests.filter(ofSignal('logs')).length, 1);
  } finally {
    await telemetry.shutdown();
    await r.close();
  }
});

test('partial success is counted, not retried', async () => {
  const r = await startReceiver({ respond: () => ({ kind: 'partial', rejected: 1, message: 'one point too old' }) });
  const telemetry = createTelemetry({
    env: {},
    backends: [{ name: 'p', endpoint: r.grpcUrl, protocol: 'grpc' }],
    exportIntervalMillis: 3_600_000,
    selfMetrics: false,
  });
  try {
    const c = telemetry.meterProvider.getMeter('m').createCounter('c');
    c.add(1, { a: 1 });
    c.add(1, { a: 2 });
    await telemetry.forceFlush();
    assert.is(r.requests.filter(ofSignal('metrics')).length, 1);
    const s = telemetry.stats().find((x) => x.signal === 'metrics')!;
    assert.is(s.itemsRejected, 1);
    assert.is(s.itemsSent, 1);
    assert.ok(warnings.some((w) => w.includes('one point too old')));
  } finally {
    await telemetry.shutdown();
    await r.close();
  }
});

test('shutdown delivers what is pending', async () => {
  const r = await startReceiver();
  const telemetry = createTelemetry({
    env: {},
    backends: [{ name: 'b', endpoint: r.httpUrl, protocol: 'http/json' }],
    exportIntervalMillis: 3_600_000,
    selfMetrics: false,
  });
  telemetry.meterProvider.getMeter('m').createCounter('pending').add(2);
  telemetry.loggerProvider.getLogger('l').emit({ body: { nested: [1, 'two', true] } });
  const report = await telemetry.shutdown();
  assert.equal(report.undelivered, []);
  assert.ok(r.requests.some((x) => x.protocol === 'http/json' && x.signal === 'metrics'));
  const logs = r.requests.filter(ofSignal('logs'));
  assert.is(logs.length, 1);
  assert.is(logs[0]!.protocol, 'http/json');
  await r.close();
});

test('memory stays bounded by the queue limits however long a backend is down', async () => {
  const dead = await startReceiver();
  const url = dead.httpUrl;
  await dead.close();
  const telemetry: Telemetry = createTelemetry({
    env: {},
    backends: [
      {
        name: 'down',
        endpoint: url,
        protocol: 'http/protobuf',
        queue: { maxBytes: 20_000, maxRequests: 1000 },
        retry: { initialBackoffMillis: 5, maxBackoffMillis: 5, maxElapsedMillis: 60_000 },
      },
    ],
    exportIntervalMillis: 10,
    exportTimeoutMillis: 10,
    selfMetrics: false,
  });
  try {
    const c = telemetry.meterProvider.getMeter('m').createCounter('c');
    for (let i = 0; i < 200; i++) c.add(1, { series: i });
    const heap: number[] = [];
    for (let round = 0; round < 8; round++) {
      await sleep(100);
      const s = telemetry.stats()[0]!;
      assert.ok(s.queueBytes <= 20_000, `queue bytes ${s.queueBytes} within the limit`);
      if (round >= 2) heap.push(settledHeap());
    }
    const s = telemetry.stats()[0]!;
    assert.ok(s.itemsDropped > 0, 'oldest requests dropped and counted');
    assert.ok(Math.max(...heap) - Math.min(...heap) < 4 * 1024 * 1024, `heap stable (${heap.map((h) => (h / 1e6).toFixed(1)).join(', ')} MB)`);
  } finally {
    await telemetry.shutdown();
  }
});

test('in-memory backend: same temporality and batching as a network one; runtime metrics opt-in', async () => {
  const telemetry = createTelemetry({
    env: {},
    backends: [{ name: 'mem', kind: 'memory', temporality: 'delta' }],
    exportIntervalMillis: 3_600_000,
    runtimeMetrics: true,
    selfMetrics: false,
  });
  try {
    const c = telemetry.meterProvider.getMeter('app').createCounter('hits');
    c.add(2, { route: '/a' });
    telemetry.loggerProvider.getLogger('app').emit({ body: 'hello', attributes: { n: 1 } });
    await telemetry.forceFlush();
    c.add(1, { route: '/a' });
    await telemetry.forceFlush();
    const mem = telemetry.memory('mem')!;
    const hits = mem.metricsNamed('hits');
    assert.is(hits.length, 2);
    const values = hits.map((m) => (m.data.case === 'sum' ? Number(m.data.value.dataPoints[0]!.value.value) : NaN));
    assert.equal(values, [2, 1], 'delta per collection');
    assert.is(mem.logRecords()[0]!.body?.value.value, 'hello');
    assert.ok(mem.metricsNamed('process.cpu.time').length > 0, 'runtime metrics reported');
    assert.ok(mem.metricsNamed('v8js.memory.heap.used').length > 0);
  } finally {
    await telemetry.shutdown();
  }
});

test.run();
