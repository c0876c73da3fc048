/**
 * Gateway configuration: defaults, YAML files, `${ENV}` expansion, units, flags over the
 * file, and errors that name the key path.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GATEWAY_DEFAULTS } from '../../../src/gateway/config/defaults.js';
import { GatewayConfigError } from '../../../src/gateway/config/config-error.js';
import { compileMatches, globToRegex } from '../../../src/gateway/route/attribute-match.js';
import { loadGatewayConfig } from '../../../src/gateway/config/load.js';
import type { GatewayFlags } from '../../../src/gateway/config/gateway-config.js';
import { byteSize, listenAddress, millis, sameConfigData } from '../../../src/gateway/config/values.js';
import { expandEnv } from '../../../src/gateway/config/env.js';

const test = suite('gateway/config');
const fixtures = fileURLToPath(new URL('../../fixtures/tls/', import.meta.url));

function load(document: unknown, flags: GatewayFlags = {}, env: Record<string, string> = {}) {
  return loadGatewayConfig({ document, flags, env, baseDir: fixtures });
}

function errorOf(fn: () => unknown): GatewayConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof GatewayConfigError) return e;
    throw e;
  }
  throw new Error('expected a GatewayConfigError');
}

test('the embedded default: loopback 4317/4318, forward nowhere, auth off', () => {
  const c = load({});
  assert.equal(c.grpc, { host: '127.0.0.1', port: 4317, tls: null });
  assert.equal(c.http, { host: '127.0.0.1', port: 4318, tls: null });
  assert.equal(c.upstreams, []);
  assert.equal(c.tenants, []);
  assert.equal(c.routes, []);
  assert.equal(c.limits, { maxRequestBytes: 64 * 1024 * 1024, maxQueuedBytes: 256 * 1024 * 1024, retryAfterMillis: 1000 });
  assert.is(c.drainTimeoutMillis, GATEWAY_DEFAULTS.drainTimeoutMillis);
  assert.equal(c.observe, { verbosity: 'normal', intervalMillis: 10_000, ui: null, metrics: null });
  assert.is(c.apiKeyHeader, 'x-api-key');
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.limits) && Object.isFrozen(c.upstreams));
});

test('a full file: receivers with TLS, upstreams, tenants, routes, limits, self-telemetry', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-config-'));
  try {
    writeFileSync(path.join(dir, 'cert.pem'), '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n');
    writeFileSync(path.join(dir, 'key.pem'), '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n');
    const file = path.join(dir, 'gateway.yaml');
    writeFileSync(
      file,
      `
receivers:
  grpc: { address: "0.0.0.0:14317", tls: { certFile: cert.pem, keyFile: key.pem } }
  http: false
auth:
  apiKeyHeader: X-Key
tenants:
  acme:
    tokens: ["\${ACME_TOKEN}"]
    upstreams:
      own: { endpoint: "https://acme.example:4318/otlp" }
upstreams:
  main:
    endpoint: grpcs://collector.example:4317
    headers: { authorization: "Bearer \${UPSTREAM_TOKEN:-none-set}" }
    compression: gzip
    timeout: 5s
    maxConcurrency: 8
    queue: { maxBytes: 16MiB, maxRequests: 100 }
    batch: { maxBytes: 256KiB }
    retry: { initialBackoff: 200ms, maxBackoff: 10s, multiplier: 2, jitter: 0, maxElapsed: 1m }
  debug:
    endpoint: http://127.0.0.1:9999?encoding=json
routes:
  - name: checkout
    signals: [metrics, traces]
    tenants: [acme]
    match: { service.name: "checkout-*", tier: 1 }
    upstreams: [main, debug]
limits: { maxRequestBytes: 8MiB, maxQueuedBytes: "\${QUEUE_LIMIT}", retryAfter: 3s }
drainTimeout: 2500ms
observe: { verbosity: detailed, interval: 30s }
selfTelemetry:
  interval: 15s
  resource: { deployment.environment: test }
  upstreams:
    self: { endpoint: "http://127.0.0.1:4318" }
`,
    );
    const c = loadGatewayConfig({ file, env: { ACME_TOKEN: 'acme-secret-token', QUEUE_LIMIT: '1GiB' } });
    assert.equal(c.grpc?.host, '0.0.0.0');
    assert.is(c.grpc?.port, 14317);
    assert.match(c.grpc?.tls?.cert ?? '', 'BEGIN CERTIFICATE');
    assert.is(c.http, null);
    assert.is(c.apiKeyHeader, 'x-key');
    const [main, debug] = c.upstreams;
    assert.equal(
      { ...main, retry: { ...main!.retry } },
      {
        name: 'main',
        protocol: 'grpc',
        endpoint: 'https://collector.example:4317',
        display: 'grpcs://collector.example:4317',
        headers: { authorization: 'Bearer none-set' },
        compression: 'gzip',
        timeoutMillis: 5000,
        maxConcurrency: 8,
        queue: { maxBytes: 16 * 1024 * 1024, maxRequests: 100 },
        batchMaxBytes: 256 * 1024,
        retry: { initialBackoffMillis: 200, maxBackoffMillis: 10_000, multiplier: 2, jitter: 0, maxElapsedMillis: 60_000 },
        tls: {},
        tenant: undefined,
        processors: [],
        temporality: undefined,
      },
    );
    assert.equal([debug!.protocol, debug!.endpoint, debug!.display], ['http/json', 'http://127.0.0.1:9999', 'http://127.0.0.1:9999?encoding=json']);
    assert.is(debug!.batchMaxBytes, 1024 * 1024, 'merging up to 1 MiB by default');
    assert.equal(
      c.tenants.map((t) => [t.name, t.credentials.length, t.upstreams.map((u) => [u.name, u.tenant, u.endpoint])]),
      [['acme', 1, [['acme/own', 'acme', 'https://acme.example:4318/otlp']]]],
    );
    const route = c.routes[0]!;
    assert.equal(
      [route.name, [...route.signals], [...(route.tenants ?? [])], route.upstreams],
      ['checkout', ['metrics', 'traces'], ['acme'], ['main', 'debug']],
    );
    assert.equal(
      compileMatches(route.match).map((m) => [m.key, m.pattern, m.regex !== null]),
      [
        ['service.name', 'checkout-*', true],
        ['tier', '1', false],
      ],
    );
    assert.equal(c.limits, { maxRequestBytes: 8 * 1024 * 1024, maxQueuedBytes: 1024 ** 3, retryAfterMillis: 3000 });
    assert.is(c.drainTimeoutMillis, 2500);
    assert.equal(c.observe, { verbosity: 'detailed', intervalMillis: 30_000, ui: null, metrics: null });
    assert.equal(c.selfTelemetry.resource, { 'service.name': 'otlp-fanout-gateway', 'deployment.environment': 'test' });
    assert.is(c.selfTelemetry.intervalMillis, 15_000);
    assert.equal(
      c.selfTelemetry.upstreams.map((u) => u.name),
      ['self'],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('flags override the file: addresses, off, forward URLs, verbosity', () => {
  const c = load(
    { receivers: { grpc: { address: '127.0.0.1:1' } }, upstreams: { a: { endpoint: 'http://a:4318' } } },
    {
      grpc: '[::1]:0',
      http: 'off',
      forward: ['grpc://b:4317', 'https://c/otlp?encoding=json', 'grpc://b:4317', 'http://d:4318?encoding=protobuf'],
      verbosity: 'basic',
    },
  );
  assert.equal(c.grpc, { host: '::1', port: 0, tls: null });
  assert.is(c.http, null);
  assert.equal(
    c.upstreams.map((u) => [u.name, u.protocol, u.endpoint]),
    [
      ['a', 'http/protobuf', 'http://a:4318'],
      ['grpc://b:4317', 'grpc', 'http://b:4317'],
      ['https://c/otlp?encoding=json', 'http/json', 'https://c/otlp'],
      ['grpc://b:4317#2', 'grpc', 'http://b:4317'],
      ['http://d:4318', 'http/protobuf', 'http://d:4318'],
    ],
  );
  assert.is(c.observe.verbosity, 'basic');
});

test('errors name the key path and the problem', () => {
  const table: Array<[unknown, GatewayFlags, string, RegExp]> = [
    [{ recievers: {} }, {}, 'recievers', /unknown key; allowed here: receivers/],
    [{ upstreams: { a: { endpoint: 'ftp://x' } } }, {}, 'upstreams.a.endpoint', /scheme "ftp" is not supported/],
    [{ upstreams: { a: {} } }, {}, 'upstreams.a.endpoint', /required/],
    [{ upstreams: { a: { endpoint: 'http://x', timeuot: 1 } } }, {}, 'upstreams.a.timeuot', /unknown key/],
    [{ upstreams: { a: { endpoint: 'http://x', timeout: 'soon' } } }, {}, 'upstreams.a.timeout', /expected a duration/],
    [{ upstreams: { a: { endpoint: 'http://x', queue: { maxBytes: '12 parsecs' } } } }, {}, 'upstreams.a.queue.maxBytes', /byte size/],
    [{ upstreams: { a: { endpoint: 'http://x', batch: { maxBytes: -1 } } } }, {}, 'upstreams.a.batch.maxBytes', /./],
    [{ upstreams: { a: { endpoint: 'http://x', batch: { size: 1 } } } }, {}, 'upstreams.a.batch.size', /unknown key/],
    [
      { upstreams: { a: { endpoint: 'http://x', headers: { 'Content-Type': 'x' } } } },
      {},
      'upstreams.a.headers.Content-Type',
      /set by the transport/,
    ],
    [{ upstreams: { a: { endpoint: 'grpc://x:1/path' } } }, {}, 'upstreams.a.endpoint', /no path/],
    [{ upstreams: { a: { endpoint: 'grpc://x:1', protocol: 'http/json' } } }, {}, 'upstreams.a.endpoint', /is OTLP\/gRPC/],
    [{ upstreams: { a: { endpoint: 'http://x', tls: { caFile: 'missing.pem' } } } }, {}, 'upstreams.a.tls.caFile', /cannot read "missing.pem"/],
    [{ upstreams: { a: { endpoint: 'http://x', tls: { certFile: 'client.pem' } } } }, {}, 'upstreams.a.tls.key', /together/],
    [{ routes: [{ upstreams: ['nope'] }] }, {}, 'routes[0].upstreams[0]', /no shared upstream named "nope"/],
    [
      { upstreams: { a: { endpoint: 'http://x' } }, routes: [{ upstreams: ['a'], tenants: ['who'] }] },
      {},
      'routes[0].tenants[0]',
      /no tenant named "who"/,
    ],
    [
      { upstreams: { a: { endpoint: 'http://x' } }, routes: [{ upstreams: ['a'], signals: ['profiles'] }] },
      {},
      'routes[0].signals[0]',
      /one of metrics, logs, traces/,
    ],
    [{ routes: [{}] }, {}, 'routes[0].upstreams', /required/],
    [{ tenants: { acme: {} } }, {}, 'tenants.acme', /at least one of tokens, apiKeys/],
    [{ tenants: { acme: { tokens: ['short'] } } }, {}, 'tenants.acme.tokens[0]', /at least 8 characters \(value hidden\)/],
    [{ tenants: { a: { tokens: ['same-token-1'] }, b: { tokens: ['same-token-1'] } } }, {}, 'tenants.b.tokens[0]', /already given to tenant "a"/],
    [{ receivers: { grpc: { address: 'localhost' } } }, {}, 'receivers.grpc.address', /expected HOST:PORT/],
    [{ receivers: { http: { tls: { certFile: 'server.pem' } } } }, {}, 'receivers.http.tls', /both certFile and keyFile/],
    [{}, { grpc: '1.2.3.4:99999' }, '--grpc', /out of range/],
    [{}, { forward: ['http://ok:1', 'mailto:x'] }, '--forward[1]', /not supported|not a URL/],
    [{}, { verbosity: 'loud' }, '--verbosity', /basic, normal, detailed/],
    [{ limits: { maxRequestBytes: 0 } }, {}, 'limits.maxRequestBytes', /from 1/],
    [{ drainTimeout: -1 }, {}, 'drainTimeout', /from 0/],
    [{ auth: { apiKeyHeader: 'Authorization' } }, {}, 'auth.apiKeyHeader', /bearer tokens/],
    [
      { upstreams: { a: { endpoint: 'http://x' } }, selfTelemetry: { upstreams: { a: { endpoint: 'http://y' } } } },
      {},
      'selfTelemetry.upstreams.a',
      /already exists/,
    ],
    [[], {}, '', /expected a mapping/],
  ];
  for (const [doc, flags, at, problem] of table) {
    const e = errorOf(() => load(doc, flags));
    assert.is(e.path, at, `${JSON.stringify(doc)} ${JSON.stringify(flags)}: ${e.message}`);
    assert.match(e.problem, problem);
    if (at !== '') assert.match(e.message, `at ${at}: `);
  }
});

test('${ENV} expansion: values, defaults, $$, unset and malformed references', () => {
  const env = { HOST: 'collector', EMPTY: '' };
  assert.is(expandEnv('http://${HOST}:4318', env, 'p'), 'http://collector:4318');
  assert.is(expandEnv('${MISSING:-fallback}/${EMPTY:-e}/${HOST:-x}', env, 'p'), 'fallback/e/collector');
  assert.is(expandEnv('cost: $$5 ${EMPTY}', env, 'p'), 'cost: $5 ');
  assert.is(expandEnv('no refs $ here', env, 'p'), 'no refs $ here');
  const unset = errorOf(() => load({ upstreams: { a: { endpoint: '${NOPE}' } } }));
  assert.is(unset.path, 'upstreams.a.endpoint');
  assert.match(unset.problem, 'environment variable NOPE is not set');
  const malformed = errorOf(() => load({ upstreams: { a: { endpoint: 'http://${HOST' } } }, {}, env));
  assert.match(malformed.problem, 'malformed environment reference');
  // Expansion is on values only and cannot inject structure.
  const c = load({ upstreams: { a: { endpoint: 'http://x', headers: { h: '${V}' } } } }, {}, { V: 'a: {b: 1}' });
  assert.is(c.upstreams[0]!.headers['h'], 'a: {b: 1}');
});

test('units: sizes, durations, addresses, globs', () => {
  assert.is(byteSize('64MiB', 'p', 1, 2 ** 40), 64 * 1024 * 1024);
  assert.is(byteSize('1.5 KiB', 'p', 1, 2 ** 40), 1536);
  assert.is(byteSize('10MB', 'p', 1, 2 ** 40), 10_000_000);
  assert.is(byteSize(4096, 'p', 1, 2 ** 40), 4096);
  assert.is(byteSize('4096', 'p', 1, 2 ** 40), 4096);
  assert.is(millis('1.5s', 'p', 0, 1e9), 1500);
  assert.is(millis('2m', 'p', 0, 1e9), 120_000);
  assert.is(millis(250, 'p', 0, 1e9), 250);
  assert.equal(listenAddress('[::1]:4317', 'p'), { host: '::1', port: 4317 });
  assert.equal(listenAddress('localhost:0', 'p'), { host: 'localhost', port: 0 });
  const g = globToRegex('checkout-*.eu*');
  assert.ok(g.test('checkout-a.eu'));
  assert.ok(g.test('checkout-.eu-west'));
  assert.not.ok(g.test('checkout-aXeu'), 'the dot is literal');
  assert.not.ok(g.test('xcheckout-a.eu'));
  assert.ok(globToRegex('*').test(''));
});

test('an invalid YAML file and a missing file are config errors', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-config-'));
  try {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'upstreams:\n  a: { endpoint: http://x\n');
    assert.match(errorOf(() => loadGatewayConfig({ file })).problem, 'is not valid YAML');
    const dup = path.join(dir, 'dup.yaml');
    writeFileSync(dup, 'drainTimeout: 1s\ndrainTimeout: 2s\n');
    assert.match(errorOf(() => loadGatewayConfig({ file: dup })).problem, 'is not valid YAML');
    const missing = errorOf(() => loadGatewayConfig({ file: path.join(dir, 'nope.yaml') }));
    assert.is(missing.path, '--config');
    const empty = path.join(dir, 'empty.yaml');
    writeFileSync(empty, '# nothing\n');
    assert.is(loadGatewayConfig({ file: empty, env: {} }).grpc?.port, 4317);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('YAML text with a label (a remote configuration): parsed, expanded and validated like a file, relative paths against baseDir', () => {
  const config = loadGatewayConfig({
    text: 'upstreams:\n  a:\n    endpoint: ${A}\n    tls: { caFile: ca.pem }\n',
    label: 'remote config abc',
    env: { A: 'https://127.0.0.1:1' },
    baseDir: fixtures,
  });
  assert.equal(
    config.upstreams.map((u) => [u.name, u.endpoint, String(u.tls.ca).includes('BEGIN CERTIFICATE')]),
    [['a', 'https://127.0.0.1:1', true]],
  );
  const bad = errorOf(() => loadGatewayConfig({ text: 'upstreams: [\n', label: 'remote config abc', env: {} }));
  assert.is(bad.path, '');
  assert.match(bad.problem, /^remote config abc is not valid YAML/);
  assert.is(errorOf(() => loadGatewayConfig({ text: 'drainTimeout: soon\n', env: {} })).path, 'drainTimeout');
});

test('sameConfigData: equal loads are equal (sets, digests and arrays included); any changed value is not', () => {
  const doc = (token: string, signals: string[]) => ({
    upstreams: { a: { endpoint: 'http://127.0.0.1:1' } },
    tenants: { t: { tokens: [token] } },
    routes: [{ signals, upstreams: ['a'] }],
  });
  assert.ok(sameConfigData(load(doc('token-one', ['logs', 'metrics'])), load(doc('token-one', ['metrics', 'logs']))));
  assert.not.ok(sameConfigData(load(doc('token-one', ['logs'])), load(doc('token-two', ['logs']))), 'credential digests');
  assert.not.ok(sameConfigData(load(doc('token-one', ['logs'])), load(doc('token-one', ['metrics']))), 'route signal sets');
  assert.not.ok(sameConfigData([1], { 0: 1 }));
  assert.not.ok(sameConfigData(new Set([1]), [1]));
});

test.run();
