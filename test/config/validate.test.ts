import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, type ResolvedBackend, type ResolvedConfig, type ResolvedOtlpBackend } from '../../src/config/validate.js';
import { ConfigError } from '../../src/config/config-error.js';
import { DEFAULTS, type BackendOptions, type TelemetryOptions } from '../../src/config/options.js';
import type { EnvRecord } from '../../src/config/env.js';
import type { ViewOptions } from '../../src/metrics/view.js';
import { resetWarnings, setDiagnosticSink } from '../../src/internal/warn.js';

const warnings: string[] = [];
function capture(): void {
  warnings.length = 0;
  resetWarnings();
  setDiagnosticSink((m) => warnings.push(m));
}
const otlpBackend = (cfg: ResolvedConfig, name: string): ResolvedOtlpBackend => {
  const b = cfg.backends.find((x) => x.name === name);
  assert.ok(b, `backend ${name} exists`);
  assert.is(b!.kind, 'otlp');
  return b as ResolvedOtlpBackend;
};
const names = (cfg: ResolvedConfig): string[] => cfg.backends.map((b) => b.name);

// ---- defaults and the product's entry point ----

const basics = suite('config/validate basics');
basics.before.each(capture);

basics('nothing configured: every default, no backend, no warning', () => {
  const cfg = resolveConfig({}, {});
  assert.is(cfg.disabled, false);
  assert.equal(cfg.backends, []);
  assert.is(cfg.exportIntervalMillis, 60_000);
  assert.is(cfg.exportTimeoutMillis, 30_000);
  assert.is(cfg.runtimeMetrics, false);
  assert.equal(cfg.metrics, { cardinalityLimit: 2000, defaultHistogramAggregation: 'explicit_bucket_histogram', views: [] });
  assert.equal(cfg.logs, {
    batch: { maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMillis: 1000, exportTimeoutMillis: 30_000 },
    limits: { attributeCountLimit: 128, attributeValueLengthLimit: Infinity },
  });
  assert.is(cfg.serviceName, cfg.resource['service.name']);
  assert.equal(warnings, []);
});

basics('the product example resolves to two ready backends', () => {
  const cfg = resolveConfig(
    {
      serviceName: 'checkout',
      resource: { 'deployment.environment.name': 'prod' },
      backends: [
        { name: 'tenant', endpoint: 'http://127.0.0.1:4317', protocol: 'grpc', temporality: 'delta', headers: { authorization: 'Bearer t' } },
        { name: 'central', endpoint: 'http://127.0.0.1:4318', protocol: 'http/protobuf' },
      ],
      exportIntervalMillis: 10_000,
    },
    {},
  );
  assert.equal(warnings, []);
  assert.is(cfg.serviceName, 'checkout');
  assert.is(cfg.resource['deployment.environment.name'], 'prod');
  assert.is(cfg.exportIntervalMillis, 10_000);
  assert.is(cfg.exportTimeoutMillis, 10_000); // the default 30000 is clamped to the interval
  const tenant = otlpBackend(cfg, 'tenant');
  assert.is(tenant.source, 'code');
  assert.is(tenant.temporality, 'delta');
  assert.equal(tenant.signals, ['metrics', 'logs']);
  assert.equal(tenant.metrics, {
    url: 'http://127.0.0.1:4317',
    protocol: 'grpc',
    headers: { authorization: 'Bearer t' },
    compression: 'none',
    timeoutMillis: 10_000,
    tls: { ca: undefined, cert: undefined, key: undefined, insecure: false },
  });
  assert.is(tenant.logs!.url, 'http://127.0.0.1:4317');
  assert.equal(tenant.queue, DEFAULTS.backend.queue);
  assert.equal(tenant.retry, DEFAULTS.backend.retry);
  assert.is(tenant.maxRequestBytes, 64 * 1024 * 1024);
  assert.is(tenant.maxPointsPerRequest, Infinity);
  const central = otlpBackend(cfg, 'central');
  assert.is(central.temporality, 'cumulative');
  assert.is(central.metrics!.url, 'http://127.0.0.1:4318/v1/metrics');
  assert.is(central.logs!.url, 'http://127.0.0.1:4318/v1/logs');
});

basics('the result is deeply frozen', () => {
  const cfg = resolveConfig(
    {
      backends: [
        { name: 'a', headers: { x: '1' } },
        { name: 'm', kind: 'memory' },
      ],
    },
    {},
  );
  const a = otlpBackend(cfg, 'a');
  for (const o of [
    cfg,
    cfg.resource,
    cfg.metrics,
    cfg.metrics.views,
    cfg.logs,
    cfg.logs.batch,
    cfg.logs.limits,
    cfg.backends,
    a,
    a.signals,
    a.metrics,
    a.metrics!.headers,
    a.metrics!.tls,
    a.queue,
    a.retry,
    cfg.backends[1],
    cfg.backends[1]!.signals,
  ]) {
    assert.ok(Object.isFrozen(o));
  }
});

basics('disabled: no backend, and no file is read', () => {
  for (const [options, env] of [
    [{}, { OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c', OTEL_EXPORTER_OTLP_CERTIFICATE: '/nonexistent/ca.pem' }],
    [{ disabled: true, backends: [{ name: 'a', tls: { caFile: '/nonexistent/ca.pem' } }] }, {}],
  ] as Array<[TelemetryOptions, EnvRecord]>) {
    const cfg = resolveConfig(options, env);
    assert.is(cfg.disabled, true);
    assert.equal(cfg.backends, []);
  }
  assert.equal(warnings, []);
});

basics('code disabled:false wins over OTEL_SDK_DISABLED', () => {
  const cfg = resolveConfig({ disabled: false }, { OTEL_SDK_DISABLED: 'true', OTEL_METRICS_EXPORTER: 'otlp' });
  assert.is(cfg.disabled, false);
  assert.equal(names(cfg), ['otlp']);
});

basics('views pass through untouched', () => {
  const view = { instrumentName: 'http.*', cardinalityLimit: 10 };
  const cfg = resolveConfig({ metrics: { views: [view] } }, {});
  assert.is(cfg.metrics.views[0], view);
});

// ---- precedence: code > environment > default ----

const precedence = suite('config/validate precedence');
precedence.before.each(capture);

// [path, code options, env, expected, warnings]
type P = [string, TelemetryOptions, EnvRecord, unknown, number];
const pSteps: P[] = [
  ['exportIntervalMillis', { exportIntervalMillis: 1000 }, { OTEL_METRIC_EXPORT_INTERVAL: '5000' }, 1000, 0],
  ['exportIntervalMillis', {}, { OTEL_METRIC_EXPORT_INTERVAL: '5000' }, 5000, 0],
  ['exportIntervalMillis', { exportIntervalMillis: -1 }, { OTEL_METRIC_EXPORT_INTERVAL: '5000' }, 5000, 1],
  ['exportIntervalMillis', { exportIntervalMillis: Number.NaN }, {}, 60_000, 1],
  ['exportIntervalMillis', { exportIntervalMillis: '1000' as unknown as number }, {}, 60_000, 1],
  ['exportTimeoutMillis', { exportTimeoutMillis: 2000 }, { OTEL_METRIC_EXPORT_TIMEOUT: '3000' }, 2000, 0],
  ['exportTimeoutMillis', {}, { OTEL_METRIC_EXPORT_TIMEOUT: '3000' }, 3000, 0],
  ['runtimeMetrics', {}, { OTEL_FANOUT_RUNTIME_METRICS: 'true' }, true, 0],
  ['runtimeMetrics', { runtimeMetrics: false }, { OTEL_FANOUT_RUNTIME_METRICS: 'true' }, false, 0],
  ['runtimeMetrics', { runtimeMetrics: 'yes' as unknown as boolean }, {}, false, 1],
  ['disabled', {}, { OTEL_SDK_DISABLED: 'TRUE' }, true, 0],
  ['metrics.cardinalityLimit', { metrics: { cardinalityLimit: 50 } }, { OTEL_FANOUT_METRICS_CARDINALITY_LIMIT: '100' }, 50, 0],
  ['metrics.cardinalityLimit', {}, { OTEL_FANOUT_METRICS_CARDINALITY_LIMIT: '100' }, 100, 0],
  ['metrics.cardinalityLimit', { metrics: { cardinalityLimit: 1.5 } }, {}, 2000, 1],
  [
    'metrics.defaultHistogramAggregation',
    {},
    { OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: 'base2_exponential_bucket_histogram' },
    'base2_exponential_bucket_histogram',
    0,
  ],
  [
    'metrics.defaultHistogramAggregation',
    { metrics: { defaultHistogramAggregation: 'explicit_bucket_histogram' } },
    { OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: 'base2_exponential_bucket_histogram' },
    'explicit_bucket_histogram',
    0,
  ],
  [
    'metrics.defaultHistogramAggregation',
    { metrics: { defaultHistogramAggregation: 'exponential' as 'explicit_bucket_histogram' } },
    {},
    'explicit_bucket_histogram',
    1,
  ],
  ['logs.batch.maxQueueSize', { logs: { batch: { maxQueueSize: 10 } } }, { OTEL_BLRP_MAX_QUEUE_SIZE: '20' }, 10, 0],
  // The default batch (512) meets a smaller queue: clamped quietly, the user set nothing wrong.
  ['logs.batch.maxExportBatchSize', { logs: { batch: { maxQueueSize: 10 } } }, {}, 10, 0],
  ['logs.batch.maxExportBatchSize', { logs: { batch: { maxQueueSize: 10 } } }, { OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '20' }, 10, 1],
  ['logs.batch.maxExportBatchSize', {}, { OTEL_BLRP_MAX_QUEUE_SIZE: '8', OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '9' }, 8, 1],
  ['logs.batch.maxExportBatchSize', {}, { OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '100' }, 100, 0],
  ['logs.batch.scheduledDelayMillis', { logs: { batch: { scheduledDelayMillis: 0 } } }, { OTEL_BLRP_SCHEDULE_DELAY: '50' }, 0, 0],
  ['logs.batch.scheduledDelayMillis', {}, { OTEL_BLRP_SCHEDULE_DELAY: '50' }, 50, 0],
  ['logs.batch.exportTimeoutMillis', {}, { OTEL_BLRP_EXPORT_TIMEOUT: '700' }, 700, 0],
  ['logs.limits.attributeCountLimit', { logs: { limits: { attributeCountLimit: 0 } } }, { OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT: '5' }, 0, 0],
  ['logs.limits.attributeCountLimit', {}, { OTEL_ATTRIBUTE_COUNT_LIMIT: '7' }, 7, 0],
  [
    'logs.limits.attributeValueLengthLimit',
    { logs: { limits: { attributeValueLengthLimit: Infinity } } },
    { OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '9' },
    Infinity,
    0,
  ],
  ['logs.limits.attributeValueLengthLimit', {}, { OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '9' }, 9, 0],
  ['logs.limits.attributeValueLengthLimit', { logs: { limits: { attributeValueLengthLimit: -1 } } }, {}, Infinity, 1],
  ['logs.batch.maxQueueSize', { logs: 'big' as unknown as NonNullable<TelemetryOptions['logs']> }, {}, 2048, 1],
];
pSteps.forEach(([path, options, env, want, warned], i) => {
  precedence(`#${i} ${path} from ${JSON.stringify(options)} over ${JSON.stringify(env)}`, () => {
    const cfg = resolveConfig(options, env);
    let cur: unknown = cfg;
    for (const part of path.split('.')) cur = (cur as Record<string, unknown>)[part];
    assert.is(cur, want);
    assert.is(warnings.length, warned, warnings.join('\n'));
  });
});

precedence('a code warning names the option path, the value and what is allowed', () => {
  resolveConfig({ exportIntervalMillis: -5 }, {});
  assert.equal(warnings, ['otlp-fanout: exportIntervalMillis: -5 is not allowed; expected a number from 1 to 2147483647; using the default']);
});

precedence('export timeout is clamped to the interval, naming where each came from', () => {
  const cfg = resolveConfig({ exportIntervalMillis: 1000 }, { OTEL_METRIC_EXPORT_TIMEOUT: '5000' });
  assert.is(cfg.exportTimeoutMillis, 1000);
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, 'OTEL_METRIC_EXPORT_TIMEOUT: 5000');
  assert.match(warnings[0]!, 'exportIntervalMillis (1000)');
});

precedence('the default timeout is clamped to a short interval without a warning', () => {
  const cfg = resolveConfig({ exportIntervalMillis: 10_000 }, {});
  assert.is(cfg.exportTimeoutMillis, 10_000);
  // The product example sets only the interval; a warning there would be noise about our own default.
  assert.equal(warnings, []);
});

// ---- ConfigError: structural mistakes only ----

const errors = suite('config/validate ConfigError');
errors.before.each(capture);

// [title, options, field]
const structural: Array<[string, unknown, string]> = [
  ['options null', null, 'options'],
  ['options a string', 'x', 'options'],
  ['backends not an array', { backends: { name: 'a' } }, 'backends'],
  ['a backend that is not an object', { backends: ['http://c'] }, 'backends[0]'],
  ['a backend without a name', { backends: [{ endpoint: 'http://c' }] }, 'backends[0].name'],
  ['a backend name with a space', { backends: [{ name: 'a' }, { name: 'my backend' }] }, 'backends[1].name'],
  ['an empty name', { backends: [{ name: '' }] }, 'backends[0].name'],
  ['two backends with one name', { backends: [{ name: 'a' }, { name: 'a' }] }, 'backends[1].name'],
];
for (const [title, options, field] of structural) {
  errors(title, () => {
    try {
      resolveConfig(options as TelemetryOptions, {});
      assert.unreachable('should throw');
    } catch (err) {
      assert.instance(err, ConfigError);
      const e = err as ConfigError;
      assert.is(e.field, field);
      assert.ok(e.message.startsWith(`${field}: `), e.message);
      assert.match(e.message, 'expected');
    }
  });
}

errors('everything else is a warning, never a throw', () => {
  const cfg = resolveConfig(
    {
      serviceName: 42 as unknown as string,
      exportIntervalMillis: -1,
      metrics: 'x' as unknown as NonNullable<TelemetryOptions['metrics']>,
      backends: [
        {
          name: 'a',
          protocol: 'grpcc' as 'grpc',
          compression: 'br' as 'gzip',
          temporality: 'sometimes' as 'delta',
          timeoutMillis: 0,
          headers: 'a=b' as unknown as Record<string, string>,
          signals: ['metrics', 'traces' as 'logs'],
          tls: { ca: 5 as unknown as string, insecure: 'yes' as unknown as boolean },
          queue: { maxBytes: -1, maxRequests: 0.5 },
          retry: { enabled: 'no' as unknown as boolean, multiplier: 0.5, jitter: 2, initialBackoffMillis: 0, maxElapsedMillis: -1 },
          maxRequestBytes: 'big' as unknown as number,
          maxPointsPerRequest: 0,
        },
      ],
    },
    {},
  );
  const a = otlpBackend(cfg, 'a');
  assert.equal(a.signals, ['metrics']);
  assert.is(a.metrics!.protocol, 'http/protobuf');
  assert.is(a.metrics!.compression, 'none');
  assert.is(a.temporality, 'cumulative');
  assert.is(a.metrics!.timeoutMillis, 10_000);
  assert.equal(a.metrics!.headers, {});
  assert.equal(a.queue, DEFAULTS.backend.queue);
  assert.equal(a.retry, DEFAULTS.backend.retry);
  assert.is(a.maxRequestBytes, DEFAULTS.backend.maxRequestBytes);
  assert.is(a.maxPointsPerRequest, Infinity);
  for (const field of [
    'serviceName',
    'exportIntervalMillis',
    'metrics:',
    'backends[0].protocol',
    'backends[0].compression',
    'backends[0].temporality',
    'backends[0].timeoutMillis',
    'backends[0].headers',
    'backends[0].signals',
    'backends[0].tls.ca',
    'backends[0].tls.insecure',
    'backends[0].queue.maxBytes',
    'backends[0].queue.maxRequests',
    'backends[0].retry.enabled',
    'backends[0].retry.multiplier',
    'backends[0].retry.jitter',
    'backends[0].retry.initialBackoffMillis',
    'backends[0].retry.maxElapsedMillis',
    'backends[0].maxRequestBytes',
    'backends[0].maxPointsPerRequest',
  ]) {
    assert.ok(
      warnings.some((w) => w.includes(field)),
      `a warning names ${field}\n${warnings.join('\n')}`,
    );
  }
});

errors('a bad endpoint or kind leaves the backend out instead of sending elsewhere', () => {
  const cfg = resolveConfig(
    {
      backends: [
        { name: 'a', endpoint: 'ftp://c' },
        { name: 'b', metrics: { endpoint: 'http://u:p@c' } },
        { name: 'c', kind: 'kafka' as 'otlp' },
        { name: 'd', endpoint: 42 as unknown as string },
        { name: 'ok', endpoint: 'http://c:4318' },
      ],
    },
    {},
  );
  assert.equal(names(cfg), ['ok']);
  assert.is(warnings.length, 4, warnings.join('\n'));
  assert.ok(warnings[0]!.includes('backends[0].endpoint: "ftp://c"'));
  assert.ok(warnings[1]!.includes('backends[1].metrics.endpoint'));
  assert.ok(warnings[2]!.includes('backends[2].kind: "kafka"'));
  assert.ok(warnings[3]!.includes('backends[3].endpoint: 42'));
});

errors('a broken environment endpoint leaves its backend out', () => {
  const cfg = resolveConfig(
    {},
    {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://',
      OTEL_FANOUT_BACKENDS: 'a,b',
      OTEL_FANOUT_BACKEND_A_LOGS_ENDPOINT: 'x://y',
      OTEL_FANOUT_BACKEND_B_ENDPOINT: 'http://b',
    },
  );
  assert.equal(names(cfg), ['b']);
  assert.is(warnings.length, 2);
  assert.match(warnings[0]!, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  assert.match(warnings[1]!, 'OTEL_FANOUT_BACKEND_A_LOGS_ENDPOINT');
});

errors('cross-field clamps warn only about values the user gave', () => {
  const cfg = resolveConfig(
    {
      backends: [
        { name: 'a', queue: { maxBytes: 1000 }, retry: { initialBackoffMillis: 5000, maxBackoffMillis: 100 } },
        { name: 'b', queue: { maxBytes: 1000 }, maxRequestBytes: 2000 },
      ],
    },
    {},
  );
  assert.is(otlpBackend(cfg, 'a').maxRequestBytes, 1000); // the default follows the smaller queue quietly
  assert.is(otlpBackend(cfg, 'a').retry.maxBackoffMillis, 5000);
  assert.is(otlpBackend(cfg, 'b').maxRequestBytes, 1000);
  assert.is(warnings.length, 2, warnings.join('\n'));
  assert.match(warnings[0]!, 'backends[0].retry.maxBackoffMillis: 100');
  assert.match(warnings[1]!, 'backends[1].maxRequestBytes: 2000');
});

errors('a backend with no signal is left out with a warning', () => {
  const cfg = resolveConfig({ backends: [{ name: 'a', signals: [] }] }, { OTEL_FANOUT_BACKENDS: 'b', OTEL_FANOUT_BACKEND_B_SIGNALS: 'traces' });
  assert.equal(cfg.backends, []);
  assert.ok(warnings.some((w) => w.includes('backend "a" has no signal')));
  assert.ok(warnings.some((w) => w.includes('backend "b" has no signal')));
});

// ---- backends: environment, merging, per-signal rules ----

const merge = suite('config/validate backends');
merge.before.each(capture);

merge('environment only: the otlp backend with the spec default protocol', () => {
  const cfg = resolveConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' });
  const b = otlpBackend(cfg, 'otlp');
  assert.is(b.source, 'env');
  assert.is(b.metrics!.url, 'http://c:4318/v1/metrics');
  assert.is(b.metrics!.protocol, 'http/protobuf');
  assert.is(b.logs!.url, 'http://c:4318/v1/logs');
});

// [title, env, metrics url, logs url]
const urlSteps: Array<[string, EnvRecord, string | undefined, string | undefined]> = [
  [
    'explicit otlp, no endpoint: spec default, http',
    { OTEL_METRICS_EXPORTER: 'otlp', OTEL_LOGS_EXPORTER: 'otlp' },
    'http://localhost:4318/v1/metrics',
    'http://localhost:4318/v1/logs',
  ],
  [
    'explicit otlp, grpc: spec default :4317',
    { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
    'http://localhost:4317',
    undefined,
  ],
  [
    'per-signal endpoint used as is, generic one extended',
    { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://l:9000/ingest' },
    'http://c:4318/v1/metrics',
    'http://l:9000/ingest',
  ],
  [
    'per-signal protocol',
    {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://c:4318/v1/logs',
    },
    'http://c:4317',
    'http://c:4318/v1/logs',
  ],
  [
    'scheme-less grpc + insecure',
    { OTEL_EXPORTER_OTLP_ENDPOINT: 'c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_INSECURE: 'true' },
    'http://c:4317',
    'http://c:4317',
  ],
  [
    'scheme-less grpc, secure by default',
    { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
    'https://c:4317',
    undefined,
  ],
  [
    'per-signal insecure',
    { OTEL_EXPORTER_OTLP_ENDPOINT: 'c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_METRICS_INSECURE: 'true' },
    'http://c:4317',
    'https://c:4317',
  ],
];
for (const [title, env, m, l] of urlSteps) {
  merge(`urls: ${title}`, () => {
    const b = otlpBackend(resolveConfig({}, env), 'otlp');
    assert.is(b.metrics?.url, m);
    assert.is(b.logs?.url, l);
    assert.equal(b.signals, [m && 'metrics', l && 'logs'].filter(Boolean));
  });
}

// Endpoint precedence for the metrics signal of backend `a`: within a source, per-signal beats
// backend-wide; code beats environment as a whole.
const A = 'OTEL_FANOUT_BACKEND_A_';
const endpointSteps: Array<[string, Partial<BackendOptions>, EnvRecord, string]> = [
  ['default', {}, {}, 'http://localhost:4318/v1/metrics'],
  ['env base', {}, { [`${A}ENDPOINT`]: 'http://e:1' }, 'http://e:1/v1/metrics'],
  ['env signal over env base', {}, { [`${A}ENDPOINT`]: 'http://e:1', [`${A}METRICS_ENDPOINT`]: 'http://es:1/m' }, 'http://es:1/m'],
  ['code base over env signal', { endpoint: 'http://c:1' }, { [`${A}METRICS_ENDPOINT`]: 'http://es:1/m' }, 'http://c:1/v1/metrics'],
  [
    'code signal over code base',
    { endpoint: 'http://c:1', metrics: { endpoint: 'http://cs:1/m' } },
    { [`${A}METRICS_ENDPOINT`]: 'http://es:1/m' },
    'http://cs:1/m',
  ],
  ['code signal alone', { metrics: { endpoint: 'http://cs:1/m' } }, {}, 'http://cs:1/m'],
];
for (const [title, code, env, want] of endpointSteps) {
  merge(`endpoint precedence: ${title}`, () => {
    const cfg = resolveConfig({ backends: [{ name: 'a', ...code }] }, env);
    assert.is(otlpBackend(cfg, 'a').metrics!.url, want);
  });
}

merge('protocol, timeout and compression follow the same order', () => {
  const cfg = resolveConfig(
    { backends: [{ name: 'a', endpoint: 'http://c:4318', timeoutMillis: 1111, logs: { compression: 'none' } }] },
    { [`${A}PROTOCOL`]: 'http/json', [`${A}LOGS_TIMEOUT`]: '2222', [`${A}COMPRESSION`]: 'gzip', [`${A}METRICS_PROTOCOL`]: 'grpc' },
  );
  const a = otlpBackend(cfg, 'a');
  assert.is(a.source, 'code+env');
  assert.is(a.metrics!.protocol, 'grpc');
  assert.is(a.logs!.protocol, 'http/json');
  assert.is(a.metrics!.timeoutMillis, 1111);
  assert.is(a.logs!.timeoutMillis, 1111); // code backend-wide beats env per-signal
  assert.is(a.metrics!.compression, 'gzip');
  assert.is(a.logs!.compression, 'none');
});

merge('headers merge by name: env, env per-signal, code, code per-signal', () => {
  const cfg = resolveConfig(
    { backends: [{ name: 'otlp', headers: { 'X-Code': 'c', shared: 'code' }, metrics: { headers: { 'x-metric': 'cm', shared: 'code-metrics' } } }] },
    {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=env,shared=env',
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'shared=env-metrics,x-env-metric=1',
    },
  );
  const b = otlpBackend(cfg, 'otlp');
  assert.equal(b.metrics!.headers, { authorization: 'env', shared: 'code-metrics', 'x-env-metric': '1', 'x-code': 'c', 'x-metric': 'cm' });
  assert.equal(b.logs!.headers, { authorization: 'env', shared: 'code', 'x-code': 'c' });
});

merge('a code backend takes secrets from its own variables, even when the environment does not declare it', () => {
  const cfg = resolveConfig(
    {
      backends: [
        { name: 'tenant', endpoint: 'http://t:4318' },
        { name: 'plain', endpoint: 'http://p:4318' },
      ],
    },
    { OTEL_FANOUT_BACKEND_TENANT_HEADERS: 'authorization=Bearer%20xyz', OTEL_FANOUT_BACKEND_TENANT_TEMPORALITY: 'delta' },
  );
  const t = otlpBackend(cfg, 'tenant');
  assert.is(t.source, 'code+env');
  assert.equal(t.metrics!.headers, { authorization: 'Bearer xyz' });
  assert.is(t.temporality, 'delta');
  assert.is(otlpBackend(cfg, 'plain').source, 'code');
  assert.equal(names(cfg), ['tenant', 'plain']);
});

merge('a code backend named otlp uses OTEL_EXPORTER_OTLP_* even when no signal selected it', () => {
  const cfg = resolveConfig({ backends: [{ name: 'otlp', endpoint: 'http://c:4318' }] }, { OTEL_EXPORTER_OTLP_HEADERS: 'k=v' });
  assert.equal(otlpBackend(cfg, 'otlp').logs!.headers, { k: 'v' });
  assert.equal(warnings, []);
});

merge('OTLP variables that select nothing are reported once as ignored', () => {
  const cfg = resolveConfig({}, { OTEL_EXPORTER_OTLP_HEADERS: 'k=v', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
  assert.equal(cfg.backends, []);
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, 'OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_PROTOCOL set');
  assert.match(warnings[0]!, 'ignored');
});

merge('code and environment backends together: code order first, merged by name', () => {
  const cfg = resolveConfig(
    {
      backends: [
        { name: 'central', endpoint: 'http://code-central:4318' },
        { name: 'mem', kind: 'memory', signals: ['logs'] },
      ],
    },
    {
      OTEL_FANOUT_BACKENDS: 'tenant,central',
      OTEL_FANOUT_BACKEND_TENANT_ENDPOINT: 'http://tenant:4317',
      OTEL_FANOUT_BACKEND_TENANT_PROTOCOL: 'grpc',
      OTEL_FANOUT_BACKEND_CENTRAL_ENDPOINT: 'http://env-central:4318',
      OTEL_FANOUT_BACKEND_CENTRAL_COMPRESSION: 'gzip',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_METRICS_EXPORTER: 'otlp,console',
    },
  );
  assert.equal(names(cfg), ['central', 'mem', 'otlp', 'console', 'tenant']);
  const central = otlpBackend(cfg, 'central');
  assert.is(central.source, 'code+env');
  assert.is(central.metrics!.url, 'http://code-central:4318/v1/metrics');
  assert.is(central.metrics!.compression, 'gzip');
  const mem = cfg.backends[1] as ResolvedBackend;
  assert.equal({ kind: mem.kind, signals: mem.signals }, { kind: 'memory', signals: ['logs'] });
  assert.equal(otlpBackend(cfg, 'otlp').signals, ['metrics', 'logs']);
  const con = cfg.backends[3]!;
  assert.equal({ kind: con.kind, signals: con.signals, source: con.source }, { kind: 'console', signals: ['metrics'], source: 'env' });
  assert.is(otlpBackend(cfg, 'tenant').metrics!.url, 'http://tenant:4317');
});

merge('the example in the README (Configuration)', () => {
  const cfg = resolveConfig(
    {},
    {
      OTEL_SERVICE_NAME: 'checkout',
      OTEL_FANOUT_BACKENDS: 'tenant,central',
      OTEL_FANOUT_BACKEND_TENANT_ENDPOINT: 'https://tenant.example:4317',
      OTEL_FANOUT_BACKEND_TENANT_PROTOCOL: 'grpc',
      OTEL_FANOUT_BACKEND_TENANT_TEMPORALITY: 'delta',
      OTEL_FANOUT_BACKEND_TENANT_HEADERS: 'authorization=Bearer%20abc123',
      OTEL_FANOUT_BACKEND_TENANT_SIGNALS: 'metrics',
      OTEL_FANOUT_BACKEND_CENTRAL_ENDPOINT: 'http://central:4318',
      OTEL_FANOUT_BACKEND_CENTRAL_COMPRESSION: 'gzip',
      OTEL_FANOUT_BACKEND_CENTRAL_LOGS_ENDPOINT: 'http://logs.central:9000/ingest',
    },
  );
  assert.equal(warnings, []);
  assert.is(cfg.serviceName, 'checkout');
  const tenant = otlpBackend(cfg, 'tenant');
  assert.equal(tenant.signals, ['metrics']);
  assert.equal(
    { url: tenant.metrics!.url, protocol: tenant.metrics!.protocol, headers: tenant.metrics!.headers, t: tenant.temporality },
    { url: 'https://tenant.example:4317', protocol: 'grpc', headers: { authorization: 'Bearer abc123' }, t: 'delta' },
  );
  const central = otlpBackend(cfg, 'central');
  assert.is(central.metrics!.url, 'http://central:4318/v1/metrics');
  assert.is(central.logs!.url, 'http://logs.central:9000/ingest');
  assert.is(central.logs!.compression, 'gzip');
  assert.is(central.temporality, 'cumulative');
});

merge('a variable of no backend (a misspelt name) is reported once', () => {
  const cfg = resolveConfig(
    { backends: [{ name: 'code-one' }] },
    {
      OTEL_FANOUT_BACKENDS: 'tenant',
      OTEL_FANOUT_BACKEND_TENANT_ENDPOINT: 'http://t:4318',
      OTEL_FANOUT_BACKEND_TENAT_HEADERS: 'authorization=x',
      OTEL_FANOUT_BACKEND_CODE_ONE_TIMEOUT: '500',
      OTEL_FANOUT_BACKEND_TENANT_UNKNOWN_SUFFIX: '1',
    },
  );
  assert.is(otlpBackend(cfg, 'code-one').metrics!.timeoutMillis, 500);
  assert.is(warnings.length, 2, warnings.join('\n'));
  assert.match(warnings[0]!, 'OTEL_FANOUT_BACKEND_TENAT_HEADERS is set but no backend reads it');
  assert.match(warnings[1]!, 'OTEL_FANOUT_BACKEND_TENANT_UNKNOWN_SUFFIX');
});

merge('temporality: backend > OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE > cumulative', () => {
  const cfg = resolveConfig(
    { backends: [{ name: 'a' }, { name: 'b', temporality: 'cumulative' }] },
    { OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta', OTEL_FANOUT_BACKENDS: 'c,d', OTEL_FANOUT_BACKEND_D_TEMPORALITY: 'lowmemory' },
  );
  assert.equal(
    cfg.backends.map((b) => [b.name, b.temporality]),
    [
      ['a', 'delta'],
      ['b', 'cumulative'],
      ['c', 'delta'],
      ['d', 'lowmemory'],
    ],
  );
});

merge('the none kill switch does not touch code backends (code wins)', () => {
  const cfg = resolveConfig({ backends: [{ name: 'a' }] }, { OTEL_METRICS_EXPORTER: 'none', OTEL_FANOUT_BACKENDS: 'b' });
  assert.equal(
    cfg.backends.map((b) => [b.name, b.signals]),
    [
      ['a', ['metrics', 'logs']],
      ['b', ['logs']],
    ],
  );
});

merge('code signals override the environment ones', () => {
  const cfg = resolveConfig(
    { backends: [{ name: 'b', signals: ['metrics'] }] },
    { OTEL_FANOUT_BACKENDS: 'b', OTEL_FANOUT_BACKEND_B_SIGNALS: 'logs' },
  );
  const b = otlpBackend(cfg, 'b');
  assert.equal(b.signals, ['metrics']);
  assert.ok(b.metrics !== undefined && b.logs === undefined);
});

// ---- TLS material ----

const tls = suite('config/validate TLS');
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';
let dir = '';
tls.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'otlp-fanout-config-'));
  writeFileSync(join(dir, 'ca.pem'), PEM);
  writeFileSync(join(dir, 'client.pem'), PEM);
  writeFileSync(join(dir, 'client.key'), KEY);
  writeFileSync(join(dir, 'ca.der'), Buffer.from([0x30, 0x82, 0x01, 0x0a]));
  writeFileSync(join(dir, 'unreadable.pem'), PEM);
  chmodSync(join(dir, 'unreadable.pem'), 0o000);
});
tls.after(() => {
  rmSync(dir, { recursive: true, force: true });
});
tls.before.each(capture);

tls('files named by the variables are read into Buffers', () => {
  const cfg = resolveConfig(
    {},
    {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c:4318',
      OTEL_EXPORTER_OTLP_CERTIFICATE: join(dir, 'ca.pem'),
      OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: join(dir, 'client.pem'),
      OTEL_EXPORTER_OTLP_CLIENT_KEY: join(dir, 'client.key'),
    },
  );
  const t = otlpBackend(cfg, 'otlp').metrics!.tls;
  assert.ok(Buffer.isBuffer(t.ca));
  assert.is(t.ca!.toString(), PEM);
  assert.is(t.cert!.toString(), PEM);
  assert.is(t.key!.toString(), KEY);
  assert.is(t.insecure, false);
  assert.equal(warnings, []);
});

tls('code PEM (string or bytes) beats the environment file; code file paths work too', () => {
  const cfg = resolveConfig(
    {
      backends: [
        { name: 'a', endpoint: 'https://c', tls: { ca: Buffer.from(PEM.replace('MIIB', 'CODE')), certFile: join(dir, 'client.pem'), key: KEY } },
      ],
    },
    { [`${A}CERTIFICATE`]: join(dir, 'ca.pem') },
  );
  const t = otlpBackend(cfg, 'a').logs!.tls;
  assert.match(t.ca!.toString(), 'CODE');
  assert.is(t.cert!.toString(), PEM);
  assert.is(t.key!.toString(), KEY);
});

tls('per-signal certificate beats the backend-wide one', () => {
  const cfg = resolveConfig(
    {},
    {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c',
      OTEL_EXPORTER_OTLP_CERTIFICATE: join(dir, 'missing.pem'),
      OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE: join(dir, 'ca.pem'),
    },
  );
  const b = otlpBackend(cfg, 'otlp');
  assert.is(b.metrics!.tls.ca!.toString(), PEM);
  // Logs fall back to the unreadable backend-wide file: that signal is left out, metrics still go.
  assert.equal(b.signals, ['metrics']);
  assert.is(b.logs, undefined);
  assert.is(warnings.length, 1);
});

// [title, env, warning fragments]
const fileErrors: Array<[string, EnvRecord, string[]]> = [
  [
    'a missing CA file',
    { OTEL_EXPORTER_OTLP_CERTIFICATE: '/nonexistent/ca.pem' },
    ['OTEL_EXPORTER_OTLP_CERTIFICATE', '"/nonexistent/ca.pem"', 'ENOENT'],
  ],
  [
    'a directory',
    { OTEL_EXPORTER_OTLP_CLIENT_KEY: '/', OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: '/' },
    ['OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE', 'EISDIR'],
  ],
  ['a DER file', { OTEL_EXPORTER_OTLP_CERTIFICATE: 'DIR/ca.der' }, ['OTEL_EXPORTER_OTLP_CERTIFICATE', 'is not PEM']],
];
if (process.getuid?.() !== 0)
  fileErrors.push(['an unreadable file', { OTEL_EXPORTER_OTLP_CERTIFICATE: 'DIR/unreadable.pem' }, ['OTEL_EXPORTER_OTLP_CERTIFICATE', 'EACCES']]);
for (const [title, env, fragments] of fileErrors) {
  tls(`${title}: one clear warning, the backend is left out`, () => {
    const withDir = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v?.replace('DIR', dir)]));
    const cfg = resolveConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c:4318', ...withDir });
    assert.equal(cfg.backends, []);
    assert.is(warnings.length, 1, warnings.join('\n'));
    for (const f of fragments) assert.match(warnings[0]!, f);
    assert.match(warnings[0]!, 'backend "otlp" does not export metrics');
  });
}

tls('a client certificate without its key is dropped with a warning', () => {
  const cfg = resolveConfig({ backends: [{ name: 'a', endpoint: 'https://c', tls: { cert: PEM } }] }, {});
  const t = otlpBackend(cfg, 'a').metrics!.tls;
  assert.is(t.cert, undefined);
  assert.is(t.key, undefined);
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, 'backends[0].tls.cert');
  assert.match(warnings[0]!, 'without client authentication');
});

tls('inline material that is not PEM is refused, naming the option', () => {
  const cfg = resolveConfig({ backends: [{ name: 'a', endpoint: 'https://c', signals: ['logs'], tls: { ca: 'not a cert' } }] }, {});
  assert.equal(cfg.backends, []);
  assert.match(warnings[0]!, 'backends[0].tls.ca: not PEM');
});

tls('plaintext endpoints do not read TLS files (warned as ignored)', () => {
  const cfg = resolveConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_CERTIFICATE: '/nonexistent/ca.pem' });
  const b = otlpBackend(cfg, 'otlp');
  assert.is(b.metrics!.tls.ca, undefined);
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, 'TLS material ignored');
});

basics('attributes: OTEL_FANOUT_ATTRIBUTES, the option over it by key; not the resource', () => {
  const env = { OTEL_FANOUT_ATTRIBUTES: 'tenant=env,node=n1' };
  const cfg = resolveConfig({ attributes: { tenant: 'code', shard: 3 } }, env);
  assert.equal(cfg.attributes, { tenant: 'code', node: 'n1', shard: 3 });
  assert.ok(Object.isFrozen(cfg.attributes));
  assert.is(cfg.resource['tenant'], undefined);
  assert.equal(resolveConfig({}, {}).attributes, {});
  assert.equal(warnings, []);
});

basics('attributes: a bad entry is skipped with one warning', () => {
  const cfg = resolveConfig({ attributes: { ok: 'y', bad: {} as unknown as string } }, {});
  assert.equal(cfg.attributes, { ok: 'y' });
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, /attributes\["bad"\]: an object is not allowed; expected a non-empty key with a string/);
});

// ---- views: a bad one is skipped with one warning, the others apply ----

const views = suite('config/validate views');
views.before.each(capture);

// [what is wrong, view, field named, value shown, what is allowed (a part of it)]
const badViews: ReadonlyArray<readonly [string, unknown, string, string, string]> = [
  ['not an object', 'http.*', 'metrics.views[0]', '"http.*"', 'an object'],
  ['no selection criterion', { name: 'x' }, 'metrics.views[0]', 'an object', 'at least one selection criterion'],
  ['unknown instrument kind', { instrumentKind: 'meter' }, 'metrics.views[0].instrumentKind', '"meter"', 'one of counter,'],
  ['instrumentName not a string', { instrumentName: 7 }, 'metrics.views[0].instrumentName', '7', 'a string'],
  ['rename with a wildcard', { instrumentName: 'http.*', name: 'h' }, 'metrics.views[0].name', '"h"', 'exact instrumentName'],
  ['invalid new name', { instrumentName: 'a', name: '9lives' }, 'metrics.views[0].name', '"9lives"', 'a valid instrument name'],
  [
    'include and exclude',
    { instrumentName: 'a', attributeKeys: { include: ['x'], exclude: ['y'] } },
    'metrics.views[0].attributeKeys',
    'an object',
    'not both',
  ],
  [
    'include not strings',
    { instrumentName: 'a', attributeKeys: { include: [1] } },
    'metrics.views[0].attributeKeys.include',
    'an array',
    'an array of strings',
  ],
  [
    'unknown aggregation',
    { instrumentName: 'a', aggregation: { type: 'avg' } },
    'metrics.views[0].aggregation.type',
    '"avg"',
    'one of default, drop, sum',
  ],
  [
    'boundaries not increasing',
    { instrumentName: 'a', aggregation: { type: 'explicit_bucket_histogram', boundaries: [1, 1] } },
    'metrics.views[0].aggregation.boundaries[1]',
    '1',
    'strictly increasing',
  ],
  [
    'maxScale out of range',
    { instrumentName: 'a', aggregation: { type: 'base2_exponential_bucket_histogram', maxScale: 99 } },
    'metrics.views[0].aggregation.maxScale',
    '99',
    'an integer in [-10, 20]',
  ],
  ['cardinality limit 0', { instrumentName: 'a', cardinalityLimit: 0 }, 'metrics.views[0].cardinalityLimit', '0', 'an integer ≥ 1'],
];

views('each bad view: one warning naming the field, the value and what is allowed; skipped, not thrown', () => {
  for (const [what, view, field, shown, allowed] of badViews) {
    capture();
    const cfg = resolveConfig({ metrics: { views: [view as ViewOptions] } }, {});
    assert.equal(cfg.metrics.views, [], `${what}: skipped`);
    assert.is(warnings.length, 1, `${what}: one warning (${warnings.join(' | ')})`);
    const w = warnings[0]!;
    assert.ok(w.includes(`${field}: ${shown} is not allowed; expected `), `${what}: field and value in "${w}"`);
    assert.ok(w.includes(allowed), `${what}: "${allowed}" in "${w}"`);
    assert.ok(w.endsWith('view metrics.views[0] skipped'), `${what}: says what happens, in "${w}"`);
  }
});

views('good views around a bad one still apply, in order; the same bad view warns once', () => {
  const a = { instrumentName: 'a', cardinalityLimit: 5 };
  const b = { meterName: 'm', attributeKeys: { include: ['route'] } };
  const options: TelemetryOptions = { metrics: { views: [a, { instrumentKind: 'meter' } as unknown as ViewOptions, b] } };
  const cfg = resolveConfig(options, {});
  assert.equal(cfg.metrics.views, [a, b]);
  resolveConfig(options, {});
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, /metrics\.views\[1\]\.instrumentKind: "meter" is not allowed/);
});

// ---- storage ----

const storage = suite('config/validate storage');
storage.before.each(capture);
const DIR = 'OTEL_FANOUT_STORAGE_DIRECTORY';
const MAX = 'OTEL_FANOUT_STORAGE_MAX_BYTES';
const FSYNC = 'OTEL_FANOUT_STORAGE_FSYNC';
const OFF = 'storage off: queues stay in memory';

// [what, storage option, environment, [directory, maxBytes, fsync] or undefined (off), the warning]
const storageSteps: Array<[string, unknown, EnvRecord, [string, number, string] | undefined, string | undefined]> = [
  ['none', undefined, {}, undefined, undefined],
  ['code, defaults', { directory: '/q' }, {}, ['/q', 1024 ** 3, 'interval'], undefined],
  ['code, all set', { directory: '/q', maxBytes: 65536, fsync: 'always' }, {}, ['/q', 65536, 'always'], undefined],
  ['relative: from the current directory', { directory: 'q' }, {}, [join(process.cwd(), 'q'), 1024 ** 3, 'interval'], undefined],
  ['environment alone', undefined, { [DIR]: '/e', [MAX]: '65536', [FSYNC]: 'never' }, ['/e', 65536, 'never'], undefined],
  ['code over environment, by field', { directory: '/q' }, { [DIR]: '/e', [MAX]: '65536' }, ['/q', 65536, 'interval'], undefined],
  ['code overrides a bad variable', { directory: '/q', maxBytes: 65536 }, { [MAX]: '64k' }, ['/q', 65536, 'interval'], `${MAX}: "64k"`],
  ['a bad variable in use', { directory: '/q' }, { [MAX]: '64k' }, undefined, `${MAX}: "64k" is not allowed; expected an integer from 1 to`],
  ['a bad fsync variable', undefined, { [DIR]: '/e', [FSYNC]: 'sometimes' }, undefined, `${FSYNC}: "sometimes" is not allowed`],
  [
    'maxBytes too small (code)',
    { directory: '/q', maxBytes: 100 },
    {},
    undefined,
    'storage.maxBytes: 100 is not allowed; expected an integer from 8192',
  ],
  ['maxBytes too small (env)', undefined, { [DIR]: '/e', [MAX]: '100' }, undefined, `${MAX}: 100 is not allowed; expected an integer from 8192`],
  ['maxBytes a string', { directory: '/q', maxBytes: '1GiB' }, {}, undefined, 'storage.maxBytes: "1GiB" is not allowed'],
  [
    'fsync unknown',
    { directory: '/q', fsync: 'sometimes' },
    {},
    undefined,
    'storage.fsync: "sometimes" is not allowed; expected "always", "interval" or "never"',
  ],
  ['no directory', { maxBytes: 65536 }, {}, undefined, 'storage.directory: undefined is not allowed; expected a non-empty path'],
  ['empty directory', { directory: '' }, {}, undefined, 'storage.directory: "" is not allowed'],
  ['not an object', '/q', {}, undefined, 'storage: "/q" is not allowed; expected an object with a directory'],
  ['variables without a directory', undefined, { [MAX]: '65536' }, undefined, `${MAX} set, but no storage directory (${DIR}); ignored`],
];

for (const [what, option, env, want, warning] of storageSteps) {
  storage(what, () => {
    const cfg = resolveConfig({ storage: option } as TelemetryOptions, env);
    const s = cfg.storage;
    assert.equal(s === undefined ? undefined : [s.directory, s.maxBytes, s.fsync], want);
    if (s !== undefined) assert.ok(Object.isFrozen(s));
    assert.is(warnings.length, warning === undefined ? 0 : 1, warnings.join('\n'));
    if (warning !== undefined) {
      assert.ok(warnings[0]!.includes(warning), `"${warning}" in "${warnings[0]}"`);
      if (want === undefined && !what.startsWith('variables')) assert.ok(warnings[0]!.endsWith(OFF), warnings[0]);
    }
  });
}

storage('disabled: no storage', () => {
  assert.is(resolveConfig({ disabled: true, storage: { directory: '/q' } }, {}).storage, undefined);
});

basics.run();
precedence.run();
errors.run();
merge.run();
tls.run();
views.run();
storage.run();
