/**
 * CPU per request of the gateway's request path with each processor vs pass-through, in
 * process: the real ingest of a real pipeline (buildPipeline: router, bodies, processors,
 * backends), upstreams whose transport answers ok at once, no sockets. Less noisy than the
 * multi-process gateway benchmark, and it measures exactly what a processor adds.
 *
 * Cases, alternated within every round (the machine is shared; a round is all cases back to
 * back, so drift hits them alike), each reported with its ratio to `pass` in the same round:
 * - pass:   the 100-point template (bench/gateway-template.ts: 10 cumulative monotonic sums × 10
 *           series) to one upstream, no processors (forwarded as received);
 * - edit:   the same with one `upsert` of a resource attribute on the upstream (processed);
 * - attr:   the same with one `upsert` of a data point attribute: every point written again;
 * - filter: the same with a filter dropping one of the 10 metrics by name (10 points);
 * - c2d:    the same with `temporality: delta` on the upstream, steady state: every request
 *           carries the next time (the bench writes it into the template's 100 time fields, ~0.2
 *           µs, charged to this case), every stream is known, every point becomes a delta;
 * - splice: for reference, a 200-point request of two resource entries, one routed to the
 *           upstream (spliced: the zero-decode path for a subset).
 * Then, outside the request path, for reference: what decoding the same request with
 * protobuf-es and encoding it again costs (the least a decode-based conversion would pay), and
 * the memory one tracked stream of the temporality state takes (sums, explicit histograms with
 * 16 buckets, exponential histograms with ~20).
 * Each case ingests REQUESTS requests in batches of BATCH, yielding between batches so the
 * backends drain, and waits for its queue to empty; CPU is the process's user + system time.
 *
 *   npm run bench:processors [-- --rounds 7 --requests 20000 --streams 100000]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ExportMetricsServiceRequestSchema } from '../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { AggregationTemporality } from '../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import { loadGatewayConfig } from '../src/gateway/config/load.js';
import { ProcessContext } from '../src/gateway/forward/processors/chain.js';
import { compileTemporality, createTemporalityState } from '../src/gateway/forward/processors/temporality.js';
import { createUpstreamRegistry } from '../src/gateway/forward/upstream-registry.js';
import { buildPipeline } from '../src/gateway/pipeline.js';
import type { Pipeline } from '../src/gateway/pipeline.js';
import { systemClock } from '../src/internal/clock.js';
import type { Transport } from '../src/transport/types.js';
import { median } from './lib/harness.js';
import { benchRequest, POINTS_PER_REQUEST } from './gateway-template.js';

const memoryKind = process.argv.includes('--memory') ? process.argv[process.argv.indexOf('--memory') + 1] : undefined;
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
};
const ROUNDS = arg('rounds', 7);
const REQUESTS = arg('requests', 20_000);
const STREAMS = arg('streams', 100_000);
const BATCH = 100;

if (memoryKind !== undefined) {
  // A child: one kind's memory per stream, alone in its process (GC of the other cases cannot blur it).
  console.log(JSON.stringify(await bytesPerStream(memoryKind as 'sum' | 'histogram' | 'exponential', Number(arg('streams', 100_000)))));
  process.exit(0);
}

const okTransport: Transport = { encoding: 'protobuf', export: async () => ({ kind: 'ok' }), close: async () => {} };

async function pipelineFor(document: Record<string, unknown>): Promise<Pipeline> {
  const config = loadGatewayConfig({ env: {}, document });
  const registry = createUpstreamRegistry({ transportFor: () => okTransport });
  return buildPipeline(config, { registry, observer: { onRequest() {}, onRefused() {} }, drain: { draining: false } });
}

// Merging queued requests (batch.maxBytes) would add the same copy to every case; off, to see the processor.
const upstream = { endpoint: 'http://127.0.0.1:9', batch: { maxBytes: 0 } };
const template = benchRequest().body;
const twoEntries = (() => {
  const m = fromBinary(ExportMetricsServiceRequestSchema, template);
  const other = create(ExportMetricsServiceRequestSchema, { resourceMetrics: [m.resourceMetrics[0]!] });
  const attrs = other.resourceMetrics[0]!.resource!.attributes;
  attrs[1] = { ...attrs[1]!, value: { $typeName: 'opentelemetry.proto.common.v1.AnyValue', value: { case: 'stringValue', value: 'other' } } };
  const second = toBinary(ExportMetricsServiceRequestSchema, other);
  const body = new Uint8Array(template.length + second.length);
  body.set(template);
  body.set(second, template.length);
  return body;
})();

/** The template's time fields (tag 0x19 and 8 bytes of time_unix_nano): the c2d case advances them per request. */
const timeOffsets = (() => {
  const m = fromBinary(ExportMetricsServiceRequestSchema, template);
  const d = m.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.data;
  const time = d.case === 'sum' ? d.value.dataPoints[0]!.timeUnixNano : 0n;
  const needle = new Uint8Array(9);
  needle[0] = 0x19;
  new DataView(needle.buffer).setBigUint64(1, time, true);
  const offsets: number[] = [];
  for (let at = Buffer.from(template).indexOf(needle); at >= 0; at = Buffer.from(template).indexOf(needle, at + 1)) offsets.push(at + 1);
  if (offsets.length !== POINTS_PER_REQUEST) throw new Error(`found ${offsets.length} time fields`);
  return offsets;
})();
const c2dBody = template.slice();
const c2dView = new DataView(c2dBody.buffer);
const baseLo = c2dView.getUint32(timeOffsets[0]!, true);
let c2dTick = 0;
/** The next time in every point: 1 ns later (the low word; the template's time is far from a carry). */
function advance(): void {
  const lo = baseLo + ++c2dTick;
  for (const at of timeOffsets) c2dView.setUint32(at, lo, true);
}

interface Case {
  readonly name: string;
  readonly pipeline: Pipeline;
  readonly body: Uint8Array;
  readonly expect: string;
  readonly before?: () => void;
}

const cases: Case[] = [
  { name: 'pass', pipeline: await pipelineFor({ upstreams: { u: upstream } }), body: template, expect: 'as_received' },
  {
    name: 'edit',
    pipeline: await pipelineFor({
      upstreams: { u: { ...upstream, processors: [{ resource: [{ action: 'upsert', key: 'deployment.environment.name', value: 'prod' }] }] } },
    }),
    body: template,
    expect: 'processed',
  },
  {
    name: 'attr',
    pipeline: await pipelineFor({
      upstreams: { u: { ...upstream, processors: [{ attributes: [{ action: 'upsert', key: 'deployment.environment.name', value: 'prod' }] }] } },
    }),
    body: template,
    expect: 'processed',
  },
  {
    name: 'filter',
    pipeline: await pipelineFor({ upstreams: { u: { ...upstream, processors: [{ filter: { metrics: { names: ['bench.requests.9'] } } }] } } }),
    body: template,
    expect: 'processed',
  },
  {
    name: 'c2d',
    pipeline: await pipelineFor({ upstreams: { u: { ...upstream, temporality: 'delta' } } }),
    body: c2dBody,
    expect: 'processed',
    before: advance,
  },
  {
    name: 'splice',
    pipeline: await pipelineFor({ upstreams: { u: upstream }, routes: [{ match: { 'service.name': 'bench-load' }, upstreams: ['u'] }] }),
    body: twoEntries,
    expect: 'spliced',
  },
];

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** CPU µs per request of one run of `c`. */
async function run(c: Case, requests: number): Promise<number> {
  const { ingest } = c.pipeline;
  const request = { signal: 'metrics' as const, protocol: 'http/protobuf' as const, tenant: undefined, body: c.body, wireBytes: c.body.length };
  const before = c.before;
  const start = process.cpuUsage();
  for (let sent = 0; sent < requests; sent += BATCH) {
    for (let i = 0; i < BATCH; i++) {
      before?.();
      const outcome = ingest.ingest(request);
      if (outcome instanceof Promise) throw new Error(`${c.name}: memory queues answer at once`);
      if (outcome.kind !== 'accepted') throw new Error(`${c.name}: ${outcome.message}`);
    }
    await settle();
  }
  while (ingest.queuedBytes() > 0) await settle();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / requests;
}

// Check each case forwards the body kind it stands for (c2d: its second request, the first's points being first points), then warm up.
for (const c of cases) {
  let how = '';
  const observed = await buildPipeline(c.pipeline.config, {
    registry: createUpstreamRegistry({ transportFor: () => okTransport }),
    observer: { onRequest() {}, onRefused() {}, onForwarded: (e) => void (how = e.body) },
    drain: { draining: false },
  });
  for (let i = 0; i < 2; i++) {
    c.before?.();
    observed.ingest.ingest({ signal: 'metrics', protocol: 'http/protobuf', tenant: undefined, body: c.body, wireBytes: c.body.length });
  }
  if (how !== c.expect) throw new Error(`${c.name}: forwarded ${how}, expected ${c.expect}`);
  await run(c, REQUESTS / 4);
}

const results = new Map<string, number[]>(cases.map((c) => [c.name, []]));
const ratios = new Map<string, number[]>(cases.map((c) => [c.name, []]));
for (let r = 0; r < ROUNDS; r++) {
  // Alternate the order each round, so no case always runs first.
  const order = r % 2 === 0 ? cases : [...cases].reverse();
  const round = new Map<string, number>();
  for (const c of order) round.set(c.name, await run(c, REQUESTS));
  for (const [name, us] of round) {
    results.get(name)!.push(us);
    ratios.get(name)!.push(us / round.get('pass')!);
  }
}

// Reference: protobuf-es decode + encode of the same request (what a decode-based conversion pays at least).
const decodeRuns: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const n = REQUESTS / 4;
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) toBinary(ExportMetricsServiceRequestSchema, fromBinary(ExportMetricsServiceRequestSchema, template));
  const used = process.cpuUsage(start);
  decodeRuns.push((used.user + used.system) / n);
}

const fmt = (us: number): string => us.toFixed(2);
const range = (xs: readonly number[], f: (x: number) => string): string => `${f(median(xs))} (${f(Math.min(...xs))} – ${f(Math.max(...xs))})`;
console.log(
  `gateway processors: ${ROUNDS} rounds × ${REQUESTS} requests of ${POINTS_PER_REQUEST} points (splice: 2 entries, 1 routed), node ${process.version}`,
);
console.log('| case | µs CPU/request | / pass (per round) |');
console.log('|---|---|---|');
for (const c of cases) console.log(`| ${c.name} | ${range(results.get(c.name)!, fmt)} | ${range(ratios.get(c.name)!, (x) => x.toFixed(2))} |`);
console.log(`| protobuf-es decode + encode (reference, no ingest) | ${range(decodeRuns, fmt)} | |`);

// ---- Memory per tracked stream ------------------------------------------------------------

/** A request of `n` streams of one kind (cumulative; series told apart by one attribute). */
function streamsRequest(kind: 'sum' | 'histogram' | 'exponential', from: number, n: number): Uint8Array {
  const dataPoints = [];
  for (let s = from; s < from + n; s++) {
    const attributes = [{ key: 'series', value: { value: { case: 'stringValue' as const, value: `s-${s}` } } }];
    const times = { startTimeUnixNano: 1n, timeUnixNano: 2n };
    if (kind === 'sum') dataPoints.push({ attributes, ...times, value: { case: 'asDouble' as const, value: s } });
    else if (kind === 'histogram') {
      dataPoints.push({
        attributes,
        ...times,
        count: 16n,
        sum: 1,
        bucketCounts: new Array(16).fill(1n),
        explicitBounds: Array.from({ length: 15 }, (_, i) => i),
      });
    } else dataPoints.push({ attributes, ...times, count: 20n, sum: 1, scale: 3, positive: { offset: 10, bucketCounts: new Array(20).fill(1n) } });
  }
  const data =
    kind === 'sum'
      ? { case: 'sum' as const, value: { aggregationTemporality: AggregationTemporality.CUMULATIVE, isMonotonic: true, dataPoints } }
      : kind === 'histogram'
        ? { case: 'histogram' as const, value: { aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints } }
        : { case: 'exponentialHistogram' as const, value: { aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints } };
  return toBinary(
    ExportMetricsServiceRequestSchema,
    create(ExportMetricsServiceRequestSchema, { resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'm', data }] }] }] }),
  );
}

/** Heap + array-buffer bytes the state of `n` streams of `kind` holds, per stream (after full GCs). */
async function bytesPerStream(kind: 'sum' | 'histogram' | 'exponential', n: number): Promise<number> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const used = (): number => {
    gc();
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const chunk = 1000;
  const requests: Uint8Array[] = [];
  for (let from = 0; from < n; from += chunk) requests.push(streamsRequest(kind, from, chunk));
  const before = used();
  const state = createTemporalityState({ to: 'delta', maxStreams: n, staleAfterMillis: 3_600_000, firstPoint: 'drop' }, systemClock);
  const step = compileTemporality(state, systemClock);
  // A request of one entry: the body is its entry. Each entry is bigger than the layout memo takes.
  for (const body of requests) {
    step(body, new ProcessContext('metrics'));
    state.table.commit();
  }
  const after = used();
  if (state.table.count !== n) throw new Error(`${kind}: ${state.table.count} streams tracked, expected ${n}`);
  return (after - before) / n;
}

console.log(
  `\ntemporality state: bytes per tracked stream (heap + array buffers, after GC; each kind alone in a process), ${STREAMS} sums, ${STREAMS / 10} histograms`,
);
console.log('| stream kind | bytes per stream |');
console.log('|---|---|');
for (const kind of ['sum', 'histogram', 'exponential'] as const) {
  const n = kind === 'sum' ? STREAMS : STREAMS / 10;
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--memory', kind, '--streams', String(n)], {
    encoding: 'utf8',
  });
  if (child.status !== 0) throw new Error(`memory child ${kind}: ${child.stderr}`);
  const label = kind === 'histogram' ? 'explicit histogram, 16 buckets' : kind === 'exponential' ? 'exponential histogram, 20 buckets' : 'sum';
  console.log(`| ${label} | ${Math.round(Number(child.stdout.trim()))} |`);
}
