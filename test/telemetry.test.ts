import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createTelemetry } from '../src/telemetry.js';
import type { ViewOptions } from '../src/metrics/view.js';
import type { KeyValue } from '../gen/opentelemetry/proto/common/v1/common_pb.js';
import { getDiagnosticSink, resetWarnings, setDiagnosticSink } from '../src/internal/warn.js';

// createTelemetry() as an application uses it, through an in-memory backend.
const test = suite('telemetry options');

const warnings: string[] = [];
const previousSink = getDiagnosticSink();
test.before.each(() => {
  warnings.length = 0;
  resetWarnings();
  setDiagnosticSink((m) => warnings.push(m));
});
test.after(() => setDiagnosticSink(previousSink));

const attrs = (kvs: readonly KeyValue[]): Record<string, unknown> => Object.fromEntries(kvs.map((kv) => [kv.key, kv.value?.value.value]));

test('attributes and OTEL_FANOUT_ATTRIBUTES: on every metric point and log record, code over env, own over both', async () => {
  const telemetry = createTelemetry({
    env: { OTEL_FANOUT_ATTRIBUTES: 'sandbox=env-sb,tenant=env-t' },
    attributes: { tenant: 'code-t' },
    backends: [{ name: 'mem', kind: 'memory' }],
    exportIntervalMillis: 3_600_000,
    selfMetrics: false,
  });
  try {
    const m = telemetry.meterProvider.getMeter('app');
    m.createCounter('hits').add(1, { route: '/a' });
    m.createCounter('mine').add(1, { sandbox: 'own' });
    telemetry.loggerProvider.getLogger('app').emit({ body: 'hello' });
    telemetry.loggerProvider.getLogger('app').emit({ body: 'own', attributes: { tenant: 'own' } });
    await telemetry.forceFlush();
    const mem = telemetry.memory('mem')!;
    const point = (name: string) => {
      const m = mem.metricsNamed(name)[0]!;
      return m.data.case === 'sum' ? m.data.value.dataPoints[0]! : undefined;
    };
    assert.equal(attrs(point('hits')!.attributes), { route: '/a', sandbox: 'env-sb', tenant: 'code-t' });
    assert.equal(attrs(point('mine')!.attributes), { sandbox: 'own', tenant: 'code-t' });
    const [hello, own] = mem.logRecords();
    assert.equal(attrs(hello!.attributes), { sandbox: 'env-sb', tenant: 'code-t' });
    assert.equal(attrs(own!.attributes), { tenant: 'own', sandbox: 'env-sb' });
    const resource = attrs(mem.metrics[0]!.resourceMetrics[0]!.resource!.attributes);
    assert.is(resource['tenant'], undefined, 'the resource is set by `resource`, not by `attributes`');
    assert.equal(warnings, []);
  } finally {
    await telemetry.shutdown();
  }
});

test('a bad view warns once and is skipped; createTelemetry() does not throw and good views apply', async () => {
  const bad = { instrumentName: 'hits', aggregation: { type: 'avg' } } as unknown as ViewOptions;
  const telemetry = createTelemetry({
    env: {},
    metrics: { views: [bad, { instrumentName: 'hits', name: 'requests' }] },
    backends: [{ name: 'mem', kind: 'memory' }],
    exportIntervalMillis: 3_600_000,
    selfMetrics: false,
  });
  try {
    assert.is(telemetry.config.metrics.views.length, 1);
    telemetry.meterProvider.getMeter('app').createCounter('hits').add(2);
    await telemetry.forceFlush();
    const mem = telemetry.memory('mem')!;
    assert.is(mem.metricsNamed('requests').length, 1, 'renamed by the good view');
    assert.is(mem.metricsNamed('hits').length, 0, 'the bad view made no stream of its own');
    assert.is(warnings.length, 1);
    assert.match(warnings[0]!, /metrics\.views\[0\]\.aggregation\.type: "avg" is not allowed; expected one of default, drop, sum/);
  } finally {
    await telemetry.shutdown();
  }
});

test.run();
