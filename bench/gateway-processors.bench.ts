/**
 * CPU per request of the gateway's request path with one resource edit vs pass-through,
 * in process: the real ingest of a real pipeline (buildPipeline: router, bodies, processors,
 * backends), upstreams whose transport answers ok at once, no sockets. Less noisy than the
 * multi-process gateway benchmark, and it measures exactly what a processor adds.
 *
 * Cases, alternated within every round (the machine is shared; a round is all cases back to
 * back, so drift hits them alike):
 * - pass:   the 100-point template (bench/gateway-template.ts) to one upstream, no processors
 *           (forwarded as received);
 * - edit:   the same with one `upsert` of a resource attribute on the upstream (processed);
 * - splice: for reference, a 200-point request of two resource entries, one routed to the
 *           upstream (spliced: the zero-decode path for a subset).
 * Each case ingests REQUESTS requests in batches of BATCH, yielding between batches so the
 * backends drain, and waits for its queue to empty; CPU is the process's user + system time.
 *
 *   npm run bench:processors [-- --rounds 7 --requests 20000]
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ExportMetricsServiceRequestSchema } from '../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { loadGatewayConfig } from '../src/gateway/config/load.js';
import { createUpstreamRegistry } from '../src/gateway/forward/upstream-registry.js';
import { buildPipeline } from '../src/gateway/pipeline.js';
import type { Pipeline } from '../src/gateway/pipeline.js';
import type { Transport } from '../src/transport/types.js';
import { median } from './lib/harness.js';
import { benchRequest, POINTS_PER_REQUEST } from './gateway-template.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
};
const ROUNDS = arg('rounds', 7);
const REQUESTS = arg('requests', 20_000);
const BATCH = 100;

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

interface Case {
  readonly name: string;
  readonly pipeline: Pipeline;
  readonly body: Uint8Array;
  readonly expect: string;
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
  const start = process.cpuUsage();
  for (let sent = 0; sent < requests; sent += BATCH) {
    for (let i = 0; i < BATCH; i++) {
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

// Check each case forwards the body kind it stands for, then warm up.
for (const c of cases) {
  let how = '';
  const observed = await buildPipeline(c.pipeline.config, {
    registry: createUpstreamRegistry({ transportFor: () => okTransport }),
    observer: { onRequest() {}, onRefused() {}, onForwarded: (e) => void (how = e.body) },
    drain: { draining: false },
  });
  observed.ingest.ingest({ signal: 'metrics', protocol: 'http/protobuf', tenant: undefined, body: c.body, wireBytes: c.body.length });
  if (how !== c.expect) throw new Error(`${c.name}: forwarded ${how}, expected ${c.expect}`);
  await run(c, REQUESTS / 4);
}

const results = new Map<string, number[]>(cases.map((c) => [c.name, []]));
const ratios: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  // Alternate the order each round, so neither case always runs first.
  const order = r % 2 === 0 ? cases : [...cases].reverse();
  const round = new Map<string, number>();
  for (const c of order) round.set(c.name, await run(c, REQUESTS));
  for (const [name, us] of round) results.get(name)!.push(us);
  ratios.push(round.get('edit')! / round.get('pass')!);
}

const fmt = (us: number): string => us.toFixed(2);
console.log(
  `gateway processors: ${ROUNDS} rounds × ${REQUESTS} requests of ${POINTS_PER_REQUEST} points (splice: 2 entries, 1 routed), node ${process.version}`,
);
console.log('case    µs CPU/request: median (min – max)');
for (const [name, xs] of results) console.log(`${name.padEnd(7)} ${fmt(median(xs))} (${fmt(Math.min(...xs))} – ${fmt(Math.max(...xs))})`);
console.log(`edit / pass, per round: median ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)} – ${Math.max(...ratios).toFixed(2)})`);
