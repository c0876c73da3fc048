/**
 * The remote write transport against a scripted loopback receiver (fault injection; the happy path
 * against a real Prometheus is test/interop/prometheus.test.ts): the wire (headers, snappy, the
 * WriteRequest decoded with the generated schema, labels sorted, external labels), the retry rules
 * (5xx and 429 retryable with Retry-After, other 4xx not), shards that each keep a series, a retry
 * that re-sends only the shards that failed, and what is left out and counted.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ExportMetricsServiceRequestSchema,
  type ExportMetricsServiceRequest,
} from '../../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { AggregationTemporality } from '../../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import { type WriteRequest, WriteRequestSchema } from '../../../gen/prometheus/remote_write/v1/remote_write_pb.js';
import { createBackend } from '../../../src/export/backend.js';
import { createRemoteWriteTransport, shardOf } from '../../../src/transport/prometheus/remote-write.js';
import { snappyDecompress } from '../../../src/transport/prometheus/snappy.js';

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly request: WriteRequest;
}

interface Receiver {
  readonly url: string;
  readonly received: Received[];
  /** Statuses to answer, in order; then 204. */
  readonly script: Array<{ status: number; headers?: Record<string, string>; body?: string }>;
  /** When set, decides the status from the request (before the script). */
  decide: ((request: WriteRequest) => number | undefined) | undefined;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const script: Receiver['script'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = fromBinary(WriteRequestSchema, snappyDecompress(Buffer.concat(chunks)));
      const decided = receiver.decide?.(request);
      const next = decided === undefined ? script.shift() : { status: decided };
      if (next === undefined || next.status < 300) received.push({ headers: req.headers, request });
      res.writeHead(next?.status ?? 204, next?.headers ?? {}).end(next?.body ?? '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const receiver: Receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`,
    received,
    script,
    decide: undefined,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
  return receiver;
}

const str = (value: string) => ({ value: { case: 'stringValue' as const, value } });
const T = 1_700_000_000_000n * 1_000_000n;

function request(
  points: Array<{ series: string; value: number; t: bigint }>,
  temporality = AggregationTemporality.CUMULATIVE,
): ExportMetricsServiceRequest {
  return create(ExportMetricsServiceRequestSchema, {
    resourceMetrics: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: str('svc') },
            { key: 'zone', value: str('z1') },
          ],
        },
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'jobs',
                data: {
                  case: 'sum',
                  value: {
                    aggregationTemporality: temporality,
                    isMonotonic: true,
                    dataPoints: points.map((p) => ({
                      timeUnixNano: p.t,
                      value: { case: 'asDouble' as const, value: p.value },
                      attributes: [{ key: 'series', value: str(p.series) }],
                    })),
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

const bin = (r: ExportMetricsServiceRequest): Uint8Array => toBinary(ExportMetricsServiceRequestSchema, r);
const labelsOf = (r: WriteRequest, i: number): Record<string, string> => Object.fromEntries(r.timeseries[i]!.labels.map((l) => [l.name, l.value]));

const test = suite('prometheus remote write transport');
let rx: Receiver;
test.before.each(async () => {
  rx = await startReceiver();
});
test.after.each(async () => {
  await rx.close();
});

test('the wire: headers, snappy WriteRequest, sorted labels, job/instance, external labels, target_info', async () => {
  const t = createRemoteWriteTransport({
    signalEndpoints: { metrics: rx.url },
    headers: { authorization: 'Basic dTpw' },
    externalLabels: { cluster: 'eu', zone: 'external' },
  });
  try {
    const result = await t.export('metrics', bin(request([{ series: 'b', value: 2, t: T }])));
    assert.equal(result, { kind: 'ok' });
    const [got] = rx.received;
    assert.ok(got !== undefined);
    assert.is(got.headers['content-encoding'], 'snappy');
    assert.is(got.headers['content-type'], 'application/x-protobuf');
    assert.is(got.headers['x-prometheus-remote-write-version'], '0.1.0');
    assert.match(String(got.headers['user-agent']), /^otlp-fanout/);
    assert.is(got.headers['authorization'], 'Basic dTpw');
    const byName = new Map(got.request.timeseries.map((_, i) => [labelsOf(got.request, i)['__name__'], i]));
    const jobs = labelsOf(got.request, byName.get('jobs_total')!);
    assert.equal(jobs, { __name__: 'jobs_total', cluster: 'eu', job: 'svc', series: 'b', zone: 'external' });
    for (const s of got.request.timeseries) {
      const names = s.labels.map((l) => l.name);
      assert.equal(names, [...names].sort(), 'labels sorted by name');
    }
    assert.equal(
      got.request.timeseries[byName.get('jobs_total')!]!.samples.map((s) => [s.value, s.timestamp]),
      [[2, 1_700_000_000_000n]],
    );
    // The resource's other attributes go to target_info; an external label never overrides a series' own.
    assert.equal(labelsOf(got.request, byName.get('target_info')!), { __name__: 'target_info', cluster: 'eu', job: 'svc', zone: 'z1' });
  } finally {
    await t.close();
  }
});

test('retry rules: 5xx and 429 retryable (Retry-After honoured), other 4xx not; the receiver names the cause', async () => {
  const t = createRemoteWriteTransport({ signalEndpoints: { metrics: rx.url } });
  try {
    const body = bin(request([{ series: 'a', value: 1, t: T }]));
    const table: Array<[number, Record<string, string>, boolean, number | undefined]> = [
      [500, {}, true, undefined],
      [503, { 'retry-after': '7' }, true, 7000],
      [429, { 'retry-after': '2' }, true, 2000],
      [400, {}, false, undefined],
      [404, {}, false, undefined],
      [413, {}, false, undefined],
    ];
    for (const [status, headers, retryable, after] of table) {
      rx.script.push({ status, headers, body: 'out of order sample' });
      const r = await t.export('metrics', body);
      assert.is(r.kind, 'failed', String(status));
      if (r.kind !== 'failed') continue;
      assert.is(r.retryable, retryable, `${status} retryable`);
      assert.is(r.retryAfterMs, after, `${status} Retry-After`);
      assert.is(r.error.status, status);
      assert.match(r.error.message, /out of order sample/);
    }
  } finally {
    await t.close();
  }
});

test('through a backend: a 400 is not retried, a 500 is (and then delivered)', async () => {
  const transport = createRemoteWriteTransport({ signalEndpoints: { metrics: rx.url } });
  const backend = createBackend({ name: 'rw', transport, retry: { initialBackoffMillis: 5, maxBackoffMillis: 10 }, random: () => 0.5 });
  try {
    rx.script.push({ status: 400 });
    backend.enqueue('metrics', bin(request([{ series: 'a', value: 1, t: T }])), 1);
    assert.ok(await backend.flush(5000));
    assert.is(backend.stats().itemsFailed, 1);
    assert.is(backend.stats().retries, 0);
    rx.script.push({ status: 500 }, { status: 502 });
    backend.enqueue('metrics', bin(request([{ series: 'a', value: 2, t: T + 1_000_000n }])), 1);
    assert.ok(await backend.flush(5000));
    assert.is(backend.stats().retries, 2);
    assert.is(backend.stats().itemsSent, 1);
    assert.is(rx.received.length, 1);
  } finally {
    await backend.shutdown(1000);
  }
});

test('shards: each series always in one shard, in timestamp order; a retry re-sends only the shards that failed', async () => {
  const shards = 4;
  const t = createRemoteWriteTransport({ signalEndpoints: { metrics: rx.url }, shards });
  try {
    const names = Array.from({ length: 40 }, (_, i) => `s${i}`);
    // Two requests merged into one body: each series' two points must come out oldest first.
    const later = request(names.map((series) => ({ series, value: 2, t: T + 2_000_000n })));
    const earlier = request(names.map((series) => ({ series, value: 1, t: T + 1_000_000n })));
    const body = new Uint8Array([...bin(later), ...bin(earlier)]);
    rx.script.push({ status: 204 }, { status: 503 });
    const first = await t.export('metrics', body);
    assert.is(first.kind, 'failed');
    const afterFirst = rx.received.length;
    assert.is(afterFirst, shards - 1, 'the other shards were taken');
    assert.equal(await t.export('metrics', body), { kind: 'ok' });
    assert.is(rx.received.length, shards, 'the retry sent only the shard that failed');
    const seen = new Map<string, number>();
    for (const [i, got] of rx.received.entries()) {
      for (const [k, series] of got.request.timeseries.entries()) {
        const labels = labelsOf(got.request, k);
        if (labels['__name__'] !== 'jobs_total') continue;
        const key = labels['series']!;
        assert.not.ok(seen.has(key), `${key} in one shard`);
        seen.set(key, i);
        assert.equal(
          series.samples.map((x) => x.value),
          [1, 2],
          'oldest first',
        );
      }
    }
    assert.is(seen.size, names.length);
    assert.is(shardOf('x', 1), 0);
  } finally {
    await t.close();
  }
});

test('a shard refused for good (4xx) does not hold back the others: they are retried and delivered; a partial success counts the refused samples', async () => {
  const t = createRemoteWriteTransport({ signalEndpoints: { metrics: rx.url }, shards: 4 });
  try {
    const names = Array.from({ length: 40 }, (_, i) => `s${i}`);
    const body = bin(request([...names, 'bad'].map((series) => ({ series, value: 1, t: T }))));
    let busy = 1;
    const has = (r: WriteRequest, v: string) => r.timeseries.some((ts) => ts.labels.some((l) => l.name === 'series' && l.value === v));
    rx.decide = (r) => (has(r, 'bad') ? 400 : busy-- > 0 ? 503 : undefined);
    const first = await t.export('metrics', body);
    assert.is(first.kind === 'failed' ? first.retryable : undefined, true, JSON.stringify(first));
    const second = await t.export('metrics', body);
    assert.is(second.kind, 'partial', JSON.stringify(second));
    const refused = second.kind === 'partial' ? second.rejected : 0;
    const delivered = rx.received.reduce((n, r) => n + r.request.timeseries.length, 0);
    // Every series (one sample each; target_info too) but those of the refused shard arrived, once.
    assert.is(delivered + refused, names.length + 2);
    assert.ok(refused >= 1 && delivered >= 1);
  } finally {
    rx.decide = undefined;
    await t.close();
  }
});

test('left out and counted: delta points, logs; an undecodable request is refused', async () => {
  const t = createRemoteWriteTransport({ signalEndpoints: { metrics: rx.url } });
  try {
    const delta = await t.export('metrics', bin(request([{ series: 'a', value: 1, t: T }], AggregationTemporality.DELTA)));
    assert.is(delta.kind, 'partial');
    assert.is(delta.kind === 'partial' ? delta.rejected : -1, 1);
    // The resource is still described, stamped with its point's time (a 0 timestamp is refused as out of bounds).
    const info = rx.received[0]!.request.timeseries[0]!;
    assert.equal([labelsOf(rx.received[0]!.request, 0)['__name__'], info.samples[0]!.timestamp], ['target_info', 1_700_000_000_000n]);
    const logs = await t.export('logs', new Uint8Array());
    assert.is(logs.kind, 'partial');
    const bad = await t.export('metrics', new Uint8Array([0x0a, 0xff]));
    assert.is(bad.kind === 'failed' ? bad.retryable : undefined, false);
  } finally {
    await t.close();
  }
});

test.run();
