/**
 * Backpressure that never starves a healthy upstream and never acknowledges what it must drop:
 * dead upstreams' queues do not count toward `limits.maxQueuedBytes`, whatever their number; a
 * request that cannot fit an upstream's whole queue is refused (413 / RESOURCE_EXHAUSTED), not
 * acknowledged and dropped; and the config refuses a queue smaller than the request limit.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadGatewayConfig } from '../../../src/gateway/config/load.js';
import { GatewayConfigError } from '../../../src/gateway/config/config-error.js';
import { startReceiver } from '../../support/receiver.js';
import { bin, eventually, JSON_TYPE, json, metricsRequest, post, PROTOBUF, startTestGateway } from '../harness.js';

const test = suite('gateway/forward: honest backpressure');

test('five dead upstreams with full queues never make clients back off for the healthy one', async () => {
  const dead = await Promise.all(
    Array.from({ length: 5 }, () => startReceiver({ grpc: false, respond: () => ({ kind: 'error', httpStatus: 503, message: 'down' }) })),
  );
  const healthy = await startReceiver({ grpc: false });
  const upstreams: Record<string, unknown> = { healthy: { endpoint: healthy.httpUrl } };
  dead.forEach((d, i) => {
    upstreams[`dead${i}`] = {
      endpoint: d.httpUrl,
      maxConcurrency: 1,
      queue: { maxBytes: '256KiB' },
      retry: { initialBackoff: '10s', maxElapsed: '1m' },
    };
  });
  // The global limit is far below what the dead queues hold together (5 × up to 256 KiB).
  const gw = await startTestGateway({ upstreams, limits: { maxQueuedBytes: '64KiB', maxRequestBytes: '64KiB' } });
  try {
    const body = bin.metrics(metricsRequest(['a'], 200));
    const first = await post(`${gw.httpUrl}/v1/metrics`, body, PROTOBUF);
    assert.is(first.status, 200);
    await first.arrayBuffer();
    const deadBackends = gw.gw.upstreams.filter((u) => u.name.startsWith('dead')).map((u) => u.backend);
    await eventually(() => deadBackends.every((b) => b.failing), 3000, 'every dead upstream to fail once');
    const n = 40;
    for (let i = 0; i < n; i++) {
      const res = await post(`${gw.httpUrl}/v1/metrics`, body, PROTOBUF);
      assert.is(res.status, 200, `request ${i + 2}: no 429 for the dead upstreams`);
      await res.arrayBuffer();
    }
    const deadQueued = deadBackends.reduce((sum, b) => sum + b.queuedBytes, 0);
    assert.ok(deadQueued > 64 * 1024, `the dead queues hold more than the global limit (${deadQueued} bytes)`);
    const entries = (): number => healthy.requests.reduce((k, r) => k + (r.message as { resourceMetrics: unknown[] }).resourceMetrics.length, 0);
    await eventually(() => entries() === n + 1, 5000, 'everything at the healthy upstream');
    assert.equal(gw.seen.refused, []);
  } finally {
    await gw.close();
    await Promise.all([...dead.map((d) => d.close()), healthy.close()]);
  }
});

test('a request larger than an upstream’s whole queue is refused as too_large, not acknowledged and dropped', async () => {
  const up = await startReceiver({ grpc: false });
  // A JSON upstream: the received protobuf fits the request limit and the queue, its JSON does not.
  const gw = await startTestGateway({
    upstreams: { j: { endpoint: `${up.httpUrl}?encoding=json`, queue: { maxBytes: '16KiB' } } },
    limits: { maxRequestBytes: '16KiB' },
  });
  try {
    const body = bin.metrics(metricsRequest(['svc'], 600));
    assert.ok(body.length < 16 * 1024 && json.metrics(metricsRequest(['svc'], 600)).length > 16 * 1024, 'the test request straddles the limit');
    const res = await post(`${gw.httpUrl}/v1/metrics`, body, PROTOBUF);
    assert.is(res.status, 413);
    await res.arrayBuffer();
    assert.equal(
      gw.seen.refused.map((r) => r.reason),
      ['too_large'],
    );
    assert.match(gw.seen.refused[0]!.message, 'larger than its whole queue (queue.maxBytes 16384)');
    assert.is(gw.gw.upstreams[0]!.backend.stats().itemsDropped, 0, 'nothing acknowledged and dropped');
    // A request that fits is still taken.
    const small = await post(`${gw.httpUrl}/v1/metrics`, json.metrics(metricsRequest(['svc'], 2)), JSON_TYPE);
    assert.is(small.status, 200);
    await small.arrayBuffer();
    await eventually(() => up.requests.length === 1, 3000, 'the small request delivered');
  } finally {
    await gw.close();
    await up.close();
  }
});

test('the config refuses a queue smaller than the request limit, naming the key', () => {
  const rows: [Record<string, unknown>, string[], string, RegExp][] = [
    [
      { upstreams: { a: { endpoint: 'http://127.0.0.1:9', queue: { maxBytes: '1MiB' } } } },
      [],
      'upstreams.a.queue.maxBytes',
      /1048576 is below limits.maxRequestBytes \(67108864\)/,
    ],
    [
      {
        tenants: { t1: { tokens: ['secret-token-1'], upstreams: { own: { endpoint: 'http://127.0.0.1:9', queue: { maxBytes: '2MiB' } } } } },
        limits: { maxRequestBytes: '4MiB' },
      },
      [],
      'tenants.t1.upstreams.own.queue.maxBytes',
      /below limits.maxRequestBytes/,
    ],
    [{ limits: { maxRequestBytes: '128MiB' } }, ['http://127.0.0.1:9'], 'limits.maxRequestBytes', /above the queue of --forward upstream/],
  ];
  for (const [document, forward, path, message] of rows) {
    try {
      loadGatewayConfig({ document, flags: { forward } });
      assert.unreachable(`${path} should be refused`);
    } catch (e) {
      assert.instance(e, GatewayConfigError);
      assert.is((e as GatewayConfigError).path, path);
      assert.match((e as GatewayConfigError).message, message);
    }
  }
  // Equal is enough.
  loadGatewayConfig({
    document: { upstreams: { a: { endpoint: 'http://127.0.0.1:9', queue: { maxBytes: '1MiB' } } }, limits: { maxRequestBytes: '1MiB' } },
  });
});

test.run();
