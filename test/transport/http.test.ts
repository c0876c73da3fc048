import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { gzipSync } from 'node:zlib';
import { create, toBinary } from '@bufbuild/protobuf';
import {
  ExportMetricsServiceRequestSchema,
  ExportMetricsServiceResponseSchema,
} from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { ExportLogsServiceRequestSchema } from '../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import { StatusSchema } from '../../gen/google/rpc/status_pb.js';
import { decodeJson, encodeJson } from '../../src/otlp/json.js';
import { createOtlpHttpTransport } from '../../src/transport/http.js';
import { protobufToJsonBody } from '../../src/transport/json-body.js';
import type { ExportResult } from '../../src/transport/types.js';
import { closedPort, sleep, startHttpServer, tls, trackUnhandledRejections, runUnhandledRejectionCheck } from './servers.js';
import type { SeenRequest } from './servers.js';
import type * as http from 'node:http';

const unhandled = trackUnhandledRejections();

const TRACE_ID = Uint8Array.from({ length: 16 }, (_, i) => i + 1);

function metricsBody(points = 3): Uint8Array {
  return toBinary(
    ExportMetricsServiceRequestSchema,
    create(ExportMetricsServiceRequestSchema, {
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'm',
                  data: {
                    case: 'sum',
                    value: {
                      aggregationTemporality: 2,
                      dataPoints: Array.from({ length: points }, (_, i) => ({
                        timeUnixNano: BigInt(i + 1),
                        value: { case: 'asDouble' as const, value: i / 2 },
                        exemplars: [{ traceId: TRACE_ID, spanId: TRACE_ID.subarray(0, 8), value: { case: 'asInt' as const, value: 1n } }],
                      })),
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

const okProto = (_req: SeenRequest, res: http.ServerResponse) => {
  res.writeHead(200, { 'content-type': 'application/x-protobuf' });
  res.end(toBinary(ExportMetricsServiceResponseSchema, create(ExportMetricsServiceResponseSchema)));
};

function assertFailed(r: ExportResult, code: string, retryable: boolean): Extract<ExportResult, { kind: 'failed' }> {
  assert.is(r.kind, 'failed', JSON.stringify(r));
  if (r.kind !== 'failed') throw new Error('unreachable');
  assert.is(r.error.code, code, r.error.message);
  assert.is(r.retryable, retryable, r.error.message);
  return r;
}

const outcomes = suite('transport/http outcomes');

outcomes('protobuf: POST {endpoint}/v1/{signal}, exact bytes, headers, keep-alive', async () => {
  const server = await startHttpServer(okProto);
  const t = createOtlpHttpTransport({ endpoint: `${server.url}/prefix/`, headers: { 'X-Tenant': 'a', authorization: 'Bearer t' } });
  try {
    const body = metricsBody();
    assert.equal(await t.export('metrics', body), { kind: 'ok' });
    assert.equal(await t.export('logs', new Uint8Array(0)), { kind: 'ok' });
    const [a, b] = server.requests;
    assert.is(a!.method, 'POST');
    assert.is(a!.path, '/prefix/v1/metrics');
    assert.is(b!.path, '/prefix/v1/logs');
    assert.equal(a!.raw, body);
    assert.is(a!.headers['content-type'], 'application/x-protobuf');
    assert.is(a!.headers['content-encoding'], undefined);
    assert.is(a!.headers['x-tenant'], 'a');
    assert.is(a!.headers.authorization, 'Bearer t');
    assert.ok(String(a!.headers['user-agent']).startsWith('otlp-fanout-js/'));
    assert.is(a!.headers.connection, 'keep-alive');
    // Later requests reuse the connection once it is back in the pool.
    for (let i = 0; i < 3; i++) {
      await sleep(10);
      assert.equal(await t.export('metrics', body), { kind: 'ok' });
    }
    const ports = new Set(server.requests.slice(2).map((r) => r.remotePort));
    assert.is(ports.size, 1, [...ports].join(','));
    assert.ok(ports.has(a!.remotePort) || ports.has(b!.remotePort));
    assert.is(t.encoding, 'protobuf');
  } finally {
    await t.close();
    await server.close();
  }
});

outcomes('signalEndpoints are used as given', async () => {
  const server = await startHttpServer(okProto);
  const t = createOtlpHttpTransport({ endpoint: 'http://127.0.0.1:1', signalEndpoints: { metrics: `${server.url}/custom/path?x=1` } });
  try {
    assert.equal(await t.export('metrics', metricsBody()), { kind: 'ok' });
    assert.is(server.requests[0]!.path, '/custom/path?x=1');
  } finally {
    await t.close();
    await server.close();
  }
});

outcomes('gzip request bodies: Content-Encoding set, the server decodes the same bytes', async () => {
  const server = await startHttpServer(okProto);
  const t = createOtlpHttpTransport({ endpoint: server.url, compression: 'gzip' });
  try {
    const body = metricsBody(200);
    assert.equal(await t.export('metrics', body), { kind: 'ok' });
    assert.equal(await t.export('metrics', body), { kind: 'ok' });
    const req = server.requests[0]!;
    assert.is(req.headers['content-encoding'], 'gzip');
    assert.ok(req.raw.length < body.length / 2, `${req.raw.length} vs ${body.length}`);
    assert.equal(req.body, body);
    assert.equal(server.requests[1]!.body, body);
  } finally {
    await t.close();
    await server.close();
  }
});

outcomes('partial success: protobuf response', async () => {
  const server = await startHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-protobuf' });
    res.end(
      toBinary(
        ExportMetricsServiceResponseSchema,
        create(ExportMetricsServiceResponseSchema, { partialSuccess: { rejectedDataPoints: 7n, errorMessage: 'NaN values dropped' } }),
      ),
    );
  });
  const t = createOtlpHttpTransport({ endpoint: server.url });
  try {
    assert.equal(await t.export('metrics', metricsBody()), { kind: 'partial', rejected: 7, message: 'NaN values dropped' });
  } finally {
    await t.close();
    await server.close();
  }
});

outcomes('JSON encoding: application/json body as given, JSON partial success (gzip response too)', async () => {
  let gzipResponse = false;
  const server = await startHttpServer((req, res) => {
    const request = decodeJson(ExportLogsServiceRequestSchema, req.body);
    const rejected = request.resourceLogs.length;
    const payload = Buffer.from(JSON.stringify({ partialSuccess: { rejectedLogRecords: String(rejected), errorMessage: 'too old' } }));
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', ...(gzipResponse && { 'content-encoding': 'gzip' }) });
    res.end(gzipResponse ? gzipSync(payload) : payload);
  });
  const t = createOtlpHttpTransport({ endpoint: server.url, encoding: 'json' });
  try {
    assert.is(t.encoding, 'json');
    const body = encodeJson(ExportLogsServiceRequestSchema, create(ExportLogsServiceRequestSchema, { resourceLogs: [{}, {}] }));
    assert.equal(await t.export('logs', body), { kind: 'partial', rejected: 2, message: 'too old' });
    assert.is(server.requests[0]!.headers['content-type'], 'application/json');
    assert.equal(server.requests[0]!.raw, body);
    gzipResponse = true;
    assert.equal(await t.export('logs', body), { kind: 'partial', rejected: 2, message: 'too old' });
  } finally {
    await t.close();
    await server.close();
  }
});

outcomes('protobufToJsonBody turns protobuf bytes into OTLP/JSON with hex ids', async () => {
  const json = protobufToJsonBody('metrics', metricsBody(1));
  const text = new TextDecoder().decode(json);
  assert.ok(text.includes('"traceId":"0102030405060708090a0b0c0d0e0f10"'), text);
  assert.ok(text.includes('"aggregationTemporality":2'), text);
  const back = decodeJson(ExportMetricsServiceRequestSchema, json);
  assert.equal(toBinary(ExportMetricsServiceRequestSchema, back), metricsBody(1));
});

outcomes('empty or bodiless 200 is ok; an undecodable 200 body is bad_response, not retried', async () => {
  let mode: 'empty' | 'garbage' = 'empty';
  const server = await startHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-protobuf' });
    res.end(mode === 'empty' ? undefined : Buffer.from([0xff, 0xff, 0xff]));
  });
  const t = createOtlpHttpTransport({ endpoint: server.url });
  try {
    assert.equal(await t.export('metrics', metricsBody()), { kind: 'ok' });
    mode = 'garbage';
    assertFailed(await t.export('metrics', metricsBody()), 'bad_response', false);
  } finally {
    await t.close();
    await server.close();
  }
});

outcomes.run();

const statuses = suite('transport/http statuses');

statuses('503 retryable, 400 not; the server message (google.rpc.Status) is kept', async () => {
  let status = 503;
  const server = await startHttpServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/x-protobuf' });
    res.end(toBinary(StatusSchema, create(StatusSchema, { code: 3, message: `status ${status} from server` })));
  });
  const t = createOtlpHttpTransport({ endpoint: server.url });
  try {
    const a = assertFailed(await t.export('metrics', metricsBody()), 'unavailable', true);
    assert.is(a.error.status, 503);
    assert.is(a.retryAfterMs, undefined);
    assert.is(a.error.message, 'HTTP 503: status 503 from server');
    status = 400;
    const b = assertFailed(await t.export('metrics', metricsBody()), 'rejected', false);
    assert.is(b.error.message, 'HTTP 400: status 400 from server');
    for (const [s, retryable] of [
      [413, false],
      [500, false],
      [404, false],
      [401, false],
      [502, true],
      [504, true],
    ] as const) {
      status = s;
      const r = await t.export('metrics', metricsBody());
      assert.is(r.kind === 'failed' && r.retryable, retryable, `status ${s}`);
    }
  } finally {
    await t.close();
    await server.close();
  }
});

statuses('429 with Retry-After seconds and HTTP-date', async () => {
  let retryAfter = '7';
  const server = await startHttpServer((_req, res) => {
    res.writeHead(429, { 'retry-after': retryAfter, 'content-type': 'application/json' });
    res.end(JSON.stringify({ code: 8, message: 'slow down' }));
  });
  const t = createOtlpHttpTransport({ endpoint: server.url });
  try {
    const a = assertFailed(await t.export('metrics', metricsBody()), 'throttled', true);
    assert.is(a.retryAfterMs, 7000);
    assert.is(a.error.message, 'HTTP 429: slow down');
    retryAfter = new Date(Date.now() + 30_000).toUTCString();
    const b = assertFailed(await t.export('metrics', metricsBody()), 'throttled', true);
    // HTTP-dates have 1 s resolution.
    assert.ok(b.retryAfterMs !== undefined && b.retryAfterMs > 28_000 && b.retryAfterMs <= 30_000, String(b.retryAfterMs));
    retryAfter = 'soon';
    const c = assertFailed(await t.export('metrics', metricsBody()), 'throttled', true);
    assert.is(c.retryAfterMs, undefined);
  } finally {
    await t.close();
    await server.close();
  }
});

statuses('plain-text error bodies are kept; 3xx is not followed', async () => {
  let mode: 'text' | 'redirect' = 'text';
  const server = await startHttpServer((_req, res) => {
    if (mode === 'redirect') {
      res.writeHead(307, { location: 'http://elsewhere.invalid/v1/metrics' });
      res.end();
      return;
    }
    res.writeHead(403, { 'content-type': 'text/plain' });
    res.end('  forbidden: bad api key \n');
  });
  const t = createOtlpHttpTransport({ endpoint: server.url });
  try {
    const a = assertFailed(await t.export('metrics', metricsBody()), 'rejected', false);
    assert.is(a.error.message, 'HTTP 403: forbidden: bad api key');
    mode = 'redirect';
    const b = assertFailed(await t.export('metrics', metricsBody()), 'rejected', false);
    assert.ok(b.error.message.includes('elsewhere.invalid'), b.error.message);
    assert.is(server.requests.length, 2);
  } finally {
    await t.close();
    await server.close();
  }
});

statuses.run();

const network = suite('transport/http network');

network('stalled server → deadline_exceeded within the timeout', async () => {
  const server = await startHttpServer(() => undefined);
  const t = createOtlpHttpTransport({ endpoint: server.url, timeoutMillis: 300 });
  const patient = createOtlpHttpTransport({ endpoint: server.url, timeoutMillis: 10_000 });
  try {
    const start = Date.now();
    const r = assertFailed(await t.export('metrics', metricsBody()), 'deadline_exceeded', true);
    const took = Date.now() - start;
    assert.ok(took >= 250 && took < 2000, `took ${took} ms`);
    assert.ok(r.error.message.includes('300 ms'), r.error.message);
    // A per-call deadline shorter than the timeout wins.
    const start2 = Date.now();
    assertFailed(await patient.export('metrics', metricsBody(), { deadline: Date.now() + 80 }), 'deadline_exceeded', true);
    assert.ok(Date.now() - start2 < 5000, `took ${Date.now() - start2} ms`);
    const before = server.requests.length;
    assertFailed(await patient.export('metrics', metricsBody(), { deadline: Date.now() - 1 }), 'deadline_exceeded', true);
    await sleep(20);
    assert.is(server.requests.length, before);
  } finally {
    await t.close();
    await patient.close();
    await server.close();
  }
});

network('a server that stalls mid-body also hits the deadline', async () => {
  const server = await startHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '10' });
    res.write(Buffer.from([0x0a]));
  });
  const t = createOtlpHttpTransport({ endpoint: server.url, timeoutMillis: 300 });
  try {
    assertFailed(await t.export('metrics', metricsBody()), 'deadline_exceeded', true);
  } finally {
    await t.close();
    await server.close();
  }
});

network('abort via AbortSignal', async () => {
  const server = await startHttpServer(() => undefined);
  const t = createOtlpHttpTransport({ endpoint: server.url, timeoutMillis: 5000 });
  try {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const start = Date.now();
    assertFailed(await t.export('metrics', metricsBody(), { signal: ac.signal }), 'aborted', false);
    assert.ok(Date.now() - start < 1000);
    assertFailed(await t.export('metrics', metricsBody(), { signal: AbortSignal.abort() }), 'aborted', false);
    assert.is(server.requests.length, 1);
  } finally {
    await t.close();
    await server.close();
  }
});

network('connection refused → retryable unavailable', async () => {
  const port = await closedPort();
  const t = createOtlpHttpTransport({ endpoint: `http://127.0.0.1:${port}` });
  try {
    const r = assertFailed(await t.export('metrics', metricsBody()), 'unavailable', true);
    assert.ok(r.error.message.includes('ECONNREFUSED'), r.error.message);
  } finally {
    await t.close();
  }
});

network('connection reset mid-response → retryable unavailable', async () => {
  const server = await startHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '100' });
    res.write(Buffer.alloc(10), () => res.socket?.destroy());
  });
  const t = createOtlpHttpTransport({ endpoint: server.url });
  try {
    assertFailed(await t.export('metrics', metricsBody()), 'unavailable', true);
  } finally {
    await t.close();
    await server.close();
  }
});

network('socket closed before any response → retryable unavailable', async () => {
  const server = await startHttpServer((req, res) => {
    void req;
    res.socket?.destroy();
  });
  const t = createOtlpHttpTransport({ endpoint: server.url });
  try {
    assertFailed(await t.export('metrics', metricsBody()), 'unavailable', true);
  } finally {
    await t.close();
    await server.close();
  }
});

network('oversize response → bad_response without reading it all', async () => {
  let written = 0;
  let finished = false;
  let mode: 'stream' | 'length' | 'gzip-bomb' = 'stream';
  const server = await startHttpServer((_req, res) => {
    if (mode === 'length') {
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': String(1 << 30) });
      res.write(Buffer.alloc(1024));
      return;
    }
    if (mode === 'gzip-bomb') {
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
      res.end(gzipSync(Buffer.alloc(8 * 1024 * 1024)));
      return;
    }
    res.writeHead(503, { 'content-type': 'text/plain' });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const pump = (): void => {
      while (!res.destroyed && written < 100 * 1024 * 1024) {
        written += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      if (!res.destroyed) {
        finished = true;
        res.end();
      }
    };
    pump();
  });
  const t = createOtlpHttpTransport({ endpoint: server.url, maxResponseBytes: 4096 });
  try {
    const r = assertFailed(await t.export('metrics', metricsBody()), 'bad_response', false);
    assert.ok(r.error.message.includes('maxResponseBytes'), r.error.message);
    await sleep(50);
    assert.is(finished, false);
    assert.ok(written < 20 * 1024 * 1024, `server wrote ${written} bytes`);
    mode = 'length';
    assertFailed(await t.export('metrics', metricsBody()), 'bad_response', false);
    mode = 'gzip-bomb';
    assertFailed(await t.export('metrics', metricsBody()), 'bad_response', false);
  } finally {
    await t.close();
    await server.close();
  }
});

network('oversize request is never sent', async () => {
  const server = await startHttpServer(okProto);
  const t = createOtlpHttpTransport({ endpoint: server.url, maxRequestBytes: 64, compression: 'gzip' });
  try {
    const r = assertFailed(await t.export('metrics', metricsBody(10)), 'too_large', false);
    assert.ok(r.error.message.includes('maxRequestBytes 64'));
    assert.is(server.requests.length, 0);
  } finally {
    await t.close();
    await server.close();
  }
});

network('bad input from JavaScript callers fails as a value, nothing sent', async () => {
  const server = await startHttpServer(okProto);
  const t = createOtlpHttpTransport({ endpoint: server.url });
  try {
    assertFailed(await t.export('profiles' as never, metricsBody()), 'internal', false);
    assertFailed(await t.export('metrics', 'not bytes' as never), 'internal', false);
    assert.is(server.requests.length, 0);
  } finally {
    await t.close();
    await server.close();
  }
});

network('close() lets in-flight calls finish, then refuses new ones', async () => {
  const server = await startHttpServer((req, res) => {
    setTimeout(() => okProto(req, res), 100);
  });
  const t = createOtlpHttpTransport({ endpoint: server.url });
  try {
    const pending = t.export('metrics', metricsBody());
    await sleep(20);
    await t.close();
    assert.equal(await pending, { kind: 'ok' });
    assertFailed(await t.export('metrics', metricsBody()), 'unavailable', false);
    assert.is(server.requests.length, 1);
  } finally {
    await server.close();
  }
});

network.run();

const secure = suite('transport/http TLS');

secure('mTLS with a custom CA and client certificate', async () => {
  const server = await startHttpServer(okProto, { tls: true });
  const t = createOtlpHttpTransport({ endpoint: server.url, tls: { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey } });
  try {
    assert.equal(await t.export('metrics', metricsBody()), { kind: 'ok' });
    assert.is(server.requests[0]!.clientCN, 'otlp-fanout test client');
  } finally {
    await t.close();
    await server.close();
  }
});

secure('an untrusted server certificate fails, not retryable', async () => {
  const server = await startHttpServer(okProto, { tls: true });
  const t = createOtlpHttpTransport({ endpoint: server.url, tls: { cert: tls.clientCert, key: tls.clientKey } });
  try {
    const r = assertFailed(await t.export('metrics', metricsBody()), 'unavailable', false);
    assert.ok(r.error.message.includes('TLS'), r.error.message);
    assert.is(server.requests.length, 0);
  } finally {
    await t.close();
    await server.close();
  }
});

secure('no client certificate against an mTLS server fails', async () => {
  const server = await startHttpServer(okProto, { tls: true });
  const t = createOtlpHttpTransport({ endpoint: server.url, tls: { ca: tls.ca } });
  try {
    const r = await t.export('metrics', metricsBody());
    assert.is(r.kind, 'failed');
    if (r.kind === 'failed') assert.is(r.error.code, 'unavailable', r.error.message);
    assert.is(server.requests.length, 0);
  } finally {
    await t.close();
    await server.close();
  }
});

secure.run();

runUnhandledRejectionCheck('transport/http', unhandled);
