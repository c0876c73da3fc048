/**
 * The library's Prometheus pull backend (kind 'prometheus', OTEL_METRICS_EXPORTER=prometheus): served on
 * a real loopback port, collected when scraped, both formats by Accept, side by side with an OTLP-shaped
 * (memory) backend of the same recording; bad options warn once and fall back; nothing listens unless asked.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:net';
import { createTelemetry } from '../../src/telemetry.js';
import { resolveConfig } from '../../src/config/validate.js';
import { getDiagnosticSink, resetWarnings, setDiagnosticSink } from '../../src/internal/warn.js';
import { negotiate } from '../../src/transport/prometheus/endpoint.js';

const test = suite('prometheus pull backend');
const warnings: string[] = [];
const previousSink = getDiagnosticSink();
test.before.each(() => {
  warnings.length = 0;
  resetWarnings();
  setDiagnosticSink((m) => warnings.push(m));
});
test.after(() => setDiagnosticSink(previousSink));

const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

test('collected when scraped: text 0.0.4 by default, OpenMetrics 1.0 when asked, beside a memory backend', async () => {
  const telemetry = createTelemetry({
    env: {},
    serviceName: 'shop',
    backends: [
      { name: 'prom', kind: 'prometheus', host: '127.0.0.1', port: 0 },
      { name: 'mem', kind: 'memory' },
    ],
    exportIntervalMillis: 3_600_000,
    selfMetrics: false,
  });
  try {
    const url = (await telemetry.prometheusEndpoint('prom')) ?? '';
    assert.ok(url.startsWith('http://127.0.0.1:') && url.endsWith('/metrics'), String(url));
    const meter = telemetry.meterProvider.getMeter('shop', '1.0.0');
    const orders = meter.createCounter('orders', { description: 'Orders placed', unit: '{order}' });
    orders.add(3, { country: 'DE' });
    meter.createHistogram('latency', { unit: 's' }).record(0.2);
    let text = await (await fetch(url)).text();
    assert.ok(text.includes('# TYPE orders_total counter\n'), text);
    assert.ok(text.includes('orders_total{country="DE",otel_scope_name="shop",otel_scope_version="1.0.0"} 3\n'), text);
    assert.ok(text.includes('latency_seconds_bucket{otel_scope_name="shop",otel_scope_version="1.0.0",le="5"} 1\n'), text);
    assert.match(text, /target_info\{[^}]*service_name="shop"/);
    // Cumulative, and a scrape drains nothing: the next one shows the running total.
    orders.add(2, { country: 'DE' });
    const res = await fetch(url, { headers: { accept: PROMETHEUS_ACCEPT } });
    assert.is(res.headers.get('content-type'), 'application/openmetrics-text; version=1.0.0; charset=utf-8');
    text = await res.text();
    assert.ok(text.includes('# TYPE orders counter\n'), text);
    assert.ok(text.includes('orders_total{country="DE",otel_scope_name="shop",otel_scope_version="1.0.0"} 5\n'), text);
    assert.ok(text.includes('# TYPE target info\n'), text);
    assert.ok(text.includes('# TYPE latency_seconds histogram\n# UNIT latency_seconds seconds\n'), text);
    assert.ok(text.endsWith('# EOF\n'), text);
    // The OTLP-side backend of the same recording is untouched by scrapes.
    await telemetry.forceFlush();
    const point = telemetry.memory('mem')!.metricsNamed('orders')[0]!;
    assert.is(point.data.case === 'sum' ? point.data.value.dataPoints[0]!.value.value : undefined, 5);
    assert.is((await fetch(url.replace('/metrics', '/other'))).status, 404);
    assert.equal(warnings, []);
  } finally {
    await telemetry.shutdown();
  }
});

test('shutdown stops listening', async () => {
  const telemetry = createTelemetry({ env: {}, backends: [{ name: 'p', kind: 'prometheus', host: '127.0.0.1', port: 0 }], selfMetrics: false });
  const url = (await telemetry.prometheusEndpoint('p'))!;
  await telemetry.shutdown();
  await fetch(url).then(
    () => assert.unreachable('still listening'),
    () => undefined,
  );
});

test('OTEL_METRICS_EXPORTER=prometheus with OTEL_EXPORTER_PROMETHEUS_HOST/PORT; spec defaults', () => {
  const cfg = resolveConfig(
    {},
    { OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_PROMETHEUS_HOST: '0.0.0.0', OTEL_EXPORTER_PROMETHEUS_PORT: '9999' },
  );
  assert.equal(
    cfg.backends.map((b) => ({ ...b })),
    [
      {
        name: 'prometheus',
        kind: 'prometheus',
        source: 'env',
        signals: ['metrics'],
        temporality: 'cumulative',
        host: '0.0.0.0',
        port: 9999,
        path: '/metrics',
      },
    ],
  );
  const d = resolveConfig({}, { OTEL_METRICS_EXPORTER: 'prometheus,otlp' }).backends.find((b) => b.kind === 'prometheus');
  assert.equal(d !== undefined && d.kind === 'prometheus' ? [d.host, d.port] : undefined, ['localhost', 9464]);
  assert.equal(warnings, []);
});

test('bad values: one warning each and the default; logs exporter "prometheus" ignored', () => {
  const cfg = resolveConfig(
    { backends: [{ name: 'p', kind: 'prometheus', port: 70_000, host: 'http://x', path: 'metrics' }] },
    { OTEL_LOGS_EXPORTER: 'prometheus' },
  );
  const b = cfg.backends[0]!;
  assert.equal(b.kind === 'prometheus' ? [b.host, b.port, b.path] : undefined, ['localhost', 9464, '/metrics']);
  assert.is(warnings.length, 4, warnings.join('\n'));
  assert.ok(warnings.some((w) => w.includes('backends[0].port') && w.includes('70000')));
  assert.ok(warnings.some((w) => w.includes('OTEL_LOGS_EXPORTER')));
  resetWarnings();
  warnings.length = 0;
  resolveConfig({}, { OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_PROMETHEUS_PORT: 'abc' });
  assert.is(warnings.length, 1, warnings.join('\n'));
});

test('a port in use: one warning, createTelemetry() does not throw, no endpoint', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as { port: number }).port;
  const telemetry = createTelemetry({ env: {}, backends: [{ name: 'p', kind: 'prometheus', host: '127.0.0.1', port }], selfMetrics: false });
  try {
    assert.is(await telemetry.prometheusEndpoint('p'), undefined);
    assert.is(warnings.length, 1);
    assert.match(warnings[0]!, /cannot listen on 127\.0\.0\.1:\d+/);
  } finally {
    await telemetry.shutdown();
    blocker.close();
  }
});

test('nothing listens unless configured', async () => {
  const telemetry = createTelemetry({ env: {}, backends: [{ name: 'mem', kind: 'memory' }], selfMetrics: false });
  assert.is(await telemetry.prometheusEndpoint('mem'), undefined);
  await telemetry.shutdown();
});

test('Accept negotiation: step table', () => {
  const table: Array<[string | undefined, 'text' | 'openmetrics']> = [
    [undefined, 'text'],
    ['', 'text'],
    [PROMETHEUS_ACCEPT, 'openmetrics'],
    ['text/plain;version=0.0.4', 'text'],
    ['application/openmetrics-text', 'openmetrics'],
    ['application/openmetrics-text;version=0.0.1', 'text'],
    ['application/openmetrics-text;version=1.0.0;q=0.4,text/plain;q=0.5', 'text'],
    ['application/openmetrics-text;q=0', 'text'],
    ['*/*', 'text'],
  ];
  for (const [accept, want] of table) assert.is(negotiate(accept), want, String(accept));
});

test.run();
