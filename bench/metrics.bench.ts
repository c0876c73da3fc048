/**
 * Metrics SDK benchmark: ours side by side with @opentelemetry/sdk-metrics 2.12 (one
 * cumulative pull reader registered, so it aggregates) and prom-client 15 (registry-less
 * metrics), in one run of interleaved processes (bench/lib/harness.ts).
 *
 * Hot-path cases loop 1,000 calls per timed call. Attribute objects have 3 keys (two
 * strings, one integer), as typical HTTP server metrics do.
 * - collect + encode: the 11,000-point workload of metrics-workload.ts, cumulative;
 *   ours = `collectSync()` (no callbacks here, so the same as `collect()` minus the
 *   promise), official = `reader.collect()` + `ProtobufMetricsSerializer`. Setup checks
 *   that both decode to the same metrics. Async collections are timed by a CPU-time
 *   loop (median of 15 after 5 warm-ups), so they are value cases.
 * - common attributes (`attributes` of the provider, what createTelemetry's `attributes` and
 *   OTEL_FANOUT_ATTRIBUTES set): the hot path with and without 3 of them, to show they cost
 *   nothing per measurement (they are merged when a series' attributes are first encoded).
 * - retained memory per series: heapUsed (then heapUsed + arrayBuffers) after full GCs
 *   with 100,000 series recorded once and collected once (steady state), minus the same
 *   with only the attribute objects alive; divided by 100,000.
 *
 * Run: `node --import tsx/esm bench/metrics.bench.ts [--rounds N --time MS --filter TEXT]`.
 */
import { ValueType } from '@opentelemetry/api';
import { AggregationType, MeterProvider } from '@opentelemetry/sdk-metrics';
import client from 'prom-client';
import { createMeterProvider } from '../src/metrics/meter-provider.js';
import { runBench, type BenchCase, type Op } from './lib/harness.js';
import { assertSameMetrics, officialWorkload, oursWorkload, PullReader } from './metrics-workload.js';

const LOOP = 1000;
const ROUTES = Array.from({ length: 1000 }, (_, i) => `/api/v1/items/${i}`);
const VALUES = Float64Array.from({ length: 1024 }, (_, i) => ((i * 37) % 997) + 0.25);

type Labels = { [k: string]: string | number };
const ATTRS: Labels = { 'http.request.method': 'GET', 'http.route': '/api/v1/items', 'http.response.status_code': 200 };

function ours(histogram: 'explicit' | 'exponential' = 'explicit', cardinalityLimit?: number, attributes?: Labels) {
  const p = createMeterProvider({
    ...(attributes === undefined ? {} : { attributes }),
    defaultHistogramAggregation: histogram === 'explicit' ? 'explicit_bucket_histogram' : 'base2_exponential_bucket_histogram',
    ...(cardinalityLimit === undefined ? {} : { cardinalityLimit }),
  });
  const consumer = p.registerConsumer();
  const m = p.getMeter('bench');
  return { counter: m.createCounter('c'), histogram: m.createHistogram('h'), consumer };
}

function official(histogram: 'explicit' | 'exponential' = 'explicit', cardinalityLimit?: number) {
  const reader = new PullReader(cardinalityLimit === undefined ? {} : { cardinalitySelector: () => cardinalityLimit });
  const p = new MeterProvider({
    readers: [reader],
    views: histogram === 'exponential' ? [{ instrumentName: 'h', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }] : [],
  });
  const m = p.getMeter('bench');
  return { counter: m.createCounter('c', { valueType: ValueType.DOUBLE }), histogram: m.createHistogram('h'), reader };
}

function prom() {
  const labelNames = ['http.request.method', 'http.route', 'http.response.status_code'].map((n) => n.replace(/\./g, '_'));
  return {
    counter: new client.Counter({ name: 'c', help: 'c', labelNames, registers: [] }),
    histogram: new client.Histogram({ name: 'h', help: 'h', labelNames, registers: [] }),
    counterNoLabels: new client.Counter({ name: 'c0', help: 'c0', registers: [] }),
  };
}
const PROM_ATTRS = { http_request_method: 'GET', http_route: '/api/v1/items', http_response_status_code: 200 };

/** CPU time of this process in ns (user + system), as the harness's timed cases use. */
function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

/**
 * Times an async operation: median CPU milliseconds of `runs` after `warm` warm-ups. CPU
 * time, as in the harness's timed cases, so that other load on the machine counts less.
 */
async function medianMs(op: () => Promise<unknown>, warm = 5, runs = 15): Promise<number> {
  for (let i = 0; i < warm; i++) await op();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = cpuNs();
    await op();
    t.push(cpuNs() - t0);
  }
  t.sort((a, b) => a - b);
  return (t[Math.floor(t.length / 2)] as number) / 1e6;
}

function gcNow(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g === undefined) throw new Error('run with --expose-gc (the harness does)');
  g();
}

const SERIES = 100_000;
function seriesAttrs(): Labels[] {
  return Array.from({ length: SERIES }, (_, i) => ({
    'http.request.method': i % 2 === 0 ? 'GET' : 'POST',
    'http.route': `/api/v1/items/${i}`,
    'http.response.status_code': 200,
  }));
}

/**
 * Bytes per series: (after recording + one collection) − (attribute objects alone).
 * `withBuffers` adds `arrayBuffers` (off-heap typed-array storage: our attribute slab
 * and columns) to `heapUsed`.
 */
async function perSeries(withBuffers: boolean, record: (attrs: Labels[]) => Promise<void> | void): Promise<number> {
  const attrs = seriesAttrs();
  const used = (): number => {
    const m = process.memoryUsage();
    return m.heapUsed + (withBuffers ? m.arrayBuffers : 0);
  };
  await settleGc();
  const before = used();
  await record(attrs);
  await settleGc();
  const after = used();
  if (attrs.length !== SERIES) throw new Error('unreachable: keeps the attributes alive');
  return (after - before) / SERIES;
}

/** Full GCs, with turns of the event loop between them so that freed buffers are released. */
async function settleGc(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    gcNow();
    await new Promise((res) => setImmediate(res));
  }
}

function memoryCase(withBuffers: boolean): BenchCase {
  return {
    kind: 'value',
    name: withBuffers
      ? 'retained heap + array buffers per series, 100,000 counter series (bytes)'
      : 'retained heap (heapUsed) per series, 100,000 counter series (bytes)',
    unit: 'B',
    impls: {
      ours: () =>
        perSeries(withBuffers, (attrs) => {
          const { counter, consumer } = ours('explicit', SERIES + 10);
          for (const a of attrs) counter.add(1, a);
          consumer.collectSync();
          (globalThis as { keep?: unknown }).keep = [counter, consumer];
        }),
      official: () =>
        perSeries(withBuffers, async (attrs) => {
          const { counter, reader } = official('explicit', SERIES + 10);
          for (const a of attrs) counter.add(1, a);
          await reader.collect();
          (globalThis as { keep?: unknown }).keep = [counter, reader];
        }),
      'prom-client': () =>
        perSeries(withBuffers, (attrs) => {
          const { counter } = prom();
          for (const a of attrs) {
            counter.inc(
              { http_request_method: a['http.request.method'] as string, http_route: a['http.route'] as string, http_response_status_code: 200 },
              1,
            );
          }
          (globalThis as { keep?: unknown }).keep = counter;
        }),
    },
  };
}

/** Deployment identity of the kind `attributes` carries. */
const COMMON: Labels = { 'deployment.sandbox': 'sb-42', tenant: 'acme', 'node.id': 'node-7' };

/** The hot path with and without common attributes: they must change nothing there. */
function commonAttributeCases(): BenchCase[] {
  const impls = (op: (counter: ReturnType<typeof ours>['counter']) => Op) => ({
    ours: (): Op => op(ours().counter),
    'ours + 3 common attributes': (): Op => op(ours('explicit', undefined, COMMON).counter),
  });
  return [
    {
      name: 'common attributes: counter.add, reused attributes object',
      opsPerCall: LOOP,
      impls: impls((counter) => () => {
        for (let i = 0; i < LOOP; i++) counter.add(1, ATTRS);
      }),
    },
    {
      name: 'common attributes: bound handle add',
      opsPerCall: LOOP * 10,
      impls: impls((counter) => {
        const bound = counter.bind(ATTRS);
        return () => {
          for (let i = 0; i < LOOP * 10; i++) bound.add(1);
        };
      }),
    },
  ];
}

const cases: BenchCase[] = [
  {
    name: 'counter.add, reused attributes object',
    opsPerCall: LOOP,
    impls: {
      ours: (): Op => {
        const { counter } = ours();
        return () => {
          for (let i = 0; i < LOOP; i++) counter.add(1, ATTRS);
        };
      },
      official: (): Op => {
        const { counter } = official();
        return () => {
          for (let i = 0; i < LOOP; i++) counter.add(1, ATTRS);
        };
      },
      'prom-client': (): Op => {
        const { counter } = prom();
        return () => {
          for (let i = 0; i < LOOP; i++) counter.inc(PROM_ATTRS, 1);
        };
      },
    },
  },
  {
    name: 'counter.add, fresh equal literal each call',
    opsPerCall: LOOP,
    impls: {
      ours: (): Op => {
        const { counter } = ours();
        return () => {
          for (let i = 0; i < LOOP; i++)
            counter.add(1, { 'http.request.method': 'GET', 'http.route': '/api/v1/items', 'http.response.status_code': 200 });
        };
      },
      official: (): Op => {
        const { counter } = official();
        return () => {
          for (let i = 0; i < LOOP; i++)
            counter.add(1, { 'http.request.method': 'GET', 'http.route': '/api/v1/items', 'http.response.status_code': 200 });
        };
      },
      'prom-client': (): Op => {
        const { counter } = prom();
        return () => {
          for (let i = 0; i < LOOP; i++) counter.inc({ http_request_method: 'GET', http_route: '/api/v1/items', http_response_status_code: 200 }, 1);
        };
      },
    },
  },
  {
    name: 'bound handle add (prom-client: labels() child)',
    opsPerCall: LOOP * 10,
    impls: {
      ours: (): Op => {
        const bound = ours().counter.bind(ATTRS);
        return () => {
          for (let i = 0; i < LOOP * 10; i++) bound.add(1);
        };
      },
      'prom-client': (): Op => {
        const child = prom().counter.labels(PROM_ATTRS);
        return () => {
          for (let i = 0; i < LOOP * 10; i++) child.inc(1);
        };
      },
    },
  },
  ...commonAttributeCases(),
  {
    name: 'counter.add, no attributes',
    opsPerCall: LOOP * 10,
    impls: {
      ours: (): Op => {
        const { counter } = ours();
        return () => {
          for (let i = 0; i < LOOP * 10; i++) counter.add(1);
        };
      },
      official: (): Op => {
        const { counter } = official();
        return () => {
          for (let i = 0; i < LOOP * 10; i++) counter.add(1);
        };
      },
      'prom-client': (): Op => {
        const { counterNoLabels } = prom();
        return () => {
          for (let i = 0; i < LOOP * 10; i++) counterNoLabels.inc(1);
        };
      },
    },
  },
  {
    name: 'histogram.record, explicit buckets, reused attributes',
    opsPerCall: LOOP,
    impls: {
      ours: (): Op => {
        const { histogram } = ours();
        return () => {
          for (let i = 0; i < LOOP; i++) histogram.record(VALUES[i & 1023] as number, ATTRS);
        };
      },
      official: (): Op => {
        const { histogram } = official();
        return () => {
          for (let i = 0; i < LOOP; i++) histogram.record(VALUES[i & 1023] as number, ATTRS);
        };
      },
      'prom-client': (): Op => {
        const { histogram } = prom();
        return () => {
          for (let i = 0; i < LOOP; i++) histogram.observe(PROM_ATTRS, VALUES[i & 1023] as number);
        };
      },
    },
  },
  {
    name: 'histogram.record, base-2 exponential, reused attributes',
    opsPerCall: LOOP,
    impls: {
      ours: (): Op => {
        const { histogram } = ours('exponential');
        return () => {
          for (let i = 0; i < LOOP; i++) histogram.record(VALUES[i & 1023] as number, ATTRS);
        };
      },
      official: (): Op => {
        const { histogram } = official('exponential');
        return () => {
          for (let i = 0; i < LOOP; i++) histogram.record(VALUES[i & 1023] as number, ATTRS);
        };
      },
    },
  },
  {
    name: 'counter.add, 1,000 attribute sets cycled (pre-built objects)',
    opsPerCall: LOOP,
    impls: {
      ours: (): Op => {
        const { counter } = ours();
        const sets = ROUTES.map((r) => ({ 'http.request.method': 'GET', 'http.route': r, 'http.response.status_code': 200 }));
        let k = 0;
        return () => {
          for (let i = 0; i < LOOP; i++) counter.add(1, sets[k++ % 1000]);
        };
      },
      official: (): Op => {
        const { counter } = official();
        const sets = ROUTES.map((r) => ({ 'http.request.method': 'GET', 'http.route': r, 'http.response.status_code': 200 }));
        let k = 0;
        return () => {
          for (let i = 0; i < LOOP; i++) counter.add(1, sets[k++ % 1000]);
        };
      },
      'prom-client': (): Op => {
        const { counter } = prom();
        const sets = ROUTES.map((r) => ({ http_request_method: 'GET', http_route: r, http_response_status_code: 200 }));
        let k = 0;
        return () => {
          for (let i = 0; i < LOOP; i++) counter.inc(sets[k++ % 1000] as Labels, 1);
        };
      },
    },
  },
  {
    name: 'counter.add, 1,000 attribute sets cycled (fresh literals)',
    opsPerCall: LOOP,
    impls: {
      ours: (): Op => {
        const { counter } = ours();
        let k = 0;
        return () => {
          for (let i = 0; i < LOOP; i++)
            counter.add(1, { 'http.request.method': 'GET', 'http.route': ROUTES[k++ % 1000], 'http.response.status_code': 200 });
        };
      },
      official: (): Op => {
        const { counter } = official();
        let k = 0;
        return () => {
          for (let i = 0; i < LOOP; i++)
            counter.add(1, { 'http.request.method': 'GET', 'http.route': ROUTES[k++ % 1000] as string, 'http.response.status_code': 200 });
        };
      },
      'prom-client': (): Op => {
        const { counter } = prom();
        let k = 0;
        return () => {
          for (let i = 0; i < LOOP; i++)
            counter.inc({ http_request_method: 'GET', http_route: ROUTES[k++ % 1000] as string, http_response_status_code: 200 }, 1);
        };
      },
    },
  },
  {
    kind: 'value',
    name: 'collect + encode 11,000 points to protobuf (per collection)',
    unit: 'ms',
    impls: {
      ours: async () => {
        const collect = oursWorkload();
        assertSameMetrics(collect(), await officialWorkload()());
        return medianMs(async () => collect());
      },
      official: async () => {
        const collect = officialWorkload();
        assertSameMetrics(oursWorkload()(), await collect());
        return medianMs(collect);
      },
    },
  },
  {
    kind: 'value',
    name: 'collect() with an async callback vs collectSync(), 11,000 points (per collection)',
    unit: 'ms',
    impls: {
      ours: async () => {
        const p = createMeterProvider({ cardinalityLimit: 20_000 });
        const c = p.registerConsumer();
        const m = p.getMeter('bench');
        const ctr = m.createCounter('c');
        for (let i = 0; i < 11_000; i++) ctr.add(1, { 'http.route': ROUTES[i % 1000] as string, i });
        // One async callback, so that the collection has something to wait for.
        m.createObservableGauge('g').addCallback(async (r) => r.observe(1));
        return medianMs(() => c.collect(), 5, 15);
      },
      'ours (collectSync)': async () => {
        const p = createMeterProvider({ cardinalityLimit: 20_000 });
        const c = p.registerConsumer();
        const m = p.getMeter('bench');
        const ctr = m.createCounter('c');
        for (let i = 0; i < 11_000; i++) ctr.add(1, { 'http.route': ROUTES[i % 1000] as string, i });
        m.createObservableGauge('g').addCallback((r) => r.observe(1));
        return medianMs(async () => c.collectSync(), 5, 15);
      },
    },
  },
  memoryCase(false),
  memoryCase(true),
];

await runBench(import.meta.url, { title: 'Metrics', cases });
