/**
 * Forwarding: what each upstream receives for protobuf, JSON, gzip and gRPC input, for
 * all three signals; splicing by route; partial success for unrouted data; isolation from
 * a stalled or dead upstream.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { gzipSync } from 'node:zlib';
import { fromBinary } from '@bufbuild/protobuf';
import { ExportMetricsServiceResponseSchema } from '../../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { ExportLogsServiceRequestSchema } from '../../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import { ExportMetricsServiceRequestSchema } from '../../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { decodeJson } from '../../../src/otlp/json.js';
import { ofSignal, startReceiver } from '../../support/receiver.js';
import type { Receiver } from '../../support/receiver.js';
import {
  bin,
  eventually,
  grpcEndpoint,
  grpcExport,
  JSON_TYPE,
  json,
  logsRequest,
  metricsRequest,
  post,
  PROTOBUF,
  startTestGateway,
  tracesRequest,
} from '../harness.js';
import type { TestGateway } from '../harness.js';

const test = suite('gateway/forward');

let g: Receiver;
let h: Receiver;
let j: Receiver;
let gw: TestGateway;

test.before(async () => {
  [g, h, j] = await Promise.all([startReceiver({ http: false }), startReceiver({ grpc: false }), startReceiver({ grpc: false })]);
  gw = await startTestGateway({
    upstreams: {
      g: { endpoint: grpcEndpoint(g.grpcUrl) },
      h: { endpoint: h.httpUrl },
      j: { endpoint: `${j.httpUrl}?encoding=json` },
    },
  });
});

test.after(async () => {
  await gw.close();
  await Promise.all([g.close(), h.close(), j.close()]);
});

test.before.each(() => {
  for (const rx of [g, h, j]) rx.clear();
  gw.seen.requests.length = 0;
  gw.seen.forwarded.length = 0;
  gw.seen.refused.length = 0;
});

const eq = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

test('HTTP protobuf in: protobuf upstreams get the received bytes, the JSON upstream JSON', async () => {
  const request = metricsRequest(['svc-a', 'svc-b'], 3);
  const body = bin.metrics(request);
  const res = await post(`${gw.httpUrl}/v1/metrics`, body, PROTOBUF);
  assert.is(res.status, 200);
  assert.is(res.headers.get('content-type'), 'application/x-protobuf');
  assert.is(res.headers.get('content-length'), '0', 'full success: an empty message, not chunked');
  const answer = fromBinary(ExportMetricsServiceResponseSchema, new Uint8Array(await res.arrayBuffer()));
  assert.is(answer.partialSuccess, undefined);
  const [rg, rh, rj] = await Promise.all([g.waitFor(ofSignal('metrics')), h.waitFor(ofSignal('metrics')), j.waitFor(ofSignal('metrics'))]);
  assert.is(rg.protocol, 'grpc');
  assert.ok(eq(rg.bytes, body), 'gRPC upstream: byte-identical');
  assert.is(rh.protocol, 'http/protobuf');
  assert.ok(eq(rh.bytes, body), 'HTTP upstream: byte-identical');
  assert.is(rj.protocol, 'http/json');
  assert.equal(rj.message, request);
  const ways = Object.fromEntries(gw.seen.forwarded.map((f) => [f.upstream, f.body]));
  assert.equal(ways, { g: 'as_received', h: 'as_received', j: 'reencoded' });
  const event = gw.seen.requests[0]!;
  assert.is(event.items, 6);
  assert.equal(event.serviceNames, ['svc-a', 'svc-b']);
  assert.equal(event.upstreams, ['g', 'h', 'j']);
  assert.is(event.protocol, 'http/protobuf');
});

test('HTTP JSON in: protobuf upstreams get one protobuf encoding, the JSON upstream the received JSON', async () => {
  const request = logsRequest(['svc-a']);
  const body = json.logs(request);
  const res = await post(`${gw.httpUrl}/v1/logs`, body, JSON_TYPE);
  assert.is(res.status, 200);
  assert.is(res.headers.get('content-type'), 'application/json');
  assert.is(res.headers.get('content-length'), '2');
  assert.equal(await res.json(), {});
  const [rg, rh, rj] = await Promise.all([g.waitFor(ofSignal('logs')), h.waitFor(ofSignal('logs')), j.waitFor(ofSignal('logs'))]);
  assert.ok(eq(rg.bytes, bin.logs(request)));
  assert.ok(eq(rh.bytes, bin.logs(request)));
  assert.ok(eq(rj.bytes, body), 'JSON upstream: the received JSON');
  assert.equal(rg.message, request);
  const ways = Object.fromEntries(gw.seen.forwarded.map((f) => [f.upstream, f.body]));
  assert.equal(ways, { g: 'reencoded', h: 'reencoded', j: 'as_received' });
});

test('HTTP gzip in: upstreams get the inflated bytes', async () => {
  const body = bin.traces(tracesRequest(['svc-z']));
  const res = await post(`${gw.httpUrl}/v1/traces`, gzipSync(body), { ...PROTOBUF, 'content-encoding': 'gzip' });
  assert.is(res.status, 200);
  const [rg, rh] = await Promise.all([g.waitFor(ofSignal('traces')), h.waitFor(ofSignal('traces'))]);
  assert.ok(eq(rg.bytes, body));
  assert.ok(eq(rh.bytes, body));
  assert.ok(gw.seen.requests[0]!.wireBytes < body.length + 40);
  assert.is(gw.seen.requests[0]!.bytes, body.length);
});

for (const signal of ['metrics', 'logs', 'traces'] as const) {
  test(`gRPC in (${signal}, gzip): byte-identical at the protobuf upstreams`, async () => {
    const body =
      signal === 'metrics'
        ? bin.metrics(metricsRequest(['a', 'b'], 2))
        : signal === 'logs'
          ? bin.logs(logsRequest(['a', 'b']))
          : bin.traces(tracesRequest(['a', 'b']));
    const result = await grpcExport(gw.grpcUrl, signal, body, {}, true);
    assert.equal(result, { kind: 'ok' });
    const [rg, rh, rj] = await Promise.all([g.waitFor(ofSignal(signal)), h.waitFor(ofSignal(signal)), j.waitFor(ofSignal(signal))]);
    assert.ok(eq(rg.bytes, body));
    assert.ok(eq(rh.bytes, body));
    assert.is(rj.protocol, 'http/json');
    assert.is(gw.seen.requests[0]!.protocol, 'grpc');
    assert.is(gw.seen.requests[0]!.signal, signal);
  });
}

test('an empty request is accepted and forwarded nowhere', async () => {
  const res = await post(`${gw.httpUrl}/v1/metrics`, new Uint8Array(0), PROTOBUF);
  assert.is(res.status, 200);
  assert.is(gw.seen.requests.length, 1);
  assert.equal(gw.seen.requests[0]!.upstreams, []);
  assert.is(gw.seen.requests[0]!.items, 0);
});

const routed = suite('gateway/forward: routes');
let rg: Receiver;
let rh: Receiver;
let rj: Receiver;
let rgw: TestGateway;

routed.before(async () => {
  [rg, rh, rj] = await Promise.all([startReceiver({ http: false }), startReceiver({ grpc: false }), startReceiver({ grpc: false })]);
  rgw = await startTestGateway({
    upstreams: {
      checkout: { endpoint: grpcEndpoint(rg.grpcUrl) },
      logs: { endpoint: rh.httpUrl },
      cart: { endpoint: `${rj.httpUrl}?encoding=json` },
    },
    routes: [
      { name: 'checkout', match: { 'service.name': 'checkout-*' }, upstreams: ['checkout'] },
      { name: 'all-logs', signals: ['logs'], upstreams: ['logs'] },
      { name: 'cart', match: { 'service.name': 'cart', 'deployment.environment': 'prod' }, upstreams: ['cart'] },
    ],
  });
});

routed.after(async () => {
  await rgw.close();
  await Promise.all([rg.close(), rh.close(), rj.close()]);
});

routed.before.each(() => {
  for (const rx of [rg, rh, rj]) rx.clear();
});

routed('each upstream gets only the resource entries its routes match, spliced without decoding', async () => {
  const request = metricsRequest(['checkout-eu', 'cart', 'checkout-us'], 2, { 'deployment.environment': 'prod' });
  const res = await post(`${rgw.httpUrl}/v1/metrics`, bin.metrics(request), PROTOBUF);
  assert.is(res.status, 200);
  assert.is(fromBinary(ExportMetricsServiceResponseSchema, new Uint8Array(await res.arrayBuffer())).partialSuccess, undefined);
  const got = await rg.waitFor(ofSignal('metrics'));
  const subset = metricsRequest(['checkout-eu', 'checkout-us'], 2, { 'deployment.environment': 'prod' });
  assert.ok(eq(got.bytes, bin.metrics(subset)), 'spliced bytes equal the subset encoded');
  const cart = await rj.waitFor(ofSignal('metrics'));
  assert.equal(cart.message, metricsRequest(['cart'], 2, { 'deployment.environment': 'prod' }));
  await new Promise((r) => setTimeout(r, 50));
  assert.is(rh.requests.length, 0, 'the logs-only route took no metrics');
});

routed('items that no route matches are dropped and reported as partial success', async () => {
  const request = metricsRequest(['checkout-eu', 'unknown'], 3);
  const res = await post(`${rgw.httpUrl}/v1/metrics`, json.metrics(request), JSON_TYPE);
  assert.is(res.status, 200);
  const answer = decodeJson(ExportMetricsServiceResponseSchema, new Uint8Array(await res.arrayBuffer()));
  assert.is(answer.partialSuccess?.rejectedDataPoints, 3n);
  assert.match(answer.partialSuccess?.errorMessage ?? '', /3 items matched no route/);
  // The operator sees the drop too: the observer's event carries it (counted as no_route).
  assert.is(rgw.seen.requests.at(-1)?.unrouted, 3);
  const got = await rg.waitFor(ofSignal('metrics'));
  assert.equal(got.message, metricsRequest(['checkout-eu'], 3));
  // cart needs deployment.environment=prod too: an attribute that is missing never matches.
  const res2 = await post(`${rgw.httpUrl}/v1/metrics`, bin.metrics(metricsRequest(['cart'])), PROTOBUF);
  const answer2 = fromBinary(ExportMetricsServiceResponseSchema, new Uint8Array(await res2.arrayBuffer()));
  assert.is(answer2.partialSuccess?.rejectedDataPoints, 1n);
});

routed('gRPC partial success for unrouted items', async () => {
  const result = await grpcExport(rgw.grpcUrl, 'metrics', bin.metrics(metricsRequest(['nobody'], 4)));
  assert.is(result.kind, 'partial');
  if (result.kind === 'partial') assert.is(result.rejected, 4);
});

routed('a route by signal sends every resource of that signal', async () => {
  const request = logsRequest(['x', 'checkout-1']);
  const res = await post(`${rgw.httpUrl}/v1/logs`, bin.logs(request), PROTOBUF);
  assert.is(res.status, 200);
  const logs = await rh.waitFor(ofSignal('logs'));
  assert.ok(eq(logs.bytes, bin.logs(request)));
  const checkout = await rg.waitFor(ofSignal('logs'));
  assert.equal(checkout.message.resourceLogs.length, 1);
  assert.equal(fromBinary(ExportLogsServiceRequestSchema, checkout.bytes), logsRequest(['checkout-1']));
});

const isolation = suite('gateway/forward: isolation');

isolation('a stalled upstream does not delay the client or the other upstream', async () => {
  const stalled = await startReceiver({ http: false, respond: () => ({ kind: 'stall' }) });
  const healthy = await startReceiver({ grpc: false });
  const t = await startTestGateway({
    upstreams: {
      stalled: { endpoint: grpcEndpoint(stalled.grpcUrl), maxConcurrency: 1, timeout: '5s' },
      healthy: { endpoint: healthy.httpUrl },
    },
  });
  try {
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const res = await post(`${t.httpUrl}/v1/metrics`, bin.metrics(metricsRequest([`s${i}`])), PROTOBUF);
      assert.is(res.status, 200);
      assert.ok(performance.now() - started < 1000, 'answered without waiting for the stalled upstream');
    }
    await eventually(() => healthy.requests.length === 5, 3000, 'the healthy upstream to get all 5');
    // Sorted: with 4 deliveries in flight (the default) arrival order across connections is not guaranteed.
    assert.equal(
      healthy.requests
        .filter(ofSignal('metrics'))
        .map((r) => String(r.message.resourceMetrics[0]?.resource?.attributes[0]?.value?.value.value))
        .sort(),
      ['s0', 's1', 's2', 's3', 's4'],
    );
    const stats = t.gw.upstreams.find((u) => u.name === 'stalled')!.stats();
    assert.is(stats.inFlightRequests, 1);
    assert.is(stats.queueRequests, 4);
  } finally {
    await t.close();
    await Promise.all([stalled.close(), healthy.close()]);
  }
});

isolation('a dead upstream (connection refused) leaves the other receiving', async () => {
  const dead = await startReceiver({ http: false });
  const deadUrl = dead.grpcUrl;
  await dead.close();
  const healthy = await startReceiver({ http: false });
  const t = await startTestGateway({
    upstreams: {
      dead: { endpoint: grpcEndpoint(deadUrl), retry: { initialBackoff: '50ms', maxElapsed: '200ms' } },
      healthy: { endpoint: grpcEndpoint(healthy.grpcUrl) },
    },
  });
  try {
    const body = bin.metrics(metricsRequest(['a']));
    const result = await grpcExport(t.grpcUrl, 'metrics', body);
    assert.equal(result, { kind: 'ok' });
    const got = await healthy.waitFor(ofSignal('metrics'));
    assert.ok(eq(got.bytes, body));
    const deadStats = t.gw.upstreams.find((u) => u.name === 'dead')!;
    await eventually(() => deadStats.stats().itemsFailed === 1, 3000, 'the dead upstream to give up');
    assert.is(deadStats.stats().requestsFailed >= 1, true);
  } finally {
    await t.close();
    await healthy.close();
  }
});

isolation('the same request is decoded identically by every kind of upstream (JSON ↔ protobuf)', async () => {
  const a = await startReceiver({ grpc: false });
  const b = await startReceiver({ grpc: false });
  const t = await startTestGateway({ upstreams: { pb: { endpoint: a.httpUrl }, js: { endpoint: `${b.httpUrl}?encoding=json` } } });
  try {
    const request = metricsRequest(['m1', 'm2'], 5, { 'host.name': 'h' });
    await post(`${t.httpUrl}/v1/metrics`, json.metrics(request), JSON_TYPE);
    const [pa, pb] = await Promise.all([a.waitFor(ofSignal('metrics')), b.waitFor(ofSignal('metrics'))]);
    assert.equal(pa.message, request);
    assert.equal(pb.message, request);
    assert.equal(fromBinary(ExportMetricsServiceRequestSchema, pa.bytes), request);
  } finally {
    await t.close();
    await Promise.all([a.close(), b.close()]);
  }
});

test('a backlog for a protobuf upstream goes out merged (entries concatenated, in order); JSON and batch-off upstreams get each request', async () => {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const slow = await startReceiver({
    grpc: false,
    respond: (_r, index) => (index === 0 ? gate.then(() => ({ kind: 'ok' as const })) : { kind: 'ok' }),
  });
  const slowJson = await startReceiver({
    grpc: false,
    respond: (_r, index) => (index === 0 ? gate.then(() => ({ kind: 'ok' as const })) : { kind: 'ok' }),
  });
  const slowOff = await startReceiver({
    grpc: false,
    respond: (_r, index) => (index === 0 ? gate.then(() => ({ kind: 'ok' as const })) : { kind: 'ok' }),
  });
  const own = await startTestGateway({
    upstreams: {
      p: { endpoint: slow.httpUrl, maxConcurrency: 1 },
      j: { endpoint: `${slowJson.httpUrl}?encoding=json`, maxConcurrency: 1 },
      off: { endpoint: slowOff.httpUrl, maxConcurrency: 1, batch: { maxBytes: 0 } },
    },
  });
  try {
    const bodies = ['s0', 's1', 's2', 's3'].map((name) => bin.metrics(metricsRequest([name], 2)));
    for (const body of bodies) {
      const res = await post(`${own.httpUrl}/v1/metrics`, body, PROTOBUF);
      assert.is(res.status, 200, 'acknowledged once queued');
      await res.arrayBuffer();
    }
    open();
    await eventually(
      () => slow.requests.length === 2 && slowJson.requests.length === 4 && slowOff.requests.length === 4,
      3000,
      'the backlog upstream',
    );
    assert.ok(
      slowOff.requests.every((r, i) => eq(r.bytes, bodies[i]!)),
      'batch.maxBytes 0: one request each, as received',
    );
    assert.ok(eq(slow.requests[0]!.bytes, bodies[0]!), 'the first went alone, as received');
    assert.ok(eq(slow.requests[1]!.bytes, Buffer.concat(bodies.slice(1))), 'the three queued behind it went as one request');
    const merged = slow.requests[1]!.message as { resourceMetrics: { resource?: { attributes: { value?: { value: { value: unknown } } }[] } }[] };
    assert.equal(
      merged.resourceMetrics.map((r) => r.resource?.attributes[0]?.value?.value.value),
      ['s1', 's2', 's3'],
    );
    const stats = own.gw.upstreams.find((u) => u.name === 'p')!.stats();
    assert.is(stats.itemsSent, 8);
    assert.is(stats.requestsSent, 2);
  } finally {
    open();
    await own.close();
    await Promise.all([slow.close(), slowJson.close(), slowOff.close()]);
  }
});

test.run();
routed.run();
isolation.run();
