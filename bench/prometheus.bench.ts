/**
 * Prometheus benchmark (BENCHMARKS.md, Prometheus):
 * - scrape page, 10,000 series: CPU per scrape of our library endpoint's page (a cumulative consumer's
 *   `collect()` bytes rendered by otlp/prometheus/render.ts, text 0.0.4 and OpenMetrics) next to
 *   prom-client's `registry.metrics()` on the same series (5,000 counter and 5,000 gauge series);
 * - remote write, 1,000 samples: what the transport does per request, before the network (translate the
 *   OTLP bytes, encode the WriteRequest, snappy);
 * - snappy: our encoder next to snappyjs on that WriteRequest (time and size).
 * Run: `npm run bench:prometheus` (`-- --rounds 3 --time 1000` for a quick look).
 */
import client from 'prom-client';
import SnappyJS from 'snappyjs';
import { createMeterProvider } from '../src/metrics/meter-provider.js';
import { renderPrometheusBytes } from '../src/otlp/prometheus/render.js';
import { buildSeries, encodeWriteRequest } from '../src/otlp/prometheus/write-request.js';
import { snappyCompress } from '../src/transport/prometheus/snappy.js';
import { median, runBench } from './lib/harness.js';

const INSTRUMENTS = 10;
const ROUTES = Array.from({ length: 500 }, (_, i) => Object.freeze({ route: `/api/v1/items/${i}` }));

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Median CPU µs of one `op()`: 10 warm-up calls, then 15 batches of 5. */
async function cpuPer(op: () => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < 10; i++) await op();
  const perBatch: number[] = [];
  for (let b = 0; b < 15; b++) {
    const t0 = cpuMicros();
    for (let i = 0; i < 5; i++) await op();
    perBatch.push((cpuMicros() - t0) / 5);
  }
  return median(perBatch);
}

/** Our provider with 10,000 series recorded, and a cumulative consumer. */
function oursConsumer() {
  const provider = createMeterProvider({ resource: { 'service.name': 'bench' }, cardinalityLimit: 1000 });
  const consumer = provider.registerConsumer({ temporality: 'cumulative' });
  const meter = provider.getMeter('app');
  for (let i = 0; i < INSTRUMENTS; i++) {
    const counter = meter.createCounter(`app.requests.${i}`);
    const gauge = meter.createGauge(`app.inflight.${i}`);
    for (const [k, r] of ROUTES.entries()) {
      counter.add(k + 1, r);
      gauge.record(k, r);
    }
  }
  return consumer;
}

function promRegistry(): client.Registry {
  const registry = new client.Registry();
  for (let i = 0; i < INSTRUMENTS; i++) {
    const counter = new client.Counter({ name: `app_requests_${i}_total`, help: 'requests', labelNames: ['route'], registers: [registry] });
    const gauge = new client.Gauge({ name: `app_inflight_${i}`, help: 'in flight', labelNames: ['route'], registers: [registry] });
    for (const [k, r] of ROUTES.entries()) {
      counter.inc(r, k + 1);
      gauge.set(r, k);
    }
  }
  return registry;
}

/** An OTLP request of 1,000 cumulative counter points (10 metrics × 100 series), as the gateway receives it. */
async function remoteWriteInput(): Promise<Uint8Array> {
  const provider = createMeterProvider({ resource: { 'service.name': 'bench', 'service.instance.id': 'i-1', 'host.name': 'h' } });
  const consumer = provider.registerConsumer({ temporality: 'cumulative' });
  const meter = provider.getMeter('app');
  for (let i = 0; i < 10; i++) {
    const counter = meter.createCounter(`app.requests.${i}`);
    for (const r of ROUTES.slice(0, 100)) counter.add(1, r);
  }
  const [body] = await consumer.collect();
  return body!;
}

async function writeRequestBytes(): Promise<Uint8Array> {
  const body = await remoteWriteInput();
  return encodeWriteRequest(buildSeries([body]).series);
}

await runBench(import.meta.url, {
  title: 'Prometheus',
  cases: [
    {
      kind: 'value',
      name: 'scrape page, 10,000 series: CPU µs per scrape (text 0.0.4)',
      unit: 'µs',
      impls: {
        ours: async () => {
          const consumer = oursConsumer();
          return cpuPer(async () => renderPrometheusBytes(await consumer.collect()).byteLength);
        },
        'prom-client': async () => {
          const registry = promRegistry();
          return cpuPer(async () => (await registry.metrics()).length);
        },
      },
    },
    {
      kind: 'value',
      name: 'scrape page, 10,000 series: CPU µs per scrape (OpenMetrics)',
      unit: 'µs',
      impls: {
        ours: async () => {
          const consumer = oursConsumer();
          return cpuPer(async () => renderPrometheusBytes(await consumer.collect(), { format: 'openmetrics' }).byteLength);
        },
        'prom-client': async () => {
          const registry = promRegistry();
          registry.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE as typeof client.Registry.PROMETHEUS_CONTENT_TYPE);
          return cpuPer(async () => (await registry.metrics()).length);
        },
      },
    },
    {
      name: 'remote write, 1,000 samples: translate the OTLP bytes + WriteRequest + snappy',
      itemsPerOp: 1000,
      itemUnit: 'samples',
      impls: {
        ours: async () => {
          const body = await remoteWriteInput();
          return () => snappyCompress(encodeWriteRequest(buildSeries([body]).series)).length;
        },
      },
    },
    {
      name: 'snappy compress, WriteRequest of 1,000 series',
      impls: {
        ours: async () => {
          const bytes = await writeRequestBytes();
          return () => snappyCompress(bytes).length;
        },
        snappyjs: async () => {
          const bytes = await writeRequestBytes();
          return () => SnappyJS.compress(bytes).length;
        },
      },
    },
    {
      kind: 'value',
      name: 'snappy compressed size, WriteRequest of 1,000 series',
      unit: 'bytes',
      impls: {
        ours: async () => snappyCompress(await writeRequestBytes()).length,
        snappyjs: async () => SnappyJS.compress(await writeRequestBytes()).length,
      },
    },
  ],
});
