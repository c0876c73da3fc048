/**
 * Against a real Prometheus (Debian's 2.42, started on loopback per suite; test/support/prometheus.ts):
 * - it scrapes the library's pull endpoint: PromQL answers exactly what was recorded (counter totals,
 *   gauge values, histogram_quantile over our buckets, target_info labels);
 * - it scrapes the gateway's scrape upstream: job/instance per source, delta sums accumulated;
 * - the gateway remote-writes what the official OpenTelemetry JS exporter sent it, external labels
 *   added, and keeps every sample across a Prometheus restart mid-stream (the queue retries; no sample
 *   lost, none refused as out of order).
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ExportMetricsServiceRequestSchema,
  type ExportMetricsServiceRequest,
} from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { AggregationTemporality } from '../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import { createTelemetry } from '../../src/telemetry.js';
import { post, PROTOBUF, startTestGateway } from '../gateway/harness.js';
import { freePort } from '../support/free-port.js';
import { prometheusAvailable, type RunningPrometheus, type Sample, startPrometheus } from '../support/prometheus.js';
import { metricsProto, resources, sdkMetrics } from './official.js';

const test = suite('interop: a real Prometheus');
const available = prometheusAvailable('interop: a real Prometheus');

const only = (samples: Sample[]): Sample => {
  assert.is(samples.length, 1, JSON.stringify(samples));
  return samples[0]!;
};
const is = (want: number) => (s: Sample[]) => s.length === 1 && Math.abs(s[0]!.value - want) < 1e-9;

test('scrapes the library endpoint: counters, gauges, histogram_quantile, target_info', async () => {
  if (!available) return;
  const port = await freePort();
  const telemetry = createTelemetry({
    env: {},
    serviceName: 'shop',
    resource: { 'deployment.environment.name': 'test' },
    backends: [{ name: 'prom', kind: 'prometheus', host: '127.0.0.1', port }],
    selfMetrics: false,
  });
  let prom: RunningPrometheus | undefined;
  try {
    const meter = telemetry.meterProvider.getMeter('shop', '2.0.0');
    const orders = meter.createCounter('orders', { unit: '{order}' });
    orders.add(3, { country: 'DE' });
    orders.add(4, { country: 'FR' });
    orders.add(2, { country: 'DE' });
    meter.createGauge('queue.depth').record(17.5);
    const latency = meter.createHistogram('latency', { unit: 's', advice: { explicitBucketBoundaries: [0.1, 0.5, 1] } });
    for (const v of [0.05, 0.2, 0.3, 0.7]) latency.record(v);
    prom = await startPrometheus({ scrape: [{ job: 'app', target: `127.0.0.1:${port}` }] });
    const p = prom;
    assert.is(only(await p.waitFor('orders_total{job="app",country="DE"}', is(5))).metric['otel_scope_name'], 'shop');
    await p.waitFor('orders_total{job="app",country="FR"}', is(4));
    await p.waitFor('sum(orders_total{job="app"})', is(9));
    await p.waitFor('queue_depth{job="app"}', is(17.5));
    // Ranks 2 of 4 fall in (0.1, 0.5] with 1 below and 2 inside: 0.1 + 0.4 × (2 − 1) / 2 = 0.3.
    await p.waitFor('histogram_quantile(0.5, sum by (le) (latency_seconds_bucket{job="app"}))', is(0.3));
    await p.waitFor('latency_seconds_count{job="app"}', is(4));
    await p.waitFor('latency_seconds_sum{job="app"}', (s) => s.length === 1 && Math.abs(s[0]!.value - 1.25) < 1e-9);
    const info = only(await p.waitFor('target_info{job="app"}', (s) => s.length === 1));
    assert.is(info.metric['service_name'], 'shop');
    assert.is(info.metric['deployment_environment_name'], 'test');
    assert.is(info.metric['telemetry_sdk_name'], 'otlp-fanout');
    // The running total goes on: a later scrape shows what was added since.
    orders.add(10, { country: 'FR' });
    await p.waitFor('orders_total{job="app",country="FR"}', is(14));
  } finally {
    await prom?.close();
    await telemetry.shutdown();
  }
});

const str = (value: string) => ({ value: { case: 'stringValue' as const, value } });

function deltaRequest(instance: string, value: number, timeNanos: bigint): ExportMetricsServiceRequest {
  return create(ExportMetricsServiceRequestSchema, {
    resourceMetrics: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: str('api') },
            { key: 'service.namespace', value: str('shop') },
            { key: 'service.instance.id', value: str(instance) },
            { key: 'cloud.region', value: str('eu-1') },
          ],
        },
        scopeMetrics: [
          {
            scope: { name: 'edge' },
            metrics: [
              {
                name: 'http.requests',
                data: {
                  case: 'sum',
                  value: {
                    aggregationTemporality: AggregationTemporality.DELTA,
                    isMonotonic: true,
                    dataPoints: [{ timeUnixNano: timeNanos, value: { case: 'asInt', value: BigInt(value) } }],
                  },
                },
              },
            ],
          },
        ],
      },
    ],
  });
}

test('scrapes the gateway scrape upstream: job/instance per source, deltas accumulated, target_info per source', async () => {
  if (!available) return;
  const port = await freePort();
  const g = await startTestGateway({ upstreams: { node: { kind: 'prometheus', address: `127.0.0.1:${port}`, auth: { bearerToken: 'tok' } } } });
  let prom: RunningPrometheus | undefined;
  try {
    const now = BigInt(Date.now()) * 1_000_000n;
    for (const [instance, value] of [
      ['a1', 3],
      ['a1', 4],
      ['a2', 10],
    ] as const) {
      const res = await post(`${g.httpUrl}/v1/metrics`, toBinary(ExportMetricsServiceRequestSchema, deltaRequest(instance, value, now)), PROTOBUF);
      assert.is(res.status, 200);
    }
    prom = await startPrometheus({ scrape: [{ job: 'gateway', target: `127.0.0.1:${port}`, honorLabels: true, bearerToken: 'tok' }] });
    await prom.waitFor('http_requests_total{job="shop/api",instance="a1"}', is(7));
    await prom.waitFor('http_requests_total{job="shop/api",instance="a2"}', is(10));
    const info = await prom.waitFor('target_info{job="shop/api"}', (s) => s.length === 2);
    assert.equal(info.map((s) => [s.metric['instance'], s.metric['cloud_region']]).sort(), [
      ['a1', 'eu-1'],
      ['a2', 'eu-1'],
    ]);
    // The scrape itself succeeded with the token (up is Prometheus's own view of the target).
    await prom.waitFor('up{job="gateway"}', is(1));
  } finally {
    await prom?.close();
    await g.close();
  }
});

test('remote write: what the official exporter sent the gateway lands, external labels added, across a Prometheus restart', async () => {
  if (!available) return;
  const prom = await startPrometheus();
  const g = await startTestGateway({
    upstreams: {
      prom: {
        endpoint: `prometheus+${prom.writeUrl}`,
        externalLabels: { cluster: 'eu' },
        maxConcurrency: 3,
        retry: { initialBackoff: '100ms', maxBackoff: '500ms', maxElapsed: '60s' },
      },
    },
  });
  const exporter = new metricsProto.OTLPMetricExporter({ url: `${g.httpUrl}/v1/metrics`, timeoutMillis: 5000 });
  const reader = new sdkMetrics.PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new sdkMetrics.MeterProvider({
    resource: resources.resourceFromAttributes({ 'service.name': 'checkout', 'service.instance.id': 'c-1', 'host.name': 'h1' }),
    readers: [reader],
  });
  try {
    const meter = provider.getMeter('checkout');
    const orders = meter.createCounter('orders');
    const temp = meter.createGauge('temperature', { unit: 'Cel' });
    const latency = meter.createHistogram('latency', { unit: 'ms', advice: { explicitBucketBoundaries: [10, 100] } });
    orders.add(5, { shop: 'a' });
    temp.record(21.5);
    latency.record(50);
    latency.record(5);
    await provider.forceFlush();
    const q = 'orders_total{job="checkout",instance="c-1",cluster="eu",shop="a"}';
    await prom.waitFor(q, is(5));
    await prom.waitFor('temperature_celsius{job="checkout",cluster="eu"}', is(21.5));
    await prom.waitFor('latency_milliseconds_count{job="checkout"}', is(2));
    await prom.waitFor('histogram_quantile(1, latency_milliseconds_bucket{job="checkout"})', is(100));
    const info = only(await prom.waitFor('target_info{job="checkout"}', (s) => s.length === 1));
    assert.is(info.metric['host_name'], 'h1');
    assert.is(info.metric['cluster'], 'eu');

    // Prometheus goes away mid-stream: the gateway acknowledges, queues and retries; nothing is lost.
    await prom.stop();
    for (let i = 1; i <= 3; i++) {
      orders.add(i, { shop: 'a' });
      await provider.forceFlush();
    }
    await new Promise((r) => setTimeout(r, 300));
    await prom.restart();
    await prom.waitFor(q, is(11), 30_000);
    // Every sample arrived, in order: the two before, the three queued, none refused.
    await prom.waitFor(`count_over_time(${q}[10m])`, is(4));
    const stats = g.gw.upstreams.find((u) => u.name === 'prom')!.stats();
    assert.is(stats.itemsFailed, 0, JSON.stringify(stats));
    assert.is(stats.itemsDropped, 0, JSON.stringify(stats));
    assert.ok(stats.retries > 0, 'retried while Prometheus was down');
  } finally {
    await provider.shutdown().catch(() => undefined);
    await g.close();
    await prom.close();
  }
});

test('remote write with durable storage: delta sums converted to cumulative, everything delivered through the log across an outage', async () => {
  if (!available) return;
  const dir = mkdtempSync(join(tmpdir(), 'otlp-fanout-rw-storage-'));
  const prom = await startPrometheus();
  const g = await startTestGateway({
    storage: { directory: dir },
    upstreams: { prom: { endpoint: prom.writeUrl, protocol: 'prometheus/remote-write', retry: { initialBackoff: '100ms', maxBackoff: '300ms' } } },
  });
  try {
    const now = BigInt(Date.now()) * 1_000_000n;
    const cumulative = (value: number, t: bigint) =>
      create(ExportMetricsServiceRequestSchema, {
        resourceMetrics: [
          {
            resource: { attributes: [{ key: 'service.name', value: str('disk') }] },
            scopeMetrics: [
              {
                metrics: [
                  {
                    name: 'bytes.written',
                    unit: 'By',
                    data: {
                      case: 'sum',
                      value: {
                        aggregationTemporality: AggregationTemporality.CUMULATIVE,
                        isMonotonic: true,
                        dataPoints: [{ timeUnixNano: t, value: { case: 'asInt', value: BigInt(value) } }],
                      },
                    },
                  },
                ],
              },
            ],
          },
        ],
      });
    const send = async (req: ExportMetricsServiceRequest) =>
      assert.is((await post(`${g.httpUrl}/v1/metrics`, toBinary(ExportMetricsServiceRequestSchema, req), PROTOBUF)).status, 200);
    await send(cumulative(100, now));
    await send(deltaRequest('x', 5, now));
    await send(deltaRequest('x', 3, now + 1_000_000_000n));
    await prom.waitFor('bytes_written_bytes_total{job="disk"}', is(100));
    await prom.stop();
    await send(cumulative(150, now + 1_000_000_000n));
    await send(cumulative(180, now + 2_000_000_000n));
    await prom.restart();
    await prom.waitFor('bytes_written_bytes_total{job="disk"}', is(180), 30_000);
    await prom.waitFor('count_over_time(bytes_written_bytes_total{job="disk"}[10m])', is(3));
    // The delta sum was converted to cumulative first (the upstream's default temporality conversion).
    await prom.waitFor('http_requests_total{job="shop/api",instance="x"}', is(8));
    const stats = g.gw.upstreams.find((u) => u.name === 'prom')!.stats();
    assert.is(stats.itemsRejected + stats.itemsFailed + stats.itemsDropped, 0, JSON.stringify(stats));
  } finally {
    await g.close();
    await prom.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
