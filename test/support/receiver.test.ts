import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { gzipSync } from 'node:zlib';
import { create, fromBinary, fromJsonString, toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { compressionGzip, createGrpcTransport } from '@connectrpc/connect-node';
import {
  ExportMetricsServiceRequestSchema,
  ExportMetricsServiceResponseSchema,
  MetricsService,
} from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { ExportLogsServiceRequestSchema, ExportLogsServiceResponseSchema } from '../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import { ExportTraceServiceRequestSchema, TraceService } from '../../gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js';
import { RetryInfoSchema } from '../../gen/google/rpc/error_details_pb.js';
import { StatusSchema } from '../../gen/google/rpc/status_pb.js';
import { encodeJson } from '../../src/otlp/json.js';
import { createRegistry } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { grpcCodeForHttp, ofSignal, ReceiverClosedError, ReceiverTimeoutError, startReceiver } from './receiver.js';
import type { Receiver } from './receiver.js';

const test = suite('support/receiver');

const metrics = create(ExportMetricsServiceRequestSchema, {
  resourceMetrics: [
    {
      resource: { attributes: [{ key: 'service.name', value: { value: { case: 'stringValue', value: 'rx' } } }] },
      scopeMetrics: [
        {
          scope: { name: 'scope' },
          metrics: [
            {
              name: 'c',
              data: {
                case: 'sum',
                value: { isMonotonic: true, aggregationTemporality: 2, dataPoints: [{ timeUnixNano: 5n, value: { case: 'asInt', value: 7n } }] },
              },
            },
          ],
        },
      ],
    },
  ],
});
const traces = create(ExportTraceServiceRequestSchema, {
  resourceSpans: [{ scopeSpans: [{ spans: [{ name: 's', traceId: new Uint8Array(16).fill(1), spanId: new Uint8Array(8).fill(2) }] }] }],
});

function grpcClient(rx: Receiver, gzip = false) {
  const transport = createGrpcTransport({
    baseUrl: rx.grpcUrl,
    ...(gzip ? { sendCompression: compressionGzip } : {}),
    // connect skips compression below 1 KiB by default.
    compressMinBytes: 0,
  });
  return { metrics: createClient(MetricsService, transport), traces: createClient(TraceService, transport) };
}

function post(rx: Receiver, path: string, body: Uint8Array, headers: Record<string, string>): Promise<Response> {
  return fetch(`${rx.httpUrl}${path}`, { method: 'POST', body, headers, signal: AbortSignal.timeout(2000) });
}

async function withReceiver(fn: (rx: Receiver) => Promise<void>): Promise<void> {
  const rx = await startReceiver();
  try {
    await fn(rx);
  } finally {
    await rx.close();
  }
}

test('gRPC: records the decoded message, the exact bytes and the metadata', () =>
  withReceiver(async (rx) => {
    await grpcClient(rx).metrics.export(metrics, { headers: { 'x-tenant': 'a' } });
    const r = await rx.waitFor(ofSignal('metrics', 'grpc'));
    assert.is(r.protocol, 'grpc');
    assert.is(r.compressed, false);
    assert.equal(r.bytes, toBinary(ExportMetricsServiceRequestSchema, metrics));
    assert.equal(r.message, metrics);
    assert.is(r.headers['x-tenant'], 'a');
    assert.is(r.headers['content-type'], 'application/grpc+proto');
    assert.is(r.headers[':path'], undefined);
  }));

test('gRPC: gzip frames are decompressed; traces routed to the trace service', () =>
  withReceiver(async (rx) => {
    await grpcClient(rx, true).traces.export(traces);
    const r = await rx.waitFor(ofSignal('traces'));
    assert.is(r.compressed, true);
    assert.equal(r.bytes, toBinary(ExportTraceServiceRequestSchema, traces));
    assert.equal(r.message.resourceSpans[0]?.scopeSpans[0]?.spans[0]?.spanId, new Uint8Array(8).fill(2));
  }));

test('HTTP/protobuf: gzip body decoded, answered in protobuf', () =>
  withReceiver(async (rx) => {
    const bytes = toBinary(ExportMetricsServiceRequestSchema, metrics);
    const res = await post(rx, '/v1/metrics', gzipSync(bytes), {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'gzip',
      'x-key': 'k',
    });
    assert.is(res.status, 200);
    assert.is(res.headers.get('content-type'), 'application/x-protobuf');
    const answer = fromBinary(ExportMetricsServiceResponseSchema, new Uint8Array(await res.arrayBuffer()));
    assert.is(answer.partialSuccess, undefined);
    const r = rx.requests[0]!;
    assert.is(r.protocol, 'http/protobuf');
    assert.is(r.compressed, true);
    assert.equal(r.bytes, bytes);
    assert.equal(r.message, metrics);
    assert.is(r.headers['x-key'], 'k');
  }));

test('HTTP/JSON: decoded with our OTLP/JSON mapping (hex ids), answered in JSON', () =>
  withReceiver(async (rx) => {
    const body = encodeJson(ExportTraceServiceRequestSchema, traces);
    assert.ok(new TextDecoder().decode(body).includes('"01010101010101010101010101010101"'));
    const res = await post(rx, '/v1/traces', body, { 'content-type': 'application/json; charset=utf-8' });
    assert.is(res.status, 200);
    assert.is(res.headers.get('content-type'), 'application/json');
    assert.equal(JSON.parse(await res.text()), {});
    const r = await rx.waitFor(ofSignal('traces', 'http/json'));
    assert.equal(r.message, traces);
    assert.equal(r.bytes, body);
  }));

test('partial success in each protocol', () =>
  withReceiver(async (rx) => {
    rx.respondWith(() => ({ kind: 'partial', rejected: 3, message: 'dropped' }));
    const g = await grpcClient(rx).metrics.export(metrics);
    assert.is(g.partialSuccess?.rejectedDataPoints, 3n);
    assert.is(g.partialSuccess?.errorMessage, 'dropped');
    const logs = create(ExportLogsServiceRequestSchema, { resourceLogs: [{ scopeLogs: [{ logRecords: [{ severityText: 'x' }] }] }] });
    const p = await post(rx, '/v1/logs', toBinary(ExportLogsServiceRequestSchema, logs), { 'content-type': 'application/x-protobuf' });
    const pAnswer = fromBinary(ExportLogsServiceResponseSchema, new Uint8Array(await p.arrayBuffer()));
    assert.is(pAnswer.partialSuccess?.rejectedLogRecords, 3n);
    const j = await post(rx, '/v1/logs', encodeJson(ExportLogsServiceRequestSchema, logs), { 'content-type': 'application/json' });
    const jAnswer = fromJsonString(ExportLogsServiceResponseSchema, await j.text());
    assert.is(jAnswer.partialSuccess?.rejectedLogRecords, 3n);
    assert.is(jAnswer.partialSuccess?.errorMessage, 'dropped');
    assert.equal(
      rx.requests.map((r) => `${r.signal} ${r.protocol}`),
      ['metrics grpc', 'logs http/protobuf', 'logs http/json'],
    );
  }));

test('error replies: HTTP status, Retry-After and Status body; gRPC code with RetryInfo', () =>
  withReceiver(async (rx) => {
    rx.respondWith((_, i) =>
      i === 0
        ? { kind: 'error', httpStatus: 429, retryAfter: '7', retryDelayMs: 1500, message: 'slow down' }
        : { kind: 'error', grpcCode: Code.ResourceExhausted, retryDelayMs: 2250, message: 'later' },
    );
    const res = await post(rx, '/v1/metrics', encodeJson(ExportMetricsServiceRequestSchema, metrics), { 'content-type': 'application/json' });
    assert.is(res.status, 429);
    assert.is(res.headers.get('retry-after'), '7');
    const status = fromJsonString(StatusSchema, await res.text(), { registry: createRegistry(RetryInfoSchema) });
    assert.is(status.code, Code.ResourceExhausted);
    assert.is(status.message, 'slow down');
    const info = anyUnpack(status.details[0]!, RetryInfoSchema);
    assert.is(info?.retryDelay?.seconds, 1n);
    assert.is(info?.retryDelay?.nanos, 500_000_000);
    try {
      await grpcClient(rx).metrics.export(metrics);
      assert.unreachable('expected an error');
    } catch (e) {
      const err = ConnectError.from(e);
      assert.is(err.code, Code.ResourceExhausted);
      assert.is(err.rawMessage, 'later');
      assert.is(err.findDetails(RetryInfoSchema)[0]?.retryDelay?.nanos, 250_000_000);
      assert.is(err.findDetails(RetryInfoSchema)[0]?.retryDelay?.seconds, 2n);
    }
  }));

test('a responder that throws answers HTTP 500 / gRPC INTERNAL; httpStatus alone picks the gRPC code', () =>
  withReceiver(async (rx) => {
    rx.respondWith(() => {
      throw new Error('boom');
    });
    const res = await post(rx, '/v1/metrics', toBinary(ExportMetricsServiceRequestSchema, metrics), {
      'content-type': 'application/x-protobuf',
    });
    assert.is(res.status, 500);
    assert.match(fromBinary(StatusSchema, new Uint8Array(await res.arrayBuffer())).message, /boom/);
    const internal = await grpcClient(rx)
      .metrics.export(metrics)
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    assert.is(internal?.code, Code.Internal);
    rx.respondWith(() => ({ kind: 'error', httpStatus: 400 }));
    const invalid = await grpcClient(rx)
      .metrics.export(metrics)
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    assert.is(invalid?.code, Code.InvalidArgument);
  }));

test('grpcCodeForHttp table', () => {
  const rows: Array<[number, Code]> = [
    [400, Code.InvalidArgument],
    [401, Code.Unauthenticated],
    [403, Code.PermissionDenied],
    [404, Code.Unimplemented],
    [408, Code.DeadlineExceeded],
    [429, Code.ResourceExhausted],
    [500, Code.Internal],
    [502, Code.Unavailable],
    [503, Code.Unavailable],
    [504, Code.DeadlineExceeded],
    [418, Code.Unknown],
  ];
  for (const [status, code] of rows) assert.is(grpcCodeForHttp(status), code, String(status));
});

test('delay holds the answer; reset drops HTTP and gRPC connections', () =>
  withReceiver(async (rx) => {
    rx.respondWith(() => ({ kind: 'ok', delayMs: 150 }));
    const t0 = performance.now();
    await grpcClient(rx).metrics.export(metrics);
    assert.ok(performance.now() - t0 >= 140, 'delayed');
    rx.respondWith(() => ({ kind: 'reset' }));
    const httpErr = await post(rx, '/v1/metrics', toBinary(ExportMetricsServiceRequestSchema, metrics), {
      'content-type': 'application/x-protobuf',
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.instance(httpErr, TypeError, 'fetch failed');
    const grpcErr = await grpcClient(rx)
      .metrics.export(metrics)
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    assert.ok(grpcErr !== undefined && /ECONNRESET/.test(grpcErr.message), String(grpcErr));
    assert.is(rx.requests.length, 3, 'reset requests are still recorded');
  }));

test('stall: the client deadline ends it; close() ends the rest promptly', async () => {
  const rx = await startReceiver({ respond: () => ({ kind: 'stall' }) });
  const client = grpcClient(rx).metrics;
  const err = await client.export(metrics, { timeoutMs: 100 }).then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
  assert.is(err?.code, Code.DeadlineExceeded);
  const pendingGrpc = client.export(metrics).then(
    () => 'answered',
    () => 'failed',
  );
  const pendingHttp = post(rx, '/v1/metrics', toBinary(ExportMetricsServiceRequestSchema, metrics), {
    'content-type': 'application/x-protobuf',
  }).then(
    () => 'answered',
    () => 'failed',
  );
  await rx.waitFor((_, i) => i === 2);
  const waiting = rx
    .waitFor(() => false, 5000)
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  const t0 = performance.now();
  await rx.close();
  assert.ok(performance.now() - t0 < 1000, 'close is prompt');
  assert.is(await pendingGrpc, 'failed');
  assert.is(await pendingHttp, 'failed');
  assert.instance(await waiting, ReceiverClosedError);
});

test('waitFor: matches earlier requests, times out with a typed error', () =>
  withReceiver(async (rx) => {
    await grpcClient(rx).metrics.export(metrics);
    const r = await rx.waitFor((x) => x.signal === 'metrics', 100);
    assert.is(r.signal, 'metrics');
    const t0 = performance.now();
    const e = await rx.waitFor(ofSignal('logs'), 80).then(
      () => undefined,
      (x: unknown) => x,
    );
    assert.instance(e, ReceiverTimeoutError);
    assert.is((e as ReceiverTimeoutError).seen, 1);
    assert.ok(performance.now() - t0 >= 75);
    rx.clear();
    assert.is(rx.requests.length, 0);
  }));

test('refusals: unknown path, wrong method, content type, undecodable bodies', () =>
  withReceiver(async (rx) => {
    const pb = { 'content-type': 'application/x-protobuf' };
    assert.is((await post(rx, '/v1/profiles', new Uint8Array(), pb)).status, 404);
    assert.is((await fetch(rx.httpEndpoint('metrics'), { signal: AbortSignal.timeout(2000) })).status, 405);
    assert.is((await post(rx, '/v1/metrics', new Uint8Array(), { 'content-type': 'text/plain' })).status, 415);
    const bad = await post(rx, '/v1/metrics', new Uint8Array([0x0a, 0x05, 0x01]), pb);
    assert.is(bad.status, 400);
    const status = fromBinary(StatusSchema, new Uint8Array(await bad.arrayBuffer()));
    assert.is(status.code, Code.InvalidArgument);
    assert.match(status.message, /undecodable http\/protobuf/);
    const badJson = await post(rx, '/v1/metrics', new TextEncoder().encode('{"resourceMetrics": ['), {
      'content-type': 'application/json',
    });
    assert.is(badJson.status, 400);
    assert.match(JSON.parse(await badJson.text()).message, /OTLP\/JSON/);
    const badGzip = await post(rx, '/v1/metrics', new Uint8Array([1, 2, 3]), { ...pb, 'content-encoding': 'gzip' });
    assert.is(badGzip.status, 400);
    assert.equal(
      rx.rejections.map((r) => r.status),
      [404, 405, 415, 400, 400, 400],
    );
    assert.is(rx.requests.length, 0);
  }));

test('body limit: 413 before buffering', async () => {
  const rx = await startReceiver({ maxBodyBytes: 1024, grpc: false });
  try {
    assert.is(rx.grpcUrl, '');
    const res = await post(rx, '/v1/logs', new Uint8Array(4096), { 'content-type': 'application/x-protobuf' });
    assert.is(res.status, 413);
    assert.is(rx.rejections[0]?.status, 413);
  } finally {
    await rx.close();
  }
});

test('IPv6 loopback', async () => {
  const rx = await startReceiver({ host: '::1' });
  try {
    assert.match(rx.grpcUrl, /^http:\/\/\[::1\]:\d+$/);
    await grpcClient(rx).metrics.export(metrics);
    const res = await post(rx, '/v1/metrics', toBinary(ExportMetricsServiceRequestSchema, metrics), { 'content-type': 'application/x-protobuf' });
    assert.is(res.status, 200);
    assert.is(rx.requests.length, 2);
  } finally {
    await rx.close();
  }
});

test.run();
