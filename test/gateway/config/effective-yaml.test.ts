/**
 * The effective configuration as YAML (src/gateway/config/effective-yaml.ts): a config without
 * secrets loads back equal (every key and default written in the file's own units); with secrets,
 * none of them appears anywhere in the text; the same config renders to the same bytes.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { effectiveConfigYaml, REDACTED, redactQuery } from '../../../src/gateway/config/effective-yaml.js';
import { loadGatewayConfig } from '../../../src/gateway/config/load.js';
import { sameConfigData } from '../../../src/gateway/config/values.js';

const test = suite('gateway/config/effective-yaml');
const fixtures = fileURLToPath(new URL('../../fixtures/tls/', import.meta.url));
const load = (document: unknown) => loadGatewayConfig({ document, env: {}, baseDir: fixtures });

test('a config without secrets loads back equal: every section, defaults and units', () => {
  const config = load({
    receivers: { grpc: false, http: { address: '[::1]:0' } },
    auth: { apiKeyHeader: 'x-key' },
    upstreams: {
      main: { endpoint: 'grpc://127.0.0.1:4317', compression: 'gzip', timeout: 2500, maxConcurrency: 2, batch: { maxBytes: 0 } },
      json: {
        endpoint: 'http://127.0.0.1:4318/otlp?encoding=json',
        queue: { maxBytes: '3MiB', maxRequests: 10 },
        retry: { initialBackoff: '250ms', maxBackoff: '2m', multiplier: 2, jitter: 0, maxElapsed: 0 },
        processors: [
          {
            resource: [
              { action: 'upsert', key: 'env', value: 'prod' },
              { action: 'hash', key: 'user' },
            ],
          },
          { attributes: [{ action: 'delete', key: 'cookie' }] },
          { redact: ['user.email'] },
          { filter: { metrics: { names: ['debug.*'] }, logs: { minSeverity: 'WARN', attributes: { 'http.route': '/healthz*' } } } },
          { filter: { spans: { names: ['GET /healthz'] } } },
        ],
        temporality: { to: 'delta', maxStreams: 5000, staleAfter: '2m', firstPoint: 'drop' },
      },
    },
    routes: [
      { name: 'checkout', signals: ['traces', 'metrics'], match: { 'service.name': 'checkout-*' }, upstreams: ['main'] },
      { upstreams: ['json', 'main'], processors: [{ resource: [{ action: 'insert', key: 'n', value: 3 }] }] },
    ],
    limits: { maxRequestBytes: '1MiB', maxQueuedBytes: 1_000_001, retryAfter: '2s' },
    drainTimeout: 0,
    observe: { verbosity: 'basic', interval: '1h' },
    selfTelemetry: { interval: '90s', resource: { 'deployment.environment': 'prod' }, upstreams: { self: { endpoint: 'http://127.0.0.1:9' } } },
    storage: { directory: '/tmp/otlp-fanout-effective', maxBytes: '64MiB', fsync: 'always' },
    opamp: { endpoint: 'ws://127.0.0.1:4320/v1/opamp', pollingInterval: '45s' },
  });
  const text = effectiveConfigYaml(config);
  assert.ok(sameConfigData(load(parse(text)), config), text);
  assert.match(text, 'maxBytes: 3MiB');
  assert.match(text, 'timeout: 2500ms');
  assert.match(text, 'interval: 1h');
  assert.match(text, 'grpc: false');
  assert.is(effectiveConfigYaml(config), text, 'the same bytes every time');
  // The defaults, written out: an empty document loads back equal too.
  const empty = load({});
  assert.ok(sameConfigData(load(parse(effectiveConfigYaml(empty))), empty));
});

test('no secret leaves: tokens, API keys, header values, TLS files, query parameters', () => {
  const secrets = {
    ACME_TOKEN: 'tok-acme-0123456789',
    ACME_TOKEN2: 'tok-acme-rotated-987',
    ACME_KEY: 'key-acme-abcdefgh',
    VENDOR_KEY: 'vendor-hdr-secret-1',
    COLLECTOR_TOKEN: 'collector-bearer-2',
    SELF_KEY: 'self-hdr-secret-3',
    OPAMP_TOKEN: 'opamp-bearer-4',
    QUERY_KEY: 'query-api-key-5',
  };
  const config = loadGatewayConfig({
    document: {
      receivers: {
        grpc: { address: '127.0.0.1:0', tls: { certFile: 'server.pem', keyFile: 'server-key.pem' } },
        http: { address: '127.0.0.1:0' },
      },
      tenants: {
        acme: {
          tokens: ['${ACME_TOKEN}', '${ACME_TOKEN2}'],
          apiKeys: ['${ACME_KEY}'],
          upstreams: { vendor: { endpoint: 'https://otlp.vendor.example', headers: { 'api-key': '${VENDOR_KEY}' } } },
        },
      },
      upstreams: {
        main: {
          endpoint: 'grpcs://collector.internal:4317',
          headers: { authorization: 'Bearer ${COLLECTOR_TOKEN}', 'x-plain': 'not-a-secret-but-hidden' },
          tls: { caFile: 'ca.pem', certFile: 'client.pem', keyFile: 'client-key.pem' },
        },
        keyed: { endpoint: 'https://otlp.example/v1?api_key=${QUERY_KEY}&encoding=json' },
      },
      selfTelemetry: { upstreams: { self: { endpoint: 'http://127.0.0.1:9', headers: { 'x-api-key': '${SELF_KEY}' } } } },
      opamp: {
        endpoint: 'wss://opamp.example/v1/opamp?token=${OPAMP_TOKEN}',
        headers: { authorization: 'Bearer ${OPAMP_TOKEN}' },
        tls: { caFile: 'ca.pem', certFile: 'client.pem', keyFile: 'client-key.pem' },
      },
    },
    env: secrets,
    baseDir: fixtures,
  });
  const text = effectiveConfigYaml(config);
  for (const [name, value] of Object.entries(secrets)) assert.not.ok(text.includes(value), `${name} is not in the effective config`);
  assert.not.ok(text.includes('not-a-secret-but-hidden'), 'every header value is redacted, whatever its name');
  for (const pem of ['server-key.pem', 'client-key.pem', 'client.pem', 'ca.pem']) {
    const body = readFileSync(`${fixtures}${pem}`, 'utf8').split('\n')[1]!;
    assert.not.ok(text.includes(body), `${pem}'s contents are not in it`);
  }
  assert.not.match(text, 'BEGIN');
  const doc = parse(text);
  assert.equal(doc.tenants.acme.tokens, [REDACTED, REDACTED], 'one placeholder per token: the count shows a rotation');
  assert.equal(doc.tenants.acme.apiKeys, [REDACTED]);
  assert.equal(doc.tenants.acme.upstreams.vendor.headers, { 'api-key': REDACTED });
  assert.equal(doc.upstreams.main.headers, { authorization: REDACTED, 'x-plain': REDACTED });
  assert.equal(doc.upstreams.main.tls, { caFile: REDACTED, certFile: REDACTED, keyFile: REDACTED });
  assert.equal(doc.receivers.grpc.tls, { certFile: REDACTED, keyFile: REDACTED });
  assert.is(doc.upstreams.keyed.endpoint, `https://otlp.example/v1?api_key=${REDACTED}&encoding=json`);
  assert.equal(doc.opamp.headers, { authorization: REDACTED });
  assert.is(doc.opamp.endpoint, `wss://opamp.example/v1/opamp?token=${REDACTED}`);
  assert.equal(doc.selfTelemetry.upstreams.self.headers, { 'x-api-key': REDACTED });
});

test('redactQuery: every value but encoding', () => {
  const cases: Array<[string, string]> = [
    ['grpc://h:4317', 'grpc://h:4317'],
    ['http://h/p?encoding=json', 'http://h/p?encoding=json'],
    ['http://h/p?k=v&encoding=json&flag', `http://h/p?k=${REDACTED}&encoding=json&flag`],
    ['http://h/?a=1&a=2', `http://h/?a=${REDACTED}&a=${REDACTED}`],
  ];
  for (const [url, want] of cases) assert.is(redactQuery(url), want, url);
});

test.run();
