/**
 * Runtime metrics benchmark: what `registerRuntimeMetrics` costs, next to prom-client's
 * `collectDefaultMetrics` (the incumbent for "my service's own health").
 *
 * - "CPU per collection": process CPU time of one collection (µs), with the runtime metrics
 *   on and off, over an application's own metrics (20 counters + 5 histograms × 5 series).
 *   ours = `consumer.collect()` (protobuf bytes), every collection sampling anew
 *   (`roundMillis: 0`); prom-client = `registry.metrics()` (text exposition) with and without
 *   the default metrics. The figure that matters is the difference on − off of each.
 * - "idle CPU": process CPU per second of an idle process (µs/s): the background cost of
 *   the event-loop delay timer (ours 20 ms, prom-client 10 ms) and the GC observer.
 * - "hot counter.add": ns per `counter.add(1, attrs)` on an existing series with the
 *   runtime metrics on and off: they must not touch the hot path.
 *
 * Run: `node --import tsx/esm bench/runtime.bench.ts [--rounds N --time MS --warmup MS]`.
 */
import client from 'prom-client';
import { createMeterProvider, type MetricConsumer } from '../src/metrics/meter-provider.js';
import { registerRuntimeMetrics } from '../src/metrics/runtime/runtime-metrics.js';
import { median, runBench, type Op } from './lib/harness.js';

const COUNTERS = 20;
const HISTOGRAMS = 5;
const SERIES = 5;
const ROUTES = Array.from({ length: SERIES }, (_, i) => Object.freeze({ route: `/api/r${i}` }));

/** Our provider with the application's metrics recorded once, and a cumulative consumer. */
function oursApp(runtime: boolean): MetricConsumer {
  const provider = createMeterProvider({ resource: { 'service.name': 'bench' } });
  const consumer = provider.registerConsumer({ temporality: 'cumulative' });
  const meter = provider.getMeter('app');
  for (let c = 0; c < COUNTERS; c++) {
    const counter = meter.createCounter(`app.requests.${c}`, { unit: '{request}' });
    for (const r of ROUTES) counter.add(c + 1, r);
  }
  for (let h = 0; h < HISTOGRAMS; h++) {
    const histogram = meter.createHistogram(`app.duration.${h}`, { unit: 's' });
    for (const r of ROUTES) histogram.record(0.05 * (h + 1), r);
  }
  if (runtime) registerRuntimeMetrics(provider, { roundMillis: 0 });
  return consumer;
}

/** The same application metrics in a prom-client registry. */
function promApp(defaults: boolean): client.Registry {
  const registry = new client.Registry();
  for (let c = 0; c < COUNTERS; c++) {
    const counter = new client.Counter({ name: `app_requests_${c}`, help: 'requests', labelNames: ['route'], registers: [registry] });
    for (const r of ROUTES) counter.inc(r, c + 1);
  }
  for (let h = 0; h < HISTOGRAMS; h++) {
    const histogram = new client.Histogram({ name: `app_duration_${h}`, help: 'duration', labelNames: ['route'], registers: [registry] });
    for (const r of ROUTES) histogram.observe(r, 0.05 * (h + 1));
  }
  if (defaults) client.collectDefaultMetrics({ register: registry });
  return registry;
}

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/**
 * Median CPU µs of one `collect()`: 30 warm-up collections, then 15 batches of 20,
 * a few ms apart so that timers (the delay histogram) run between them as in production.
 */
async function cpuPerCollection(collect: () => Promise<unknown>): Promise<number> {
  const pause = () => new Promise((resolve) => setTimeout(resolve, 2));
  for (let i = 0; i < 30; i++) await collect();
  const perBatch: number[] = [];
  for (let b = 0; b < 15; b++) {
    await pause();
    const t0 = cpuMicros();
    for (let i = 0; i < 20; i++) await collect();
    perBatch.push((cpuMicros() - t0) / 20);
  }
  return median(perBatch);
}

/** CPU µs per second of an idle process over `ms` of wall time, after a 200 ms settle. */
async function idleCpu(ms: number): Promise<number> {
  const sleep = (t: number) => new Promise((resolve) => setTimeout(resolve, t));
  await sleep(200);
  const t0 = cpuMicros();
  const w0 = performance.now();
  await sleep(ms);
  return (cpuMicros() - t0) / ((performance.now() - w0) / 1000);
}

function hotAdd(runtime: boolean): Op {
  const provider = createMeterProvider();
  provider.registerConsumer();
  if (runtime) registerRuntimeMetrics(provider);
  const counter = provider.getMeter('app').createCounter('app.requests');
  const attrs = Object.freeze({ 'http.route': '/api/items/:id', 'http.request.method': 'GET' });
  counter.add(1, attrs); // the series exists: the timed calls take the hot path
  return () => {
    for (let i = 0; i < 1000; i++) counter.add(1, attrs);
    return 1000;
  };
}

const results = await runBench(import.meta.url, {
  title: 'Runtime metrics',
  ours: 'on',
  cases: [
    {
      kind: 'value',
      name: 'CPU per collection',
      unit: 'µs',
      impls: {
        on: async () => {
          const c = oursApp(true);
          return cpuPerCollection(() => c.collect());
        },
        off: async () => {
          const c = oursApp(false);
          return cpuPerCollection(() => c.collect());
        },
        'prom-client on': async () => {
          const r = promApp(true);
          return cpuPerCollection(() => r.metrics());
        },
        'prom-client off': async () => {
          const r = promApp(false);
          return cpuPerCollection(() => r.metrics());
        },
      },
    },
    {
      kind: 'value',
      name: 'idle CPU',
      unit: 'µs/s',
      impls: {
        on: async () => {
          oursApp(true);
          return idleCpu(2000);
        },
        off: async () => {
          oursApp(false);
          return idleCpu(2000);
        },
        'prom-client on': async () => {
          promApp(true);
          return idleCpu(2000);
        },
        'prom-client off': async () => {
          promApp(false);
          return idleCpu(2000);
        },
      },
    },
    {
      name: 'hot counter.add(1, attrs)',
      opsPerCall: 1000,
      impls: {
        on: () => hotAdd(true),
        off: () => hotAdd(false),
      },
    },
  ],
});

if (results !== undefined) {
  const med = (caseName: string, impl: string): number => {
    const r = results.find((c) => c.name === caseName)?.results.find((i) => i.impl === impl);
    return r === undefined || r.perProcess.length === 0 ? Number.NaN : median(r.perProcess);
  };
  const extra = (caseName: string, on: string, off: string) => (med(caseName, on) - med(caseName, off)).toFixed(1);
  process.stdout.write(
    `\nExtra CPU per collection (on − off, medians): ours ${extra('CPU per collection', 'on', 'off')} µs, ` +
      `prom-client ${extra('CPU per collection', 'prom-client on', 'prom-client off')} µs.\n` +
      `Extra idle CPU: ours ${extra('idle CPU', 'on', 'off')} µs/s, prom-client ${extra('idle CPU', 'prom-client on', 'prom-client off')} µs/s.\n`,
  );
}
