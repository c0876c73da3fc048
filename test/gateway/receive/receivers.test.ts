/**
 * Receiver details: TLS on both receivers, the zero-copy rebuild of gRPC bodies, GET
 * /metrics from the observer, and self-telemetry exported to its own upstream.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { OpaqueSchema } from '../../../gen/otlp_fanout/internal/v1/opaque_pb.js';
import { loadGatewayConfig } from '../../../src/gateway/config/load.js';
import { startGateway } from '../../../src/gateway/gateway.js';
import { opaqueBody } from '../../../src/transport/pass-through.js';
import { createMeterProvider } from '../../../src/metrics/meter-provider.js';
import { createOtlpGrpcTransport } from '../../../src/transport/grpc.js';
import { createOtlpHttpTransport } from '../../../src/transport/http.js';
import { ofSignal, startReceiver } from '../../support/receiver.js';
import { tls } from '../../transport/servers.js';
import { bin, grpcEndpoint, logsRequest, metricsRequest, post, startTestGateway } from '../harness.js';

const test = suite('gateway/receivers');
const fixtures = fileURLToPath(new URL('../../fixtures/tls/', import.meta.url));

test('TLS on both receivers (cert and key files); plaintext clients are refused', async () => {
  const upstream = await startReceiver({ grpc: false });
  const files = { certFile: `${fixtures}server.pem`, keyFile: `${fixtures}server-key.pem` };
  const t = await startTestGateway({
    receivers: { grpc: { address: '127.0.0.1:0', tls: files }, http: { address: '127.0.0.1:0', tls: files } },
    upstreams: { up: { endpoint: upstream.httpUrl } },
  });
  const grpc = createOtlpGrpcTransport({ endpoint: `https://${t.gw.addresses.grpc}`, tls: { ca: tls.ca }, timeoutMillis: 3000 });
  const http = createOtlpHttpTransport({ endpoint: `https://${t.gw.addresses.http}`, tls: { ca: tls.ca }, timeoutMillis: 3000 });
  try {
    const body = bin.logs(logsRequest(['tls']));
    assert.equal(await grpc.export('logs', body), { kind: 'ok' });
    assert.equal(await http.export('logs', body), { kind: 'ok' });
    await upstream.waitFor((r, i) => r.signal === 'logs' && i === 1);
    assert.ok(upstream.requests.every((r) => Buffer.from(r.bytes).equals(Buffer.from(body))));
    const plain = await post(`http://${t.gw.addresses.http}/v1/logs`, body, { 'content-type': 'application/x-protobuf' }).then(
      () => 'answered',
      () => 'refused',
    );
    assert.is(plain, 'refused');
    assert.is(upstream.requests.length, 2);
  } finally {
    await Promise.all([grpc.close(), http.close()]);
    await t.close();
    await upstream.close();
  }
});

test('opaqueBody: the parsed Opaque gives back the exact bytes, zero-copy when contiguous', () => {
  const body = bin.metrics(metricsRequest(['a', 'b', 'c'], 3));
  // Unknown top-level fields (number 9, varint) and repeated entries both survive.
  const withExtra = new Uint8Array([...body, 0x48, 0x01]);
  for (const bytes of [body, withExtra]) {
    const parsed = fromBinary(OpaqueSchema, bytes);
    const rebuilt = opaqueBody(parsed);
    assert.ok(Buffer.from(rebuilt).equals(Buffer.from(bytes)));
    assert.is(rebuilt.buffer, bytes.buffer, 'a view of the parsed buffer, not a copy');
  }
  assert.is(opaqueBody(create(OpaqueSchema)).length, 0);
  // Parts that are not back to back (built by hand) are re-serialized instead.
  const parsed = fromBinary(OpaqueSchema, body);
  const parts = parsed.$unknown!;
  parsed.$unknown = [parts[1]!, parts[0]!];
  const rebuilt = opaqueBody(parsed);
  assert.ok(Buffer.from(rebuilt).equals(Buffer.from(toBinary(OpaqueSchema, parsed))));
  assert.is.not(rebuilt.buffer, body.buffer);
});

test("GET /metrics serves the observer's page; 404 without one", async () => {
  const config = loadGatewayConfig({ document: { receivers: { grpc: false, http: { address: '127.0.0.1:0' } } }, env: {} });
  const gw = await startGateway(config, {
    observer: { onRequest() {}, onRefused() {}, metricsPage: () => ({ contentType: 'text/plain; version=0.0.4', body: 'up 1\n' }) },
  });
  const plain = await startTestGateway({});
  try {
    const res = await post(`http://${gw.addresses.http}/metrics`, '', {}, 'GET');
    assert.is(res.status, 200);
    assert.is(res.headers.get('content-type'), 'text/plain; version=0.0.4');
    assert.is(await res.text(), 'up 1\n');
    const none = await post(`${plain.httpUrl}/metrics`, '', {}, 'GET');
    assert.is(none.status, 404);
    await none.arrayBuffer();
  } finally {
    await gw.shutdown(100);
    await plain.close();
  }
});

test('self-telemetry: the gateway exports its own metrics to its self-telemetry upstream, last batch at shutdown', async () => {
  const self = await startReceiver({ http: false });
  const config = loadGatewayConfig({
    env: {},
    document: {
      receivers: { grpc: false, http: { address: '127.0.0.1:0' } },
      selfTelemetry: { interval: '100ms', upstreams: { self: { endpoint: grpcEndpoint(self.grpcUrl) } } },
    },
  });
  const provider = createMeterProvider({ resource: { 'service.name': 'gw-self' } });
  const served = provider.getMeter('test').createCounter('served');
  const gw = await startGateway(config, { meterProvider: provider });
  try {
    served.add(2);
    const first = await self.waitFor(ofSignal('metrics'), 3000);
    assert.is(first.message.resourceMetrics[0]?.scopeMetrics[0]?.metrics[0]?.name, 'served');
    assert.equal(gw.upstreams, [], 'self-telemetry upstreams are not forwarding targets');
    served.add(5);
  } finally {
    const report = await gw.shutdown(1000);
    assert.is(report.drained, true);
    await self.close();
  }
  const last = self.requests.filter(ofSignal('metrics')).at(-1)!;
  const point = last.message.resourceMetrics[0]?.scopeMetrics[0]?.metrics[0]?.data;
  assert.is(point?.case, 'sum');
  if (point?.case === 'sum') assert.is(point.value.dataPoints[0]?.value.value, 7, 'the final collection went out before shutdown');
});

test.run();
