import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { create, toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import type { ConnectRouter, HandlerContext } from '@connectrpc/connect';
import {
  ExportMetricsServiceRequestSchema,
  ExportMetricsServiceResponseSchema,
  MetricsService,
} from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import type { ExportMetricsServiceRequest } from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import {
  ExportLogsServiceRequestSchema,
  ExportLogsServiceResponseSchema,
  LogsService,
} from '../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import { ExportTraceServiceResponseSchema, TraceService } from '../../gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js';
import { RetryInfoSchema } from '../../gen/google/rpc/error_details_pb.js';
import { createOtlpGrpcTransport } from '../../src/transport/grpc.js';
import type { ExportResult } from '../../src/transport/types.js';
import {
  closedPort,
  grpcEnvelope,
  grpcRespond,
  sleep,
  startConnectServer,
  startRawGrpcServer,
  tls,
  trackUnhandledRejections,
  runUnhandledRejectionCheck,
} from './servers.js';

const unhandled = trackUnhandledRejections();

function metricsBody(points = 3): Uint8Array {
  return toBinary(
    ExportMetricsServiceRequestSchema,
    create(ExportMetricsServiceRequestSchema, {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { value: { case: 'stringValue', value: 'grpc-test' } } }] },
          scopeMetrics: [
            {
              scope: { name: 's' },
              metrics: [
                {
                  name: 'm',
                  data: {
                    case: 'gauge',
                    value: {
                      dataPoints: Array.from({ length: points }, (_, i) => ({
                        timeUnixNano: 1_700_000_000_000_000_000n + BigInt(i),
                        value: { case: 'asInt' as const, value: BigInt(i) },
                      })),
                    },
                  },
                },
              ],
            },
          ],
        },
        { schemaUrl: 'https://second-resource' },
      ],
    }),
  );
}

type MetricsHandler = (req: ExportMetricsServiceRequest, ctx: HandlerContext) => Promise<unknown> | unknown;

/** Routes all three services; metrics uses `onMetrics`, the others answer ok. */
function routes(onMetrics: MetricsHandler) {
  return (router: ConnectRouter) => {
    router.service(MetricsService, {
      async export(req, ctx) {
        const out = await onMetrics(req, ctx);
        return (out as ReturnType<typeof create<typeof ExportMetricsServiceResponseSchema>>) ?? create(ExportMetricsServiceResponseSchema);
      },
    });
    router.service(LogsService, {
      export: () => create(ExportLogsServiceResponseSchema, { partialSuccess: { rejectedLogRecords: 2n, errorMessage: 'two logs dropped' } }),
    });
    router.service(TraceService, { export: () => create(ExportTraceServiceResponseSchema) });
  };
}

function assertFailed(r: ExportResult, code: string, retryable: boolean): Extract<ExportResult, { kind: 'failed' }> {
  assert.is(r.kind, 'failed', JSON.stringify(r));
  if (r.kind !== 'failed') throw new Error('unreachable');
  assert.is(r.error.code, code, r.error.message);
  assert.is(r.retryable, retryable, r.error.message);
  return r;
}

const ok = suite('transport/grpc outcomes');

ok('ok, headers as metadata, one connection for all signals', async () => {
  let seen: ExportMetricsServiceRequest | undefined;
  let apiKey: string | null = null;
  let ua: string | null = null;
  const server = await startConnectServer(
    routes((req, ctx) => {
      seen = req;
      apiKey = ctx.requestHeader.get('x-api-key');
      ua = ctx.requestHeader.get('user-agent');
    }),
  );
  const t = createOtlpGrpcTransport({ endpoint: server.url, headers: { 'X-Api-Key': 'secret' } });
  try {
    const body = metricsBody();
    assert.equal(await t.export('metrics', body), { kind: 'ok' });
    assert.equal(await t.export('traces', new Uint8Array(0)), { kind: 'ok' });
    assert.is(apiKey, 'secret');
    assert.ok(ua !== null && String(ua).startsWith('otlp-fanout-js/'), String(ua));
    assert.equal(toBinary(ExportMetricsServiceRequestSchema, seen!), body);
    assert.is(seen!.resourceMetrics.length, 2);
    assert.is(server.sessionCount(), 1);
    assert.is(t.encoding, 'protobuf');
  } finally {
    await t.close();
    await server.close();
  }
});

ok('partial success is read from the response (logs), a warning with 0 rejected too (metrics)', async () => {
  const server = await startConnectServer(
    routes(() => create(ExportMetricsServiceResponseSchema, { partialSuccess: { rejectedDataPoints: 0n, errorMessage: 'deprecated unit' } })),
  );
  const t = createOtlpGrpcTransport({ endpoint: server.url });
  try {
    const logs = toBinary(ExportLogsServiceRequestSchema, create(ExportLogsServiceRequestSchema, { resourceLogs: [{}] }));
    assert.equal(await t.export('logs', logs), { kind: 'partial', rejected: 2, message: 'two logs dropped' });
    assert.equal(await t.export('metrics', metricsBody()), { kind: 'partial', rejected: 0, message: 'deprecated unit' });
  } finally {
    await t.close();
    await server.close();
  }
});

ok('the server receives exactly the bytes given, plain and gzip', async () => {
  const server = await startRawGrpcServer((_call, stream) =>
    grpcRespond(stream, toBinary(ExportMetricsServiceResponseSchema, create(ExportMetricsServiceResponseSchema))),
  );
  const plain = createOtlpGrpcTransport({ endpoint: server.url });
  const gzip = createOtlpGrpcTransport({ endpoint: server.url, compression: 'gzip' });
  try {
    // Field order and an unknown field (99) that a decode/re-encode would move or drop.
    const extra = Uint8Array.from([0x9a, 0x06, 0x03, 0x61, 0x62, 0x63]);
    const body = new Uint8Array([...metricsBody(50), ...extra, ...metricsBody(1)]);
    assert.equal(await plain.export('metrics', body), { kind: 'ok' });
    assert.equal(await gzip.export('metrics', body), { kind: 'ok' });
    assert.is(server.calls.length, 2);
    assert.is(server.calls[0]!.path, '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export');
    assert.equal(server.calls[0]!.message, body);
    assert.is(server.calls[0]!.compressed, false);
    assert.equal(server.calls[1]!.message, body);
    assert.is(server.calls[1]!.compressed, true);
    assert.is(server.calls[1]!.headers['grpc-encoding'], 'gzip');
    // The caller's bytes are untouched.
    assert.equal(body.subarray(body.length - extra.length - metricsBody(1).length, body.length - metricsBody(1).length), extra);
  } finally {
    await plain.close();
    await gzip.close();
    await server.close();
  }
});

ok('gzip request bodies decode at a connect server', async () => {
  let points = 0;
  const server = await startConnectServer(
    routes((req) => {
      const m = req.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!;
      if (m.data.case === 'gauge') points = m.data.value.dataPoints.length;
    }),
  );
  const t = createOtlpGrpcTransport({ endpoint: server.url, compression: 'gzip' });
  try {
    assert.equal(await t.export('metrics', metricsBody(500)), { kind: 'ok' });
    assert.is(points, 500);
  } finally {
    await t.close();
    await server.close();
  }
});

ok('large and concurrent bodies arrive whole, each at its own call; no internal header on the wire', async () => {
  const server = await startRawGrpcServer((_call, stream) =>
    grpcRespond(stream, toBinary(ExportMetricsServiceResponseSchema, create(ExportMetricsServiceResponseSchema))),
  );
  const plain = createOtlpGrpcTransport({ endpoint: server.url });
  const gzip = createOtlpGrpcTransport({ endpoint: server.url, compression: 'gzip' });
  try {
    // Above the 16 KiB join threshold (prefix and body written separately) and below it.
    const bodies = [metricsBody(4000), metricsBody(2), metricsBody(3000), metricsBody(1)];
    assert.ok(bodies[0]!.length > 16 * 1024 && bodies[1]!.length < 16 * 1024);
    const results = await Promise.all([...bodies.map((b) => plain.export('metrics', b)), ...bodies.map((b) => gzip.export('metrics', b))]);
    for (const r of results) assert.equal(r, { kind: 'ok' });
    assert.is(server.calls.length, 8);
    const seen = server.calls.map((c) => `${c.compressed ? 'gz' : 'id'}:${Buffer.from(c.message).toString('base64')}`).sort();
    const expected = [
      ...bodies.map((b) => `id:${Buffer.from(b).toString('base64')}`),
      ...bodies.map((b) => `gz:${Buffer.from(b).toString('base64')}`),
    ].sort();
    assert.equal(seen, expected);
    for (const c of server.calls)
      assert.is(
        Object.keys(c.headers).some((h) => h.startsWith('x-otlp-fanout')),
        false,
      );
  } finally {
    await plain.close();
    await gzip.close();
    await server.close();
  }
});

ok.run();

const failures = suite('transport/grpc failures');

failures('UNAVAILABLE is retryable, with a RetryInfo delay when sent', async () => {
  let withInfo = false;
  const server = await startConnectServer(
    routes(() => {
      if (!withInfo) throw new ConnectError('server is restarting', Code.Unavailable);
      throw new ConnectError('back off', Code.Unavailable, undefined, [
        { desc: RetryInfoSchema, value: { retryDelay: { seconds: 1n, nanos: 500_000_000 } } },
      ]);
    }),
  );
  const t = createOtlpGrpcTransport({ endpoint: server.url });
  try {
    const a = assertFailed(await t.export('metrics', metricsBody()), 'unavailable', true);
    assert.is(a.retryAfterMs, undefined);
    assert.is(a.error.status, Code.Unavailable);
    assert.ok(a.error.message.includes('server is restarting'), a.error.message);
    withInfo = true;
    const b = assertFailed(await t.export('metrics', metricsBody()), 'unavailable', true);
    assert.is(b.retryAfterMs, 1500);
  } finally {
    await t.close();
    await server.close();
  }
});

failures('RESOURCE_EXHAUSTED is retryable only with RetryInfo', async () => {
  let withInfo = false;
  const server = await startConnectServer(
    routes(() => {
      throw new ConnectError(
        'quota',
        Code.ResourceExhausted,
        undefined,
        withInfo ? [{ desc: RetryInfoSchema, value: { retryDelay: { seconds: 2n } } }] : [],
      );
    }),
  );
  const t = createOtlpGrpcTransport({ endpoint: server.url });
  try {
    const a = assertFailed(await t.export('metrics', metricsBody()), 'throttled', false);
    assert.is(a.retryAfterMs, undefined);
    withInfo = true;
    const b = assertFailed(await t.export('metrics', metricsBody()), 'throttled', true);
    assert.is(b.retryAfterMs, 2000);
  } finally {
    await t.close();
    await server.close();
  }
});

failures('INVALID_ARGUMENT and other codes follow the OTLP table; the server message is kept', async () => {
  const table: Array<[Code, boolean]> = [
    [Code.InvalidArgument, false],
    [Code.Unauthenticated, false],
    [Code.PermissionDenied, false],
    [Code.Internal, false],
    [Code.Unimplemented, false],
    [Code.Unknown, false],
    [Code.Aborted, true],
    [Code.OutOfRange, true],
    [Code.DataLoss, true],
    [Code.Canceled, true],
    [Code.DeadlineExceeded, true],
  ];
  let next = Code.InvalidArgument;
  const server = await startConnectServer(
    routes(() => {
      throw new ConnectError(`bad thing ${next}`, next);
    }),
  );
  const t = createOtlpGrpcTransport({ endpoint: server.url });
  try {
    for (const [code, retryable] of table) {
      next = code;
      const r = await t.export('metrics', metricsBody());
      assert.is(r.kind, 'failed');
      if (r.kind !== 'failed') continue;
      assert.is(r.retryable, retryable, `code ${code}`);
      assert.is(r.error.status, code);
      assert.ok(r.error.message.includes(`bad thing ${code}`), r.error.message);
      if (code === Code.InvalidArgument) {
        assert.is(r.error.code, 'rejected');
        assert.ok(r.error.message.startsWith('INVALID_ARGUMENT'), r.error.message);
      }
    }
  } finally {
    await t.close();
    await server.close();
  }
});

failures('a stalled server ends in deadline_exceeded within the timeout', async () => {
  const server = await startConnectServer(
    routes(
      (_req, ctx) =>
        new Promise((resolve) => {
          // Answers only when the client gives up, so the server never hangs the test.
          ctx.signal.addEventListener('abort', () => resolve(undefined));
        }),
    ),
  );
  const t = createOtlpGrpcTransport({ endpoint: server.url, timeoutMillis: 300 });
  const patient = createOtlpGrpcTransport({ endpoint: server.url, timeoutMillis: 10_000 });
  try {
    const start = Date.now();
    const r = assertFailed(await t.export('metrics', metricsBody()), 'deadline_exceeded', true);
    const took = Date.now() - start;
    assert.ok(took >= 250 && took < 2000, `took ${took} ms`);
    assert.ok(r.error.message.includes('300 ms') || r.error.message.includes('DEADLINE_EXCEEDED'), r.error.message);
    // A per-call deadline shorter than the timeout wins.
    const start2 = Date.now();
    assertFailed(await patient.export('metrics', metricsBody(), { deadline: Date.now() + 100 }), 'deadline_exceeded', true);
    assert.ok(Date.now() - start2 < 5000, `took ${Date.now() - start2} ms`);
    // A deadline already past: nothing is sent.
    assertFailed(await patient.export('metrics', metricsBody(), { deadline: Date.now() - 1 }), 'deadline_exceeded', true);
  } finally {
    await t.close();
    await patient.close();
    await server.close();
  }
});

failures('abort via AbortSignal: not retryable, settles promptly', async () => {
  const server = await startConnectServer(
    routes((_req, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(undefined)))),
  );
  const t = createOtlpGrpcTransport({ endpoint: server.url, timeoutMillis: 5000 });
  try {
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('shutting down')), 50);
    const start = Date.now();
    assertFailed(await t.export('metrics', metricsBody(), { signal: ac.signal }), 'aborted', false);
    assert.ok(Date.now() - start < 1000);
    // Already aborted: nothing is sent.
    assertFailed(await t.export('metrics', metricsBody(), { signal: AbortSignal.abort() }), 'aborted', false);
  } finally {
    await t.close();
    await server.close();
  }
});

failures('connection refused is retryable unavailable', async () => {
  const port = await closedPort();
  const t = createOtlpGrpcTransport({ endpoint: `http://127.0.0.1:${port}`, timeoutMillis: 2000 });
  try {
    const r = assertFailed(await t.export('metrics', metricsBody()), 'unavailable', true);
    assert.ok(r.error.message.includes('ECONNREFUSED'), r.error.message);
  } finally {
    await t.close();
  }
});

failures('connection reset mid-response is retryable', async () => {
  const server = await startRawGrpcServer((_call, stream) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    // Half an envelope, then the connection goes away.
    stream.write(grpcEnvelope(new Uint8Array(100)).subarray(0, 20), () => stream.session?.destroy());
  });
  const t = createOtlpGrpcTransport({ endpoint: server.url, timeoutMillis: 2000 });
  try {
    const r = await t.export('metrics', metricsBody());
    assert.is(r.kind, 'failed');
    if (r.kind === 'failed') {
      assert.is(r.retryable, true, r.error.message);
      assert.ok(r.error.code === 'unavailable', r.error.code);
    }
  } finally {
    await t.close();
    await server.close();
  }
});

failures('oversize response → bad_response without reading it', async () => {
  let written = 0;
  const server = await startRawGrpcServer((_call, stream) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    const head = Buffer.alloc(5);
    head.writeUInt32BE(50 * 1024 * 1024, 1);
    stream.write(head);
    // Streams up to 50 MiB while the client keeps the stream open.
    const chunk = Buffer.alloc(64 * 1024);
    const pump = (): void => {
      while (!stream.destroyed && written < 50 * 1024 * 1024) {
        written += chunk.length;
        if (!stream.write(chunk)) {
          stream.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
  const t = createOtlpGrpcTransport({ endpoint: server.url, maxResponseBytes: 1024, timeoutMillis: 5000 });
  try {
    const r = assertFailed(await t.export('metrics', metricsBody()), 'bad_response', false);
    assert.ok(r.error.message.includes('too large'), r.error.message);
    await sleep(50);
    assert.ok(written < 10 * 1024 * 1024, `server wrote ${written} bytes`);
  } finally {
    await t.close();
    await server.close();
  }
});

failures('oversize request is never sent', async () => {
  const server = await startRawGrpcServer((_call, stream) => grpcRespond(stream, new Uint8Array(0)));
  const t = createOtlpGrpcTransport({ endpoint: server.url, maxRequestBytes: 100 });
  try {
    const r = assertFailed(await t.export('metrics', metricsBody(20)), 'too_large', false);
    assert.ok(r.error.message.includes('maxRequestBytes 100'));
    assert.is(server.calls.length, 0);
  } finally {
    await t.close();
    await server.close();
  }
});

failures('bad input from JavaScript callers fails as a value, nothing sent', async () => {
  const server = await startRawGrpcServer((_call, stream) => grpcRespond(stream, new Uint8Array(0)));
  const t = createOtlpGrpcTransport({ endpoint: server.url });
  try {
    assertFailed(await t.export('profiles' as never, metricsBody()), 'internal', false);
    assertFailed(await t.export('metrics', [1, 2] as never), 'internal', false);
    // Not protobuf at all (field number 0).
    assertFailed(await t.export('metrics', Uint8Array.from([0x07, 0x01])), 'internal', false);
    assert.is(server.calls.length, 0);
  } finally {
    await t.close();
    await server.close();
  }
});

failures('after close(), exports fail without a connection attempt', async () => {
  const server = await startRawGrpcServer((_call, stream) => grpcRespond(stream, new Uint8Array(0)));
  const t = createOtlpGrpcTransport({ endpoint: server.url });
  assert.equal(await t.export('metrics', metricsBody()), { kind: 'ok' });
  await t.close();
  assertFailed(await t.export('metrics', metricsBody()), 'unavailable', false);
  assert.is(server.calls.length, 1);
  await server.close();
});

failures('close() lets an in-flight call finish', async () => {
  const server = await startConnectServer(routes(async () => sleep(150)));
  const t = createOtlpGrpcTransport({ endpoint: server.url });
  try {
    const pending = t.export('metrics', metricsBody());
    await sleep(30);
    await t.close();
    assert.equal(await pending, { kind: 'ok' });
  } finally {
    await server.close();
  }
});

failures("a server's own DEADLINE_EXCEEDED before our deadline is the server's status", async () => {
  const server = await startConnectServer(
    routes(() => {
      throw new ConnectError('upstream too slow', Code.DeadlineExceeded);
    }),
  );
  const t = createOtlpGrpcTransport({ endpoint: server.url, timeoutMillis: 5000 });
  try {
    const r = assertFailed(await t.export('metrics', metricsBody()), 'deadline_exceeded', true);
    assert.ok(r.error.message.includes('upstream too slow'), r.error.message);
    assert.not.ok(r.error.message.includes('5000 ms'), r.error.message);
  } finally {
    await t.close();
    await server.close();
  }
});

failures.run();

const secure = suite('transport/grpc TLS');

secure('mTLS with a custom CA and client certificate', async () => {
  let requests = 0;
  const server = await startConnectServer(
    routes(() => {
      requests++;
    }),
    { tls: true },
  );
  const t = createOtlpGrpcTransport({
    endpoint: server.url,
    tls: { ca: tls.ca, cert: tls.clientCert, key: Buffer.from(tls.clientKey) },
  });
  // Scheme-less endpoint: insecure=false (the default) means TLS.
  const schemeless = createOtlpGrpcTransport({
    endpoint: `localhost:${server.port}`,
    tls: { ca: [tls.ca], cert: tls.clientCert, key: tls.clientKey },
  });
  try {
    assert.equal(await t.export('metrics', metricsBody()), { kind: 'ok' });
    assert.equal(await schemeless.export('metrics', metricsBody()), { kind: 'ok' });
    assert.is(requests, 2);
  } finally {
    await t.close();
    await schemeless.close();
    await server.close();
  }
});

secure('an untrusted server certificate fails, not retryable', async () => {
  const server = await startConnectServer(
    routes(() => undefined),
    { tls: true },
  );
  const t = createOtlpGrpcTransport({ endpoint: server.url, tls: { cert: tls.clientCert, key: tls.clientKey }, timeoutMillis: 2000 });
  try {
    const r = assertFailed(await t.export('metrics', metricsBody()), 'unavailable', false);
    assert.ok(r.error.message.includes('TLS'), r.error.message);
  } finally {
    await t.close();
    await server.close();
  }
});

secure('no client certificate against an mTLS server fails', async () => {
  const server = await startConnectServer(
    routes(() => undefined),
    { tls: true },
  );
  const t = createOtlpGrpcTransport({ endpoint: server.url, tls: { ca: tls.ca }, timeoutMillis: 2000 });
  try {
    const r = await t.export('metrics', metricsBody());
    assert.is(r.kind, 'failed');
    if (r.kind === 'failed') assert.is(r.error.code, 'unavailable', r.error.message);
  } finally {
    await t.close();
    await server.close();
  }
});

secure('insecure: true makes a scheme-less endpoint plaintext (h2c)', async () => {
  const server = await startRawGrpcServer((_call, stream) => grpcRespond(stream, new Uint8Array(0)));
  const t = createOtlpGrpcTransport({ endpoint: `127.0.0.1:${server.port}`, tls: { insecure: true } });
  try {
    assert.equal(await t.export('metrics', metricsBody()), { kind: 'ok' });
    assert.is(server.calls.length, 1);
  } finally {
    await t.close();
    await server.close();
  }
});

secure.run();

runUnhandledRejectionCheck('transport/grpc', unhandled);
