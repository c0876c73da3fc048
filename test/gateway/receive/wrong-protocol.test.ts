/**
 * The gRPC port answers the two common protocol mistakes clearly: OTLP/HTTP (HTTP/1.1) sent to
 * it gets a 400 naming the HTTP port, over h2c and over TLS, and gRPC with a JSON codec gets
 * UNIMPLEMENTED with the documented message (not connect's parse error naming an internal
 * type). Each is counted by reason, and real gRPC calls still work on the same port.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as http from 'node:http';
import * as https from 'node:https';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { toBinary } from '@bufbuild/protobuf';
import { Code } from '@connectrpc/connect';
import { ExportMetricsServiceRequestSchema } from '../../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { grpcCall, metricsRequest, startTestGateway } from '../harness.js';
import type { TestGateway } from '../harness.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/tls/${name}`, import.meta.url));
const body = toBinary(ExportMetricsServiceRequestSchema, metricsRequest(['svc']));

/** POSTs over HTTP/1.1 and reads the whole answer. */
function post1(url: string, agent?: https.Agent): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const lib = url.startsWith('https:') ? https : http;
    const req = lib.request(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, agent, timeout: 3000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 3 s')));
    req.on('error', reject);
    req.end(body);
  });
}

/** One gRPC call with a given content type and a raw (framed) body; resolves with the status and message. */
function grpcRaw(url: string, contentType: string, payload: Uint8Array): Promise<{ status: string | undefined; message: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.on('error', reject);
    const frame = Buffer.alloc(5 + payload.length);
    frame.writeUInt32BE(payload.length, 1);
    frame.set(payload, 5);
    const stream = session.request({
      ':method': 'POST',
      ':path': '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
      'content-type': contentType,
      te: 'trailers',
    });
    let headers: http2.IncomingHttpHeaders = {};
    stream.on('response', (h) => (headers = h));
    stream.on('trailers', (t) => (headers = { ...headers, ...t }));
    stream.resume();
    stream.on('end', () => {
      session.close();
      resolve({
        status: headers['grpc-status'] as string | undefined,
        message: decodeURIComponent((headers['grpc-message'] as string | undefined) ?? ''),
      });
    });
    stream.on('error', reject);
    stream.end(frame);
  });
}

const plain = suite('gateway/receive: wrong protocol at the gRPC port (h2c)');
let t: TestGateway;
plain.before(async () => {
  t = await startTestGateway({});
});
plain.after(() => t.close());
plain.before.each(() => {
  t.seen.refused.length = 0;
});

plain('OTLP/HTTP at the gRPC port: 400 naming the HTTP address, counted as wrong_port', async () => {
  const res = await post1(`${t.grpcUrl}/v1/metrics`);
  assert.is(res.status, 400);
  assert.match(res.text, `send OTLP/HTTP to ${t.httpUrl}`);
  assert.equal(
    t.seen.refused.map((r) => [r.reason, r.signal, r.status]),
    [['wrong_port', 'metrics', 400]],
  );
});

plain('gRPC still works on the same port, also when the preface arrives in pieces', async () => {
  const ok = await grpcCall(t.grpcUrl, 'metrics', body);
  assert.ok(ok.ok, 'a gRPC Export is accepted');
  // A raw client that sends the HTTP/2 preface in two writes still gets the server's SETTINGS frame.
  const port = Number(new URL(t.grpcUrl).port);
  const first = await new Promise<Buffer>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', reject);
    socket.write('PRI * HTTP/2.0\r\n');
    setTimeout(() => socket.write(Buffer.concat([Buffer.from('\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])])), 50);
    socket.once('data', (d: Buffer) => {
      socket.destroy();
      resolve(d);
    });
  });
  assert.is(first[3], 4, 'a SETTINGS frame (type 4) comes back');
  assert.equal(t.seen.refused, []);
});

plain('gRPC with a JSON codec: UNIMPLEMENTED with the documented message, whatever the body', async () => {
  for (const payload of ['not json', '[1]', '{"resourceMetrics":[{}]}']) {
    const res = await grpcRaw(t.grpcUrl, 'application/grpc+json', new TextEncoder().encode(payload));
    assert.is(res.status, String(Code.Unimplemented), payload);
    assert.is(res.message, 'OTLP/gRPC is protobuf only; send application/grpc');
  }
  assert.equal(
    t.seen.refused.map((r) => r.reason),
    ['unsupported_media_type', 'unsupported_media_type', 'unsupported_media_type'],
  );
  // application/grpc+proto is protobuf: accepted.
  const proto = await grpcRaw(t.grpcUrl, 'application/grpc+proto', body);
  assert.is(proto.status, '0');
});

plain('a client that connects and never writes does not hold up close()', async () => {
  const g = await startTestGateway({});
  const port = Number(new URL(g.grpcUrl).port);
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const t0 = performance.now();
  const closing = g.close();
  try {
    // Bounded: a receiver waiting for that client would otherwise hang the suite.
    const closed = await Promise.race([closing.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]);
    assert.ok(closed, 'close() still waiting after 3 s');
    assert.ok(performance.now() - t0 < 2000, `close() took ${(performance.now() - t0).toFixed(0)} ms`);
  } finally {
    socket.destroy();
    await closing;
  }
});

plain.run();

const secure = suite('gateway/receive: wrong protocol at the gRPC port (TLS)');
let s: TestGateway;
secure.before(async () => {
  s = await startTestGateway({
    receivers: {
      grpc: { address: '127.0.0.1:0', tls: { certFile: fixture('server.pem'), keyFile: fixture('server-key.pem') } },
      http: { address: '127.0.0.1:0' },
    },
  });
});
secure.after(() => s.close());

secure('HTTPS/1.1 at the TLS gRPC port: 400 naming the HTTP address', async () => {
  const agent = new https.Agent({ ca: readFileSync(fixture('ca.pem')), servername: 'localhost' });
  const res = await post1(`${s.grpcUrl.replace('http:', 'https:')}/v1/logs`, agent);
  agent.destroy();
  assert.is(res.status, 400);
  assert.match(res.text, `send OTLP/HTTP to ${s.httpUrl}`);
  assert.equal(
    s.seen.refused.map((r) => [r.reason, r.signal]),
    [['wrong_port', 'logs']],
  );
});

secure.run();
