/**
 * Temporality conversion in a real pipeline (buildPipeline, ingest, backends with in-memory
 * transports): the converting upstream gets deltas while another gets the received bytes; what
 * is dropped is counted and an emptied request is not sent; a live reload hands the state over
 * when the upstream's settings did not change; a request refused after its bodies were built
 * leaves the state as it was, so its retry converts as the first attempt would have.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { create, toBinary } from '@bufbuild/protobuf';
import { ExportMetricsServiceRequestSchema } from '../../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { AggregationTemporality } from '../../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import { createMemoryTransport } from '../../../src/export/memory.js';
import type { MemoryStore } from '../../../src/export/memory.js';
import { loadGatewayConfig } from '../../../src/gateway/config/load.js';
import { createUpstreamRegistry } from '../../../src/gateway/forward/upstream-registry.js';
import type { UpstreamRegistry } from '../../../src/gateway/forward/upstream-registry.js';
import type { IngestOutcome } from '../../../src/gateway/forward/ingest.js';
import type { ForwardedEvent, GatewayObserver, ProcessedEvent } from '../../../src/gateway/observe/events.js';
import { buildPipeline } from '../../../src/gateway/pipeline.js';
import type { Pipeline } from '../../../src/gateway/pipeline.js';
import { manualClock } from '../../../src/internal/clock.js';
import type { Transport } from '../../../src/transport/types.js';
import { ofSignal, startReceiver } from '../../support/receiver.js';
import { post, PROTOBUF, startTestGateway } from '../harness.js';

const test = suite('gateway/forward: temporality in the pipeline');

const T0 = 1_700_000_000_000_000_000n;

/** One cumulative monotonic sum point of stream `route`. */
function cumulative(time: bigint, value: number, route = '/a'): Uint8Array {
  return toBinary(
    ExportMetricsServiceRequestSchema,
    create(ExportMetricsServiceRequestSchema, {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { value: { case: 'stringValue', value: 'svc' } } }] },
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'requests',
                  data: {
                    case: 'sum',
                    value: {
                      aggregationTemporality: AggregationTemporality.CUMULATIVE,
                      isMonotonic: true,
                      dataPoints: [
                        {
                          attributes: [{ key: 'route', value: { value: { case: 'stringValue', value: route } } }],
                          startTimeUnixNano: T0 + 1n,
                          timeUnixNano: time,
                          value: { case: 'asDouble', value },
                        },
                      ],
                    },
                  },
                },
              ],
            },
          ],
        },
      ],
    }),
  );
}

interface Setup {
  readonly registry: UpstreamRegistry;
  readonly stores: Map<string, MemoryStore>;
  readonly processed: ProcessedEvent[];
  readonly forwarded: ForwardedEvent[];
  readonly observer: GatewayObserver;
  build(document: Record<string, unknown>, previous?: Pipeline): Promise<Pipeline>;
}

function setup(transport?: (name: string) => Transport | undefined): Setup {
  const stores = new Map<string, MemoryStore>();
  const processed: ProcessedEvent[] = [];
  const forwarded: ForwardedEvent[] = [];
  const observer: GatewayObserver = { onRequest() {}, onRefused() {}, onProcessed: (e) => processed.push(e), onForwarded: (e) => forwarded.push(e) };
  const registry = createUpstreamRegistry({
    transportFor: (c) => {
      const t = transport?.(c.name);
      if (t !== undefined) return t;
      const m = createMemoryTransport();
      stores.set(c.name, m);
      return m;
    },
  });
  const clock = manualClock(T0);
  return {
    registry,
    stores,
    processed,
    forwarded,
    observer,
    build: (document, previous) =>
      buildPipeline(loadGatewayConfig({ env: {}, document }), {
        registry,
        observer,
        drain: { draining: false },
        clock,
        ...(previous === undefined ? {} : { previous }),
      }),
  };
}

// Memory queues: ingest answers synchronously.
const ingest = (p: Pipeline, body: Uint8Array) =>
  p.ingest.ingest({ signal: 'metrics', protocol: 'http/protobuf', tenant: undefined, body, wireBytes: body.length }) as IngestOutcome;

/** [start, time, value, temporality] of every sum point an in-memory upstream holds. */
function received(store: MemoryStore | undefined): Array<[bigint, bigint, unknown, number]> {
  return (store?.metricsNamed('requests') ?? []).flatMap((m) => {
    const d = m.data;
    return d.case === 'sum'
      ? d.value.dataPoints.map(
          (p) => [p.startTimeUnixNano, p.timeUnixNano, p.value.value, d.value.aggregationTemporality] as [bigint, bigint, unknown, number],
        )
      : [];
  });
}

const settle = async (p: Pipeline): Promise<void> => {
  await Promise.all(p.upstreams.map((u) => u.backend.flush(2000)));
};

const noBatch = { batch: { maxBytes: 0 } };

test('the converting upstream gets deltas, the other the received bytes; drops are counted, an emptied request is not sent', async () => {
  const s = setup();
  const p = await s.build({
    upstreams: {
      vendor: { endpoint: 'http://127.0.0.1:1', temporality: 'delta', ...noBatch },
      strict: { endpoint: 'http://127.0.0.1:2', temporality: { to: 'delta', firstPoint: 'drop' }, ...noBatch },
      plain: { endpoint: 'http://127.0.0.1:3', ...noBatch },
    },
  });
  for (const [time, value] of [
    [T0 + 100n, 5],
    [T0 + 200n, 12],
  ] as const) {
    assert.equal(ingest(p, cumulative(time, value)).kind, 'accepted');
  }
  await settle(p);
  const { DELTA, CUMULATIVE } = AggregationTemporality;
  assert.equal(received(s.stores.get('vendor')), [
    [T0 + 1n, T0 + 100n, 5, DELTA],
    [T0 + 100n, T0 + 200n, 7, DELTA],
  ]);
  assert.equal(received(s.stores.get('strict')), [[T0 + 100n, T0 + 200n, 7, DELTA]], 'the first point dropped, and nothing sent for it');
  assert.equal(received(s.stores.get('plain')), [
    [T0 + 1n, T0 + 100n, 5, CUMULATIVE],
    [T0 + 1n, T0 + 200n, 12, CUMULATIVE],
  ]);
  const strict = s.processed.filter((e) => e.upstream === 'strict');
  assert.equal(
    strict.map((e) => [Object.fromEntries(e.dropped), e.streams]),
    [
      [{ first_point: 1 }, { tracked: 1, evictedLru: 0, evictedStale: 0 }],
      [{}, { tracked: 1, evictedLru: 0, evictedStale: 0 }],
    ],
  );
  assert.equal(
    s.forwarded.filter((e) => e.upstream === 'strict').map((e) => [e.items, e.body]),
    [[1, 'processed']],
  );
  assert.equal(
    s.forwarded.filter((e) => e.upstream === 'plain').map((e) => e.body),
    ['as_received', 'as_received'],
  );
});

test('a reload keeps the state of an upstream whose temporality settings did not change, and only then', async () => {
  const s = setup();
  const doc = (maxStreams: number) => ({
    upstreams: { vendor: { endpoint: 'http://127.0.0.1:1', temporality: { to: 'delta', maxStreams, firstPoint: 'drop' }, ...noBatch } },
  });
  const a = await s.build(doc(10));
  ingest(a, cumulative(T0 + 100n, 5));
  const b = await s.build(doc(10), a);
  assert.is(b.conversions.states.size, 1);
  assert.is([...b.conversions.states.values()][0], [...a.conversions.states.values()][0], 'the same state object');
  ingest(b, cumulative(T0 + 200n, 12));
  const c = await s.build(doc(20), b);
  ingest(c, cumulative(T0 + 300n, 20));
  ingest(c, cumulative(T0 + 400n, 21));
  await settle(c);
  assert.equal(
    received(s.stores.get('vendor')).map((x) => x[2]),
    [7, 1],
    'the first point in a, the delta in b; new settings in c: its first point dropped again',
  );
});

test('a request refused after conversion leaves the state as it was; its retry converts the same', async () => {
  // A transport that holds every export until released: the queue fills and ingest refuses with backpressure.
  let release: () => void = () => {};
  const held = new Promise<void>((r) => (release = r));
  const bodies: Uint8Array[] = [];
  const s = setup((name) =>
    name === 'slow'
      ? {
          encoding: 'protobuf',
          async export(_signal, body) {
            bodies.push(body.slice());
            await held;
            return { kind: 'ok' };
          },
          close: async () => {},
        }
      : undefined,
  );
  const p = await s.build({
    upstreams: { slow: { endpoint: 'http://127.0.0.1:1', temporality: 'delta', maxConcurrency: 1, queue: { maxRequests: 1 }, ...noBatch } },
  });
  let refusedAt = -1;
  let time = T0;
  for (let i = 1; i <= 6 && refusedAt < 0; i++) {
    time += 100n;
    const outcome = ingest(p, cumulative(time, 10 * i));
    await new Promise((r) => setImmediate(r));
    if (outcome.kind === 'refused') {
      assert.is(outcome.reason, 'backpressure');
      refusedAt = i;
    }
  }
  assert.ok(refusedAt > 1, 'a request was refused');
  const table = [...p.conversions.states.values()][0]!.table;
  assert.is(table.count, 1);
  const slot = table.head;
  assert.is(table.value[slot], 10 * (refusedAt - 1), 'the refused point did not become the state');
  release();
  await settle(p);
  // The retry of the refused request: its delta is from the last accepted point.
  assert.equal(ingest(p, cumulative(time, 10 * refusedAt)).kind, 'accepted');
  await settle(p);
  const last = bodies.at(-1)!;
  assert.is(table.value[slot], 10 * refusedAt);
  const store = createMemoryTransport();
  await store.export('metrics', last);
  assert.equal(
    received(store).map((x) => [x[0] - T0, x[1] - T0, x[2]]),
    [[BigInt(100 * (refusedAt - 1)), BigInt(100 * refusedAt), 10]],
  );
});

test('a live reload of the gateway keeps the state of an upstream whose temporality did not change', async () => {
  const vendor = await startReceiver({ grpc: false });
  const upstreams = { vendor: { endpoint: vendor.httpUrl, temporality: { to: 'delta', firstPoint: 'drop' }, ...noBatch } };
  const gw = await startTestGateway({ upstreams });
  try {
    const send = async (time: bigint, value: number): Promise<void> => {
      const res = await post(`${gw.httpUrl}/v1/metrics`, cumulative(time, value), PROTOBUF);
      assert.is(res.status, 200);
      await res.arrayBuffer();
    };
    await send(T0 + 100n, 5);
    // Another upstream added: a new pipeline, the same temporality settings for vendor.
    const next = loadGatewayConfig({
      env: {},
      document: {
        // As startTestGateway configured them: unchanged receivers.
        receivers: { grpc: { address: '127.0.0.1:0' }, http: { address: '127.0.0.1:0' } },
        upstreams: { ...upstreams, other: { endpoint: 'http://127.0.0.1:9' } },
      },
    });
    const result = await gw.gw.reload(next);
    assert.is(result.outcome, 'applied', result.error?.message);
    await send(T0 + 200n, 12);
    const got = await vendor.waitFor(ofSignal('metrics'));
    const d = got.message.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.data;
    assert.equal(
      d.case === 'sum' ? d.value.dataPoints.map((p) => [p.startTimeUnixNano, p.value.value]) : [],
      [[T0 + 100n, 7]],
      'the delta across the reload',
    );
  } finally {
    await gw.close();
    await vendor.close();
  }
});

test.run();
