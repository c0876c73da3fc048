import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TransportOptionError } from '../../src/transport/errors.js';
import { validateGrpcTransportOptions } from '../../src/transport/grpc.js';
import { validateHttpTransportOptions } from '../../src/transport/http.js';
import { DEFAULT_MAX_REQUEST_BYTES, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MILLIS, nodeTlsOptions } from '../../src/transport/options.js';
import { tls } from './servers.js';

function expectOptionError(fn: () => unknown, field: string, ...fragments: string[]): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, TransportOptionError);
    const err = e as TransportOptionError;
    assert.is(err.field, field, err.message);
    for (const f of fragments) assert.ok(err.message.includes(f), `"${err.message}" should include "${f}"`);
    return;
  }
  assert.unreachable(`expected a TransportOptionError for ${field}`);
}

const defaults = suite('transport/options defaults');

defaults('HTTP defaults follow the exporter spec and are frozen', () => {
  const o = validateHttpTransportOptions();
  assert.is(o.urls.metrics.href, 'http://localhost:4318/v1/metrics');
  assert.is(o.urls.logs.href, 'http://localhost:4318/v1/logs');
  assert.is(o.urls.traces.href, 'http://localhost:4318/v1/traces');
  assert.is(o.compression, 'none');
  assert.is(o.timeoutMillis, DEFAULT_TIMEOUT_MILLIS);
  assert.is(DEFAULT_TIMEOUT_MILLIS, 10_000);
  assert.is(o.maxRequestBytes, DEFAULT_MAX_REQUEST_BYTES);
  assert.is(o.maxRequestBytes, 64 * 1024 * 1024);
  assert.is(o.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES);
  assert.is(o.maxResponseBytes, 4 * 1024 * 1024);
  assert.is(o.encoding, 'protobuf');
  assert.is(o.maxConnections, null);
  assert.is(o.keepAliveTimeoutMillis, 4000);
  assert.equal(o.headers, {});
  assert.is(o.tls.insecure, false);
  assert.ok(Object.isFrozen(o) && Object.isFrozen(o.urls) && Object.isFrozen(o.headers) && Object.isFrozen(o.tls));
});

defaults('gRPC defaults', () => {
  const o = validateGrpcTransportOptions();
  assert.is(o.urls.metrics.href, 'http://localhost:4317/');
  assert.is(o.urls.traces, o.urls.metrics);
});

defaults.run();

const endpoints = suite('transport/options endpoints');

endpoints('HTTP: /v1/<signal> appended to the base path, signal endpoints as given', () => {
  const table: Array<[string, string]> = [
    ['http://collector:4318', 'http://collector:4318/v1/metrics'],
    ['http://collector:4318/', 'http://collector:4318/v1/metrics'],
    ['https://gw.example/otlp', 'https://gw.example/otlp/v1/metrics'],
    ['https://gw.example/otlp//', 'https://gw.example/otlp/v1/metrics'],
  ];
  for (const [endpoint, want] of table) {
    assert.is(validateHttpTransportOptions({ endpoint }).urls.metrics.href, want, endpoint);
  }
  const o = validateHttpTransportOptions({
    endpoint: 'http://base:4318',
    signalEndpoints: { logs: 'https://logs.example/ingest', traces: 'http://t:1/x/' },
  });
  assert.is(o.urls.logs.href, 'https://logs.example/ingest');
  assert.is(o.urls.traces.href, 'http://t:1/x/');
  assert.is(o.urls.metrics.href, 'http://base:4318/v1/metrics');
});

endpoints('gRPC: scheme wins; a scheme-less target uses TLS unless insecure', () => {
  assert.is(validateGrpcTransportOptions({ endpoint: 'collector:4317' }).urls.metrics.protocol, 'https:');
  assert.is(validateGrpcTransportOptions({ endpoint: 'collector:4317', tls: { insecure: true } }).urls.metrics.protocol, 'http:');
  assert.is(validateGrpcTransportOptions({ endpoint: 'https://c:4317', tls: { insecure: true } }).urls.metrics.protocol, 'https:');
  assert.is(validateGrpcTransportOptions({ endpoint: 'http://c:4317' }).urls.metrics.protocol, 'http:');
  const o = validateGrpcTransportOptions({ endpoint: 'http://a:4317', signalEndpoints: { logs: 'http://b:4317' } });
  assert.is(o.urls.logs.host, 'b:4317');
  assert.is(o.urls.metrics.host, 'a:4317');
});

endpoints('bad endpoints name the field', () => {
  expectOptionError(() => validateHttpTransportOptions({ endpoint: 'collector:4318' }), 'endpoint', 'http://');
  expectOptionError(() => validateHttpTransportOptions({ endpoint: 'ftp://x' }), 'endpoint', 'http or https');
  expectOptionError(() => validateHttpTransportOptions({ endpoint: '' }), 'endpoint');
  expectOptionError(() => validateHttpTransportOptions({ endpoint: 'http://user:pw@x' }), 'endpoint', 'headers');
  expectOptionError(() => validateHttpTransportOptions({ signalEndpoints: { metrics: 'nope' } }), 'signalEndpoints.metrics');
  expectOptionError(
    () => validateHttpTransportOptions({ signalEndpoints: { profiles: 'http://x' } as never }),
    'signalEndpoints.profiles',
    'metrics, logs, traces',
  );
  expectOptionError(() => validateGrpcTransportOptions({ endpoint: 'http://[bad' }), 'endpoint', 'valid URL');
});

endpoints.run();

const fields = suite('transport/options fields');

fields('numbers: positive integers within range', () => {
  for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, '100']) {
    expectOptionError(() => validateHttpTransportOptions({ timeoutMillis: bad as number }), 'timeoutMillis', 'integer');
  }
  expectOptionError(() => validateHttpTransportOptions({ maxRequestBytes: 2 ** 32 }), 'maxRequestBytes');
  expectOptionError(() => validateHttpTransportOptions({ maxResponseBytes: 0 }), 'maxResponseBytes');
  expectOptionError(() => validateHttpTransportOptions({ maxConnections: 0 }), 'maxConnections');
  assert.is(validateHttpTransportOptions({ timeoutMillis: 1 }).timeoutMillis, 1);
  assert.is(validateHttpTransportOptions({ maxConnections: 4 }).maxConnections, 4);
});

fields('enums: compression and encoding', () => {
  expectOptionError(() => validateHttpTransportOptions({ compression: 'br' as never }), 'compression', '"gzip" or "none"');
  expectOptionError(() => validateHttpTransportOptions({ encoding: 'xml' as never }), 'encoding', '"protobuf" or "json"');
  assert.is(validateHttpTransportOptions({ compression: 'gzip', encoding: 'json' }).encoding, 'json');
});

fields('headers: names are tokens, lowercased, transport headers reserved', () => {
  assert.equal(validateHttpTransportOptions({ headers: { 'X-Api-Key': 'k', Authorization: 'Basic x' } }).headers, {
    'x-api-key': 'k',
    authorization: 'Basic x',
  });
  expectOptionError(() => validateHttpTransportOptions({ headers: { 'bad name': 'v' } }), 'headers.bad name', 'token');
  expectOptionError(
    () => validateHttpTransportOptions({ headers: { 'Content-Type': 'text/plain' } }),
    'headers.Content-Type',
    'set by the transport',
  );
  expectOptionError(() => validateGrpcTransportOptions({ headers: { 'grpc-timeout': '1S' } }), 'headers.grpc-timeout');
  expectOptionError(() => validateHttpTransportOptions({ headers: { x: 'a\r\nInjected: 1' } }), 'headers.x', 'control characters');
  expectOptionError(() => validateHttpTransportOptions({ headers: { x: 5 as never } }), 'headers.x');
  expectOptionError(() => validateHttpTransportOptions({ headers: { 'X-A': '1', 'x-a': '2' } }), 'headers.x-a', 'twice');
  // grpc-* is only reserved for gRPC.
  assert.is(validateHttpTransportOptions({ headers: { 'grpc-x': '1' } }).headers['grpc-x'], '1');
});

fields('tls: PEM text or bytes, cert and key together', () => {
  const o = validateHttpTransportOptions({
    tls: { ca: [tls.ca, Buffer.from(tls.ca)], cert: tls.clientCert, key: new TextEncoder().encode(tls.clientKey) },
  });
  assert.is(Array.isArray(o.tls.ca) && o.tls.ca.length, 2);
  const node = nodeTlsOptions(o.tls);
  assert.ok(Buffer.isBuffer(node.key));
  assert.is(node.key!.toString(), tls.clientKey);
  expectOptionError(() => validateHttpTransportOptions({ tls: { cert: tls.clientCert } }), 'tls.key', 'together');
  expectOptionError(() => validateHttpTransportOptions({ tls: { key: tls.clientKey } }), 'tls.cert', 'together');
  expectOptionError(() => validateHttpTransportOptions({ tls: { ca: '/etc/ssl/ca.pem' } }), 'tls.ca', 'PEM');
  expectOptionError(() => validateHttpTransportOptions({ tls: { ca: [tls.ca, 7 as never] } }), 'tls.ca[1]');
  expectOptionError(() => validateHttpTransportOptions({ tls: { insecure: 'yes' as never } }), 'tls.insecure');
});

fields('error messages name the field, the value and what is allowed', () => {
  try {
    validateHttpTransportOptions({ compression: 'zstd' as never });
  } catch (e) {
    assert.is((e as Error).message, 'invalid transport option compression = "zstd": expected "gzip" or "none"');
    assert.is((e as TransportOptionError).value, 'zstd');
  }
});

fields.run();
