import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readBackendEnv, readEnv, type EnvConfig, type EnvRecord } from '../../src/config/env.js';
import type { BackendLayer } from '../../src/config/backend-layer.js';
import { resetWarnings, setDiagnosticSink } from '../../src/internal/warn.js';

const warnings: string[] = [];
function capture(): void {
  warnings.length = 0;
  resetWarnings();
  setDiagnosticSink((m) => warnings.push(m));
}

function at(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

// ---- scalar variables ----

const scalars = suite('config/env scalars');
scalars.before.each(capture);

// [variable, value, path in EnvConfig, expected, warned]
type Step = [string, string, string, unknown, boolean];
const steps: Step[] = [
  ['OTEL_SDK_DISABLED', 'true', 'disabled', true, false],
  ['OTEL_SDK_DISABLED', 'TRUE', 'disabled', true, false],
  ['OTEL_SDK_DISABLED', 'False', 'disabled', false, false],
  ['OTEL_SDK_DISABLED', 'yes', 'disabled', undefined, true],
  ['OTEL_SDK_DISABLED', '1', 'disabled', undefined, true],
  ['OTEL_SDK_DISABLED', '', 'disabled', undefined, false],
  ['OTEL_SDK_DISABLED', '   ', 'disabled', undefined, false],
  ['OTEL_SERVICE_NAME', ' checkout ', 'serviceName', 'checkout', false],
  ['OTEL_SERVICE_NAME', '', 'serviceName', undefined, false],
  ['OTEL_METRIC_EXPORT_INTERVAL', '5000', 'exportIntervalMillis', 5000, false],
  ['OTEL_METRIC_EXPORT_INTERVAL', ' 1 ', 'exportIntervalMillis', 1, false],
  ['OTEL_METRIC_EXPORT_INTERVAL', '2147483647', 'exportIntervalMillis', 2147483647, false],
  ['OTEL_METRIC_EXPORT_INTERVAL', '2147483648', 'exportIntervalMillis', undefined, true],
  ['OTEL_METRIC_EXPORT_INTERVAL', '0', 'exportIntervalMillis', undefined, true],
  ['OTEL_METRIC_EXPORT_INTERVAL', '-5', 'exportIntervalMillis', undefined, true],
  ['OTEL_METRIC_EXPORT_INTERVAL', '1e3', 'exportIntervalMillis', undefined, true],
  ['OTEL_METRIC_EXPORT_INTERVAL', '10s', 'exportIntervalMillis', undefined, true],
  ['OTEL_METRIC_EXPORT_INTERVAL', '1.5', 'exportIntervalMillis', undefined, true],
  ['OTEL_METRIC_EXPORT_TIMEOUT', '2500', 'exportTimeoutMillis', 2500, false],
  ['OTEL_METRIC_EXPORT_TIMEOUT', 'soon', 'exportTimeoutMillis', undefined, true],
  ['OTEL_FANOUT_RUNTIME_METRICS', 'true', 'runtimeMetrics', true, false],
  ['OTEL_FANOUT_RUNTIME_METRICS', 'on', 'runtimeMetrics', undefined, true],
  ['OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', 'Delta', 'temporality', 'delta', false],
  ['OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', 'LOWMEMORY', 'temporality', 'lowmemory', false],
  ['OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', 'cumulative', 'temporality', 'cumulative', false],
  ['OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', 'deltas', 'temporality', undefined, true],
  [
    'OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION',
    'BASE2_EXPONENTIAL_BUCKET_HISTOGRAM',
    'metrics.defaultHistogramAggregation',
    'base2_exponential_bucket_histogram',
    false,
  ],
  [
    'OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION',
    'explicit_bucket_histogram',
    'metrics.defaultHistogramAggregation',
    'explicit_bucket_histogram',
    false,
  ],
  ['OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION', 'exponential', 'metrics.defaultHistogramAggregation', undefined, true],
  ['OTEL_FANOUT_METRICS_CARDINALITY_LIMIT', '100', 'metrics.cardinalityLimit', 100, false],
  ['OTEL_FANOUT_METRICS_CARDINALITY_LIMIT', '0', 'metrics.cardinalityLimit', undefined, true],
  ['OTEL_BLRP_MAX_QUEUE_SIZE', '100', 'logs.batch.maxQueueSize', 100, false],
  ['OTEL_BLRP_MAX_QUEUE_SIZE', '0', 'logs.batch.maxQueueSize', undefined, true],
  ['OTEL_BLRP_MAX_EXPORT_BATCH_SIZE', '64', 'logs.batch.maxExportBatchSize', 64, false],
  ['OTEL_BLRP_MAX_EXPORT_BATCH_SIZE', 'all', 'logs.batch.maxExportBatchSize', undefined, true],
  ['OTEL_BLRP_SCHEDULE_DELAY', '0', 'logs.batch.scheduledDelayMillis', 0, false],
  ['OTEL_BLRP_SCHEDULE_DELAY', '-1', 'logs.batch.scheduledDelayMillis', undefined, true],
  ['OTEL_BLRP_EXPORT_TIMEOUT', '1000', 'logs.batch.exportTimeoutMillis', 1000, false],
  ['OTEL_BLRP_EXPORT_TIMEOUT', '0', 'logs.batch.exportTimeoutMillis', undefined, true],
  ['OTEL_ATTRIBUTE_COUNT_LIMIT', '0', 'logs.limits.attributeCountLimit', 0, false],
  ['OTEL_ATTRIBUTE_COUNT_LIMIT', '-1', 'logs.limits.attributeCountLimit', undefined, true],
  ['OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', '256', 'logs.limits.attributeValueLengthLimit', 256, false],
  ['OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'Infinity', 'logs.limits.attributeValueLengthLimit', undefined, true],
  ['OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT', '16', 'logs.limits.attributeCountLimit', 16, false],
  ['OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT', '32', 'logs.limits.attributeValueLengthLimit', 32, false],
  ['OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'x', 'logs.limits.attributeValueLengthLimit', undefined, true],
  ['OTEL_METRICS_EXPORTER', 'otlp', 'exporters.metrics', ['otlp'], false],
  ['OTEL_METRICS_EXPORTER', ' OTLP , console ', 'exporters.metrics', ['otlp', 'console'], false],
  ['OTEL_METRICS_EXPORTER', 'otlp,otlp', 'exporters.metrics', ['otlp'], false],
  ['OTEL_METRICS_EXPORTER', 'prometheus', 'exporters.metrics', ['prometheus'], false],
  ['OTEL_METRICS_EXPORTER', 'prometheus,otlp', 'exporters.metrics', ['prometheus', 'otlp'], false],
  ['OTEL_METRICS_EXPORTER', 'zipkin,otlp', 'exporters.metrics', ['otlp'], true],
  ['OTEL_LOGS_EXPORTER', 'prometheus', 'exporters.logs', [], true],
  ['OTEL_METRICS_EXPORTER', 'none', 'exporters.metrics', ['none'], false],
  ['OTEL_METRICS_EXPORTER', 'none,otlp', 'exporters.metrics', ['none'], true],
  ['OTEL_LOGS_EXPORTER', 'console', 'exporters.logs', ['console'], false],
  ['OTEL_LOGS_EXPORTER', 'zipkin', 'exporters.logs', [], true],
  ['OTEL_FANOUT_STORAGE_DIRECTORY', ' /var/lib/app queue ', 'storage.directory', '/var/lib/app queue', false],
  ['OTEL_FANOUT_STORAGE_MAX_BYTES', '1048576', 'storage.maxBytes', 1048576, false],
  ['OTEL_FANOUT_STORAGE_MAX_BYTES', '1GiB', 'storage.maxBytes', undefined, true],
  ['OTEL_FANOUT_STORAGE_MAX_BYTES', '1GiB', 'storage.invalid', ['maxBytes'], true],
  ['OTEL_FANOUT_STORAGE_FSYNC', 'Always', 'storage.fsync', 'always', false],
  ['OTEL_FANOUT_STORAGE_FSYNC', 'sometimes', 'storage.invalid', ['fsync'], true],
];

for (const [variable, value, path, want, warned] of steps) {
  scalars(`${variable}=${JSON.stringify(value)}`, () => {
    const got = readEnv({ [variable]: value });
    assert.equal(at(got, path), want);
    assert.is(warnings.length, warned ? 1 : 0, warnings.join('\n'));
    if (warned) {
      assert.match(warnings[0]!, variable);
      // The value is named (these variables carry no secrets) and so is what is allowed.
      assert.match(warnings[0]!, JSON.stringify(value.trim()).slice(1, -1));
      assert.match(warnings[0]!, /expected|together/);
    }
  });
}

scalars('the log record limits win over the general ones', () => {
  const got = readEnv({ OTEL_ATTRIBUTE_COUNT_LIMIT: '10', OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT: '20', OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '5' });
  assert.is(got.logs.limits.attributeCountLimit, 20);
  assert.is(got.logs.limits.attributeValueLengthLimit, 5);
});

scalars('a bad value warns once however often it is read', () => {
  readEnv({ OTEL_METRIC_EXPORT_INTERVAL: 'x' });
  readEnv({ OTEL_METRIC_EXPORT_INTERVAL: 'x' });
  assert.is(warnings.length, 1);
});

scalars('an empty environment says nothing and declares no backend', () => {
  const got = readEnv({});
  assert.equal(got.backends, []);
  assert.is(got.inactiveOtlp, undefined);
  assert.equal(got.resourceAttributes, {});
  assert.equal(warnings, []);
});

// ---- resource attributes ----

const resource = suite('config/env OTEL_RESOURCE_ATTRIBUTES');
resource.before.each(capture);

resource('decoded, trimmed, later duplicates win', () => {
  const got = readEnv({ OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod, team = a%2Cb ,team=c%20d,url=http%3A%2F%2Fx' });
  assert.equal(got.resourceAttributes, { 'deployment.environment.name': 'prod', team: 'c d', url: 'http://x' });
  assert.equal(warnings, []);
});

resource('bad entries are skipped with one warning naming the variable and value', () => {
  const got = readEnv({ OTEL_RESOURCE_ATTRIBUTES: 'a=1,oops,b=%zz,c=3' });
  assert.equal(got.resourceAttributes, { a: '1', c: '3' });
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, 'OTEL_RESOURCE_ATTRIBUTES');
  assert.match(warnings[0]!, 'a=1,oops,b=%zz,c=3');
  assert.match(warnings[0]!, 'entry 2 has no "="');
  assert.match(warnings[0]!, 'entry 3 has an invalid percent-encoding');
});

const common = suite('config/env OTEL_FANOUT_ATTRIBUTES');
common.before.each(capture);

common('the syntax and decoding of OTEL_RESOURCE_ATTRIBUTES; unset is empty', () => {
  assert.equal(readEnv({}).attributes, {});
  const got = readEnv({ OTEL_FANOUT_ATTRIBUTES: ' tenant = a%2Cb ,sandbox=s1,sandbox=s%202' });
  assert.equal(got.attributes, { tenant: 'a,b', sandbox: 's 2' });
  assert.equal(got.resourceAttributes, {}, 'not the resource');
  assert.equal(warnings, []);
});

common('bad entries are skipped with one warning naming the variable', () => {
  const got = readEnv({ OTEL_FANOUT_ATTRIBUTES: 'node=n1,oops' });
  assert.equal(got.attributes, { node: 'n1' });
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, /^otlp-fanout: OTEL_FANOUT_ATTRIBUTES: "node=n1,oops" is not allowed; .*entry 2 has no "="/);
});

// ---- OTLP connection variables ----

const otlp = suite('config/env OTEL_EXPORTER_OTLP_*');
otlp.before.each(capture);

// [variable, value, path in the `otlp` layer, expected, warned]
const targetSteps: Step[] = [
  [
    'OTEL_EXPORTER_OTLP_ENDPOINT',
    'http://c:4318',
    'target.endpoint',
    { value: 'http://c:4318', field: 'OTEL_EXPORTER_OTLP_ENDPOINT', perSignal: false },
    false,
  ],
  [
    'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
    'http://c:4318/m',
    'metrics.endpoint',
    { value: 'http://c:4318/m', field: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', perSignal: true },
    false,
  ],
  [
    'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT',
    'c:4317',
    'logs.endpoint',
    { value: 'c:4317', field: 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT', perSignal: true },
    false,
  ],
  ['OTEL_EXPORTER_OTLP_ENDPOINT', 'ftp://c', 'target.endpointInvalid', true, true],
  ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc', 'target.protocol', 'grpc', false],
  ['OTEL_EXPORTER_OTLP_PROTOCOL', 'HTTP/JSON', 'target.protocol', 'http/json', false],
  ['OTEL_EXPORTER_OTLP_PROTOCOL', 'http', 'target.protocol', undefined, true],
  ['OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', 'http/protobuf', 'metrics.protocol', 'http/protobuf', false],
  ['OTEL_EXPORTER_OTLP_LOGS_PROTOCOL', 'thrift', 'logs.protocol', undefined, true],
  ['OTEL_EXPORTER_OTLP_TIMEOUT', '2000', 'target.timeoutMillis', 2000, false],
  ['OTEL_EXPORTER_OTLP_TIMEOUT', '0', 'target.timeoutMillis', undefined, true],
  ['OTEL_EXPORTER_OTLP_LOGS_TIMEOUT', '500', 'logs.timeoutMillis', 500, false],
  ['OTEL_EXPORTER_OTLP_COMPRESSION', 'GZIP', 'target.compression', 'gzip', false],
  ['OTEL_EXPORTER_OTLP_COMPRESSION', 'none', 'target.compression', 'none', false],
  ['OTEL_EXPORTER_OTLP_COMPRESSION', 'zstd', 'target.compression', undefined, true],
  ['OTEL_EXPORTER_OTLP_METRICS_COMPRESSION', 'gzip', 'metrics.compression', 'gzip', false],
  ['OTEL_EXPORTER_OTLP_CERTIFICATE', '/etc/ca.pem', 'target.ca', { field: 'OTEL_EXPORTER_OTLP_CERTIFICATE', file: '/etc/ca.pem' }, false],
  [
    'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE',
    '/etc/c.pem',
    'target.cert',
    { field: 'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE', file: '/etc/c.pem' },
    false,
  ],
  ['OTEL_EXPORTER_OTLP_CLIENT_KEY', '/etc/k.pem', 'target.key', { field: 'OTEL_EXPORTER_OTLP_CLIENT_KEY', file: '/etc/k.pem' }, false],
  [
    'OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE',
    '/m/ca.pem',
    'metrics.ca',
    { field: 'OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE', file: '/m/ca.pem' },
    false,
  ],
  ['OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY', '/l/k.pem', 'logs.key', { field: 'OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY', file: '/l/k.pem' }, false],
  ['OTEL_EXPORTER_OTLP_INSECURE', 'true', 'target.insecure', true, false],
  ['OTEL_EXPORTER_OTLP_INSECURE', 'false', 'target.insecure', false, false],
  ['OTEL_EXPORTER_OTLP_INSECURE', 'maybe', 'target.insecure', undefined, true],
  ['OTEL_EXPORTER_OTLP_METRICS_INSECURE', 'TRUE', 'metrics.insecure', true, false],
  ['OTEL_EXPORTER_OTLP_HEADERS', 'a=1,B=x%20y', 'target.headers', { a: '1', b: 'x y' }, false],
  ['OTEL_EXPORTER_OTLP_METRICS_HEADERS', 'm=1', 'metrics.headers', { m: '1' }, false],
  ['OTEL_EXPORTER_OTLP_LOGS_HEADERS', 'l=%zz', 'logs.headers', {}, true],
];
for (const [variable, value, path, want, warned] of targetSteps) {
  otlp(`${variable}=${JSON.stringify(value)}`, () => {
    const layer = readBackendEnv({ [variable]: value }, 'otlp');
    assert.equal(at(layer, path), want);
    assert.equal(layer.variables, [variable]);
    assert.is(warnings.length, warned ? 1 : 0, warnings.join('\n'));
    if (warned) assert.match(warnings[0]!, variable);
  });
}

otlp('header warnings hide the value: it is usually a credential', () => {
  const layer = readBackendEnv({ OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20s3cr3t,broken-s3cr3t' }, 'otlp');
  assert.equal(layer.target.headers, { authorization: 'Bearer s3cr3t' });
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, 'OTEL_EXPORTER_OTLP_HEADERS');
  assert.not.match(warnings[0]!, 's3cr3t');
});

// ---- which backends the environment declares ----

const declared = suite('config/env backends');
declared.before.each(capture);

const summary = (cfg: EnvConfig): Array<[string, string | undefined, readonly string[] | undefined]> =>
  cfg.backends.map((b) => [b.name, b.kind, b.signals]);

// [env, expected [name, kind, signals], inactive otlp?]
const activation: Array<[string, EnvRecord, ReturnType<typeof summary>, boolean]> = [
  ['nothing', {}, [], false],
  ['headers alone connect nowhere', { OTEL_EXPORTER_OTLP_HEADERS: 'a=b' }, [], true],
  ['protocol alone connects nowhere', { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, [], true],
  ['generic endpoint: both signals', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, [['otlp', undefined, ['metrics', 'logs']]], false],
  ['metrics endpoint: metrics only', { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://c:4318/v1/metrics' }, [['otlp', undefined, ['metrics']]], false],
  ['logs endpoint: logs only', { OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://c:4318/v1/logs' }, [['otlp', undefined, ['logs']]], false],
  ['explicit otlp exporter: default endpoint', { OTEL_METRICS_EXPORTER: 'otlp' }, [['otlp', undefined, ['metrics']]], false],
  ['explicit otlp for both', { OTEL_METRICS_EXPORTER: 'otlp', OTEL_LOGS_EXPORTER: 'otlp' }, [['otlp', undefined, ['metrics', 'logs']]], false],
  ['none switches a signal off', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_METRICS_EXPORTER: 'none' }, [['otlp', undefined, ['logs']]], false],
  [
    'an exporter list without otlp wins over the endpoint',
    { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_METRICS_EXPORTER: 'console', OTEL_LOGS_EXPORTER: 'none' },
    [['console', 'console', ['metrics']]],
    true,
  ],
  ['console for both', { OTEL_METRICS_EXPORTER: 'console', OTEL_LOGS_EXPORTER: 'console' }, [['console', 'console', ['metrics', 'logs']]], false],
  [
    'otlp and console',
    { OTEL_METRICS_EXPORTER: 'otlp,console' },
    [
      ['otlp', undefined, ['metrics']],
      ['console', 'console', ['metrics']],
    ],
    false,
  ],
  [
    'a broken endpoint still selects OTLP (the resolver leaves it out)',
    { OTEL_EXPORTER_OTLP_ENDPOINT: 'nope://' },
    [['otlp', undefined, ['metrics', 'logs']]],
    false,
  ],
  [
    'named backends',
    { OTEL_FANOUT_BACKENDS: 'tenant, central' },
    [
      ['tenant', undefined, ['metrics', 'logs']],
      ['central', undefined, ['metrics', 'logs']],
    ],
    false,
  ],
  ['named with SIGNALS', { OTEL_FANOUT_BACKENDS: 'a', OTEL_FANOUT_BACKEND_A_SIGNALS: 'LOGS' }, [['a', undefined, ['logs']]], false],
  [
    'none is a kill switch for named backends',
    { OTEL_FANOUT_BACKENDS: 'a,b', OTEL_LOGS_EXPORTER: 'none', OTEL_FANOUT_BACKEND_B_SIGNALS: 'logs' },
    [
      ['a', undefined, ['metrics']],
      ['b', undefined, []],
    ],
    false,
  ],
  [
    'otlp, console and named, in that order',
    { OTEL_FANOUT_BACKENDS: 'z', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_LOGS_EXPORTER: 'otlp,console' },
    [
      ['otlp', undefined, ['metrics', 'logs']],
      ['console', 'console', ['logs']],
      ['z', undefined, ['metrics', 'logs']],
    ],
    false,
  ],
];
for (const [title, env, want, inactive] of activation) {
  declared(title, () => {
    const cfg = readEnv(env);
    assert.equal(summary(cfg), want);
    assert.is(cfg.inactiveOtlp !== undefined, inactive);
  });
}

// [OTEL_FANOUT_BACKENDS, kept names, warnings naming these values]
const naming: Array<[string, string[], string[]]> = [
  ['a,b', ['a', 'b'], []],
  ['a,,b,', ['a', 'b'], []],
  ['tenant-eu.1', ['tenant-eu.1'], []],
  ['otlp,a', ['a'], ['"otlp"']],
  ['console', [], ['"console"']],
  ['a,bad name,b', ['a', 'b'], ['"bad name"']],
  ['-a', [], ['"-a"']],
  [`${'x'.repeat(65)}`, [], ['xxxxx']],
  ['a,a', ['a'], ['"a"']],
  ['a,A', ['a'], ['"A"']],
  ['a-b,a_b', ['a-b'], ['"a_b"']],
  ['a,a_metrics', ['a'], ['"a_metrics"']],
  ['a_logs,a', ['a_logs'], ['"a"']],
];
for (const [value, names, warned] of naming) {
  declared(`OTEL_FANOUT_BACKENDS=${JSON.stringify(value)}`, () => {
    const cfg = readEnv({ OTEL_FANOUT_BACKENDS: value });
    assert.equal(
      cfg.backends.map((b) => b.name),
      names,
    );
    assert.is(warnings.length, warned.length, warnings.join('\n'));
    warned.forEach((w, i) => {
      assert.match(warnings[i]!, 'OTEL_FANOUT_BACKENDS');
      assert.match(warnings[i]!, w);
    });
  });
}

declared('the multi-backend scheme reads every per-backend variable', () => {
  const cfg = readEnv({
    OTEL_FANOUT_BACKENDS: 'tenant,central-eu',
    OTEL_FANOUT_BACKEND_TENANT_ENDPOINT: 'http://127.0.0.1:4317',
    OTEL_FANOUT_BACKEND_TENANT_PROTOCOL: 'grpc',
    OTEL_FANOUT_BACKEND_TENANT_TEMPORALITY: 'delta',
    OTEL_FANOUT_BACKEND_TENANT_HEADERS: 'authorization=Bearer%20abc',
    OTEL_FANOUT_BACKEND_TENANT_COMPRESSION: 'gzip',
    OTEL_FANOUT_BACKEND_TENANT_TIMEOUT: '3000',
    OTEL_FANOUT_BACKEND_TENANT_SIGNALS: 'metrics',
    OTEL_FANOUT_BACKEND_CENTRAL_EU_ENDPOINT: 'https://central:4318',
    OTEL_FANOUT_BACKEND_CENTRAL_EU_LOGS_ENDPOINT: 'https://logs.central/ingest',
    OTEL_FANOUT_BACKEND_CENTRAL_EU_CERTIFICATE: '/etc/central-ca.pem',
    OTEL_FANOUT_BACKEND_CENTRAL_EU_INSECURE: 'false',
    OTEL_FANOUT_BACKEND_CENTRAL_EU_METRICS_HEADERS: 'x-kind=metrics',
  });
  assert.equal(warnings, []);
  const [tenant, central] = cfg.backends as [BackendLayer, BackendLayer];
  assert.is(tenant.name, 'tenant');
  assert.is(tenant.temporality, 'delta');
  assert.equal(tenant.signals, ['metrics']);
  assert.equal(tenant.target, {
    endpoint: { value: 'http://127.0.0.1:4317', field: 'OTEL_FANOUT_BACKEND_TENANT_ENDPOINT', perSignal: false },
    endpointInvalid: undefined,
    headers: { authorization: 'Bearer abc' },
    protocol: 'grpc',
    timeoutMillis: 3000,
    compression: 'gzip',
    ca: undefined,
    cert: undefined,
    key: undefined,
    insecure: undefined,
  });
  assert.is(tenant.variables.length, 7);
  assert.is(central.name, 'central-eu');
  assert.equal(central.logs.endpoint, {
    value: 'https://logs.central/ingest',
    field: 'OTEL_FANOUT_BACKEND_CENTRAL_EU_LOGS_ENDPOINT',
    perSignal: true,
  });
  assert.equal(central.target.ca, { field: 'OTEL_FANOUT_BACKEND_CENTRAL_EU_CERTIFICATE', file: '/etc/central-ca.pem' });
  assert.is(central.target.insecure, false);
  assert.equal(central.metrics.headers, { 'x-kind': 'metrics' });
  assert.equal(central.signals, ['metrics', 'logs']);
});

declared('named backend bad values warn naming the per-backend variable', () => {
  const cfg = readEnv({
    OTEL_FANOUT_BACKENDS: 'a',
    OTEL_FANOUT_BACKEND_A_TEMPORALITY: 'sometimes',
    OTEL_FANOUT_BACKEND_A_SIGNALS: 'metrics,traces',
    OTEL_FANOUT_BACKEND_A_PROTOCOL: 'udp',
  });
  const a = cfg.backends[0]!;
  assert.is(a.temporality, undefined);
  assert.equal(a.signals, ['metrics']);
  assert.is(a.target.protocol, undefined);
  assert.is(warnings.length, 3);
  assert.ok(warnings.some((w) => w.includes('OTEL_FANOUT_BACKEND_A_TEMPORALITY') && w.includes('"sometimes"')));
  assert.ok(warnings.some((w) => w.includes('OTEL_FANOUT_BACKEND_A_SIGNALS') && w.includes('"traces"')));
  assert.ok(warnings.some((w) => w.includes('OTEL_FANOUT_BACKEND_A_PROTOCOL') && w.includes('"udp"')));
});

declared('the generic OTLP variables never leak into a named backend', () => {
  const cfg = readEnv({ OTEL_FANOUT_BACKENDS: 'a', OTEL_EXPORTER_OTLP_HEADERS: 'authorization=secret', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
  const a = cfg.backends.find((b) => b.name === 'a')!;
  assert.is(a.target.headers, undefined);
  assert.is(a.target.protocol, undefined);
});

scalars.run();
resource.run();
common.run();
otlp.run();
declared.run();
