/**
 * The per-request body cache: one processed body for upstreams with the same chain and
 * entries, another for another chain, never a processed body for an upstream without
 * processors; JSON upstreams get the processed protobuf transcoded once.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fromBinary } from '@bufbuild/protobuf';
import { ExportMetricsServiceRequestSchema } from '../../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { loadGatewayConfig } from '../../../src/gateway/config/load.js';
import { buildBody } from '../../../src/gateway/forward/bodies.js';
import type { BodyCache, BuiltBody } from '../../../src/gateway/forward/bodies.js';
import { createUpstreamRegistry } from '../../../src/gateway/forward/upstream-registry.js';
import { buildPipeline } from '../../../src/gateway/pipeline.js';
import { decodeJson } from '../../../src/otlp/json.js';
import { scanRequest } from '../../../src/otlp/scan.js';
import type { Transport } from '../../../src/transport/types.js';
import { bin, metricsRequest } from '../harness.js';

const test = suite('gateway/bodies');

const nullTransport = (encoding: 'protobuf' | 'json'): Transport => ({ encoding, export: async () => ({ kind: 'ok' }), close: async () => {} });
const tag = [{ resource: [{ action: 'upsert', key: 'env', value: 'prod' }] }];

test('one processed body per chain and subset, shared; none for upstreams without processors', async () => {
  const config = loadGatewayConfig({
    env: {},
    document: {
      upstreams: {
        a: { endpoint: 'http://a', processors: tag },
        b: { endpoint: 'http://b', processors: tag },
        j: { endpoint: 'http://j?encoding=json', processors: tag },
        other: { endpoint: 'http://o', processors: [{ resource: [{ action: 'delete', key: 'service.name' }] }] },
        plain: { endpoint: 'http://p' },
      },
    },
  });
  const registry = createUpstreamRegistry({ transportFor: (u) => nullTransport(u.protocol === 'http/json' ? 'json' : 'protobuf') });
  const pipeline = await buildPipeline(config, { registry, observer: { onRequest() {}, onRefused() {} }, drain: { draining: false } });
  const body = bin.metrics(metricsRequest(['svc-a', 'svc-b'], 2));
  const scan = scanRequest('metrics', body);
  const plan = pipeline.router.plan('metrics', undefined, scan.entries, scan.items);
  const cache: BodyCache = new Map();
  const built: Record<string, BuiltBody> = {};
  for (const s of plan.selections) {
    if (s.chains === null) continue;
    built[s.upstream.name] = buildBody(s, 'metrics', body, scan, cache);
  }
  assert.equal(Object.keys(built), ['a', 'b', 'j', 'other']);
  assert.ok(plan.selections.find((s) => s.upstream.name === 'plain')!.entries === null, 'plain: as received');
  assert.is(built['a'], built['b'], 'the same chain: one body');
  assert.is.not(built['other']!.body, built['a']!.body);
  assert.equal(
    Object.values(built).map((b) => b.how),
    ['processed', 'processed', 'processed', 'processed'],
  );
  assert.is(cache.size, 3, 'protobuf for a and b, its JSON for j, the other chain');
  const decoded = fromBinary(ExportMetricsServiceRequestSchema, built['a']!.body);
  assert.equal(
    decoded.resourceMetrics.map((r) => r.resource!.attributes.map((kv) => kv.key)),
    [
      ['service.name', 'env'],
      ['service.name', 'env'],
    ],
  );
  assert.equal(decodeJson(ExportMetricsServiceRequestSchema, built['j']!.body), decoded, 'JSON: the processed protobuf transcoded');
  assert.equal(
    fromBinary(ExportMetricsServiceRequestSchema, built['other']!.body).resourceMetrics.map((r) => r.resource!.attributes.length),
    [0, 0],
  );
});

test.run();
