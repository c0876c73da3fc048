import { create } from '@bufbuild/protobuf';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ExportMetricsServiceRequestSchema } from '../../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { AggregationTemporality } from '../../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import { GatewayConfigError } from '../../../src/gateway/config/config-error.js';
import type { GatewayView, RequestEvent, UpstreamView } from '../../../src/gateway/observe/events.js';
import { createObserver, validateObserverOptions, type CreateObserverOptions } from '../../../src/gateway/observe/observer.js';
import { createGatewayMeterProvider } from '../../../src/gateway/observe/gateway-metrics.js';
import { PROMETHEUS_CONTENT_TYPE } from '../../../src/otlp/prometheus/render.js';
import { getDiagnosticSink, resetWarnings, setDiagnosticSink } from '../../../src/internal/warn.js';
import type { Signal } from '../../../src/otlp/types.js';
import { stats, upstream } from '../upstream-fixture.js';

function gatewayView(ups: UpstreamView[], state: { queued: number; draining: boolean }): GatewayView {
  return {
    addresses: { grpc: '127.0.0.1:4317', http: undefined },
    upstreams: ups,
    queuedBytes: () => state.queued,
    maxQueuedBytes: 64 * 1024 * 1024,
    draining: () => state.draining,
  };
}

const metricsMessage = create(ExportMetricsServiceRequestSchema, {
  resourceMetrics: [
    {
      resource: { attributes: [{ key: 'service.name', value: { value: { case: 'stringValue', value: 'checkout' } } }] },
      scopeMetrics: [
        {
          scope: { name: 'lib' },
          metrics: [
            {
              name: 'orders',
              data: {
                case: 'sum',
                value: {
                  aggregationTemporality: AggregationTemporality.CUMULATIVE,
                  isMonotonic: true,
                  dataPoints: [{ timeUnixNano: 1_700_000_000_000_000_000n, value: { case: 'asInt', value: 42n } }],
                },
              },
            },
          ],
        },
      ],
    },
  ],
});

/** A request event whose decode() counts its calls (and throws when `decodable` is false). */
function request(signal: Signal, items: number, over: Partial<RequestEvent> = {}, decodable = false): RequestEvent & { decodes: number } {
  const e = {
    signal,
    protocol: 'http/protobuf' as const,
    tenant: undefined,
    serviceNames: [] as readonly string[],
    items,
    bytes: items * 100,
    wireBytes: items * 100,
    upstreams: [] as readonly string[],
    unrouted: 0,
    body: new Uint8Array(0),
    encoding: 'protobuf' as const,
    decodes: 0,
    decode() {
      e.decodes++;
      if (!decodable) throw new Error('decode() must not be called below detailed verbosity');
      return { signal: 'metrics' as const, message: metricsMessage };
    },
    ...over,
  };
  return e;
}

/** An observer writing to a string, with a hand-moved wall clock and no periodic timer. */
function observer(options: CreateObserverOptions = {}) {
  let out = '';
  let now = Date.UTC(2024, 4, 1, 12, 0, 0);
  const o = createObserver({
    intervalMillis: 0,
    out: {
      write(chunk: string) {
        out += chunk;
      },
    },
    now: () => now,
    ...options,
  });
  return {
    o,
    take(): string {
      const s = out;
      out = '';
      return s;
    },
    advance(ms: number) {
      now += ms;
    },
  };
}

const test = suite('gateway/observe');

test('basic: one line per interval with signals, refusals and upstreams; no decoding', async () => {
  const t = observer({ verbosity: 'basic' });
  const a = upstream('primary');
  const state = { queued: 0, draining: false };
  t.o.attach!(gatewayView([a], state));
  assert.is(t.take(), '', 'attach prints nothing: the CLI prints the listening line');
  const events = [request('metrics', 100), request('metrics', 100, { unrouted: 5 }), request('logs', 20)];
  for (const e of events) t.o.onRequest(e);
  t.o.onRefused({ reason: 'backpressure', signal: 'metrics', protocol: 'grpc', status: 8, message: 'queue full', tenant: undefined });
  a.current = stats('primary', { itemsSent: 220, queueBytes: 2048, requestsSent: 3 });
  for (let i = 0; i < 3; i++) a.latency.record(2);
  t.advance(10_000);
  t.o.printSummary();
  assert.is(
    t.take(),
    '2024-05-01T12:00:10.000Z otlp-fanout gateway | 10.0s: 3 req (0.3/s), 220 items (22/s) [metrics 2/200, logs 1/20] | refused 1 (backpressure 1) | dropped 5 items (no_route) | primary: sent 220 queue 2.0 KiB p99 2.00 ms\n',
  );
  assert.equal(
    events.map((e) => e.decodes),
    [0, 0, 0],
  );
  await t.o.close();
});

test('quiet interval: nothing printed', async () => {
  const t = observer({ verbosity: 'basic' });
  t.o.attach!(gatewayView([upstream('a')], { queued: 0, draining: false }));
  t.take();
  t.advance(10_000);
  t.o.printSummary();
  assert.is(t.take(), '');
  await t.o.close();
});

test('normal: the table with rates, tenants, top services, upstream deltas and latency', async () => {
  const t = observer({ verbosity: 'normal', topRows: 2 });
  const a = upstream('primary');
  const b = upstream('backup');
  const state = { queued: 4096, draining: false };
  t.o.attach!(gatewayView([a, b], state));
  t.take();
  // A first interval, so the next one shows deltas, not totals.
  a.current = stats('primary', { itemsSent: 1000 });
  t.o.onRequest(request('metrics', 1000));
  t.advance(10_000);
  t.o.printSummary();
  t.take();

  t.o.onRequest(request('metrics', 100, { tenant: 'acme', serviceNames: ['checkout'] }));
  t.o.onRequest(request('metrics', 300, { tenant: 'acme', serviceNames: ['cart'] }));
  t.o.onRequest(request('logs', 50, { tenant: 'globex', serviceNames: ['search'], unrouted: 1234 }));
  t.o.onRefused({ reason: 'unauthenticated', signal: 'logs', protocol: 'http/json', status: 401, message: 'no key', tenant: undefined });
  a.current = stats('primary', { itemsSent: 1400, retries: 1, queueBytes: 4096, inFlightRequests: 1 });
  b.current = stats('backup', { itemsFailed: 400, itemsDropped: 50 });
  a.latency.record(1);
  a.latency.record(30);
  t.advance(10_000);
  t.o.printSummary();
  assert.fixture(
    t.take(),
    [
      '2024-05-01T12:00:20.000Z otlp-fanout gateway: last 10.0s, up 20.0s',
      '  signal   requests  req/s  items  items/s     bytes  total items',
      '  metrics         2    0.2    400       40  39.1 KiB        1,400',
      '  logs            1    0.1     50        5   4.9 KiB           50',
      '  traces          0      0      0        0       0 B            0',
      '  refused 1: unauthenticated 1',
      '  dropped 1,234 items: no_route 1,234 (matched no route)',
      '  tenant  requests  items     bytes',
      '  acme           2    400  39.1 KiB',
      '  globex         1     50   4.9 KiB',
      '  service (top 2 of 3)  requests  items     bytes',
      '  cart                         1    300  29.3 KiB',
      '  checkout                     1    100   9.8 KiB',
      '  (other)                      1     50   4.9 KiB',
      '  upstream  protocol  sent  rejected  failed  dropped  retries    queue  in flight      p50      p99',
      '  primary   grpc       400         0       0        0        1  4.0 KiB          1  1.02 ms  30.0 ms',
      '  backup    grpc         0         0     400       50        0      0 B          0        -        -',
      '  queued 4.0 KiB of 64.0 MiB',
      '',
    ].join('\n'),
  );
  await t.o.close();
});

test('detailed: decodes and prints each accepted request once, and each refusal', async () => {
  const t = observer({ verbosity: 'detailed' });
  const e = request('metrics', 1, { tenant: 'acme' }, true);
  t.o.onRequest(e);
  assert.is(e.decodes, 1);
  const text = t.take();
  assert.ok(text.startsWith('metrics request (http/protobuf, tenant "acme"): 1 data point, 100 bytes\n'), text);
  assert.ok(text.includes('    service.name = "checkout"\n'), text);
  assert.ok(text.includes('    Metric #0 orders Sum (cumulative, monotonic)\n'), text);
  assert.ok(text.includes('        value 42\n'), text);
  t.o.onRefused({ reason: 'too_large', signal: 'traces', protocol: 'http/protobuf', status: 413, message: 'body over 4 MiB', tenant: 'acme' });
  assert.is(t.take(), 'refused too_large (status 413, traces, http/protobuf, tenant "acme"): body over 4 MiB\n');
  await t.o.close();
});

test('normal never decodes; refusals are not printed one by one', async () => {
  const t = observer({ verbosity: 'normal' });
  const e = request('traces', 5);
  t.o.onRequest(e);
  t.o.onRefused({ reason: 'malformed', signal: 'traces', protocol: 'grpc', status: 3, message: 'bad', tenant: undefined });
  assert.is(e.decodes, 0);
  assert.is(t.take(), '');
  await t.o.close();
});

test('/metrics: Prometheus text of the gateway metrics, totals since start', async () => {
  const provider = createGatewayMeterProvider();
  const t = observer({ verbosity: 'basic', meterProvider: provider });
  const a = upstream('primary');
  t.o.attach!(gatewayView([a], { queued: 0, draining: false }));
  t.o.onRequest(request('metrics', 100, { protocol: 'grpc', serviceNames: ['checkout'] }));
  t.o.onRequest(request('metrics', 100, { protocol: 'grpc', serviceNames: ['checkout'], unrouted: 7 }));
  t.o.onRefused({ reason: 'draining', signal: 'logs', protocol: 'grpc', status: 14, message: 'bye', tenant: undefined });
  t.o.onForwarded!({ upstream: 'primary', signal: 'metrics', items: 100, bytes: 1000, body: 'as_received', queued: true });
  a.current = stats('primary', { itemsSent: 150, queueBytes: 10 });
  a.latency.record(4);
  const page = await t.o.metricsPage();
  assert.ok(page !== undefined);
  assert.is(page.contentType, PROMETHEUS_CONTENT_TYPE);
  const body = String(page.body);
  const scope = 'otel_scope_name="otlp-fanout/gateway"';
  for (const line of [
    'target_info{service_name="otlp-fanout-gateway"} 1',
    '# TYPE otlp_fanout_gateway_requests_total counter',
    `otlp_fanout_gateway_requests_total{outcome="accepted",protocol="grpc",signal="metrics",${scope}} 2`,
    `otlp_fanout_gateway_items_total{signal="metrics",${scope}} 200`,
    `otlp_fanout_gateway_service_items_total{service_name="checkout",signal="metrics",${scope}} 200`,
    `otlp_fanout_gateway_refusals_total{reason="draining",signal="logs",${scope}} 1`,
    `otlp_fanout_gateway_items_dropped_total{reason="no_route",signal="metrics",${scope}} 7`,
    `otlp_fanout_gateway_received_size_bytes_total{protocol="grpc",signal="metrics",${scope}} 20000`,
    '# TYPE otlp_fanout_gateway_upstream_queue_size_bytes gauge',
    '# TYPE otlp_fanout_gateway_upstream_export_duration_seconds histogram',
    '# TYPE otlp_fanout_gateway_queue_limit_bytes gauge',
  ]) {
    assert.ok(body.includes(`${line}\n`), `${line}\n---\n${body}`);
  }
  assert.match(body, /otlp_fanout_gateway_upstream_items_total\{(?=[^}]*upstream="primary")(?=[^}]*outcome="sent")[^}]*\} 150\n/);
  assert.match(body, /otlp_fanout_gateway_upstream_export_duration_seconds_count\{[^}]*upstream="primary"[^}]*\} 1\n/);
  // Cumulative: a second scrape still counts everything.
  t.o.onRequest(request('metrics', 1, { protocol: 'grpc' }));
  const again = String((await t.o.metricsPage())!.body);
  assert.ok(again.includes(`otlp_fanout_gateway_requests_total{outcome="accepted",protocol="grpc",signal="metrics",${scope}} 3\n`), again);
  await t.o.close();
  await provider.shutdown();
});

test("processors' drops and temporality state: in the summaries and at /metrics", async () => {
  const provider = createGatewayMeterProvider();
  const t = observer({ verbosity: 'normal', meterProvider: provider });
  const a = upstream('vendor');
  t.o.attach!(gatewayView([a], { queued: 0, draining: false }));
  t.o.onRequest(request('metrics', 100, { unrouted: 2 }));
  const streams = { tracked: 1234, evictedLru: 5, evictedStale: 1 };
  t.o.onProcessed!({ upstream: 'vendor', signal: 'metrics', dropped: new Map([['first_point', 90]]), streams });
  t.o.onProcessed!({ upstream: 'vendor', signal: 'logs', dropped: new Map([['log_severity', 3]]), streams: undefined });
  t.advance(10_000);
  t.o.printSummary();
  const text = t.take();
  assert.ok(text.includes('  dropped 95 items: no_route 2 (matched no route), first_point 90, log_severity 3\n'), text);
  assert.ok(
    text.includes('  temporality state  streams  evicted (full)  evicted (stale)\n  vendor               1,234               5                1\n'),
    text,
  );
  const basic = observer({ verbosity: 'basic' });
  basic.o.onRequest(request('metrics', 10));
  basic.o.onProcessed!({ upstream: 'vendor', signal: 'metrics', dropped: new Map([['late', 4]]), streams: undefined });
  basic.o.printSummary();
  assert.match(basic.take(), / \| dropped 4 items \(late 4\)\n/);
  const body = String((await t.o.metricsPage())!.body);
  const scope = 'otel_scope_name="otlp-fanout/gateway"';
  for (const line of [
    `otlp_fanout_gateway_items_dropped_total{reason="first_point",signal="metrics",upstream="vendor",${scope}} 90`,
    `otlp_fanout_gateway_items_dropped_total{reason="log_severity",signal="logs",upstream="vendor",${scope}} 3`,
    `otlp_fanout_gateway_upstream_streams{upstream="vendor",${scope}} 1234`,
    `otlp_fanout_gateway_upstream_streams_evicted_total{reason="full",upstream="vendor",${scope}} 5`,
    `otlp_fanout_gateway_upstream_streams_evicted_total{reason="stale",upstream="vendor",${scope}} 1`,
  ]) {
    assert.ok(body.includes(`${line}\n`), `${line}\n---\n${body}`);
  }
  // A replaced state (new settings on reload) counts from zero: its evictions add up, never go back.
  t.o.onProcessed!({ upstream: 'vendor', signal: 'metrics', dropped: new Map(), streams: { tracked: 10, evictedLru: 2, evictedStale: 0 } });
  const again = String((await t.o.metricsPage())!.body);
  assert.ok(again.includes(`otlp_fanout_gateway_upstream_streams_evicted_total{reason="full",upstream="vendor",${scope}} 7\n`), again);
  await t.o.close();
  await basic.o.close();
});

test('reloads: printed when they end (and retired upstreams), counted on /metrics; summaries follow the new upstreams', async () => {
  const provider = createGatewayMeterProvider();
  const t = observer({ verbosity: 'basic', meterProvider: provider });
  const a = upstream('primary');
  const state = { ups: [a] as UpstreamView[] };
  t.o.attach!({
    ...gatewayView([], { queued: 0, draining: false }),
    get upstreams() {
      return state.ups;
    },
  });
  a.current = stats('primary', { itemsSent: 10 });
  const b = upstream('extra');
  state.ups = [a, b];
  const none = { added: [], changed: [], removed: [] };
  const base = {
    trigger: 'SIGHUP',
    source: 'gw.yaml',
    error: undefined,
    tenants: none,
    settings: [],
    receivers: [],
    needsRestart: [],
    ignored: [],
    elapsedMs: 3,
  };
  t.o.onReload!({ ...base, outcome: 'applied', upstreams: { ...none, added: ['extra'] } });
  const error = { path: 'x', problem: 'p', message: 'invalid gateway config at x: p' };
  t.o.onReload!({ ...base, outcome: 'rejected', upstreams: none, error });
  t.o.onRetired!({ name: 'old', reason: 'removed', undeliveredRequests: 1, undeliveredItems: 2, elapsedMs: 10 });
  assert.is(
    t.take(),
    [
      '2024-05-01T12:00:00.000Z otlp-fanout gateway: reload (SIGHUP, gw.yaml) applied in 3 ms: upstreams +extra',
      '2024-05-01T12:00:00.000Z otlp-fanout gateway: reload (SIGHUP, gw.yaml) rejected, the running configuration is kept: invalid gateway config at x: p',
      '2024-05-01T12:00:00.000Z otlp-fanout gateway: upstream old (removed by a reload) could not deliver 1 requests, 2 items within 10 ms; they are dropped',
      '',
    ].join('\n'),
  );
  b.current = stats('extra', { itemsSent: 4 });
  a.current = stats('primary', { itemsSent: 15 });
  t.advance(10_000);
  t.o.printSummary();
  assert.match(t.take(), '| primary: sent 15 queue 0 B | extra: sent 4 queue 0 B\n');
  const body = String((await t.o.metricsPage())!.body);
  for (const [outcome, n] of [
    ['applied', 1],
    ['rejected', 1],
    ['unchanged', 0],
  ] as const) {
    assert.ok(body.includes(`otlp_fanout_gateway_reloads_total{outcome="${outcome}",otel_scope_name="otlp-fanout/gateway"} ${n}\n`), body);
  }
  await t.o.close();
  await provider.shutdown();
});

test('prometheus: false → no page', async () => {
  const t = observer({ prometheus: false });
  assert.is(await t.o.metricsPage(), undefined);
  await t.o.close();
});

test('stop: the summary of the last, partial interval', async () => {
  const t = observer({ verbosity: 'basic' });
  t.o.attach!(gatewayView([upstream('a')], { queued: 0, draining: true }));
  t.o.onRequest(request('logs', 3));
  t.advance(1000);
  t.o.onStop!({ drained: false, elapsedMs: 5001, upstreams: [{ name: 'a', undeliveredRequests: 2, undeliveredItems: 30 }] });
  assert.match(
    t.take(),
    /^2024-05-01T12:00:01.000Z otlp-fanout gateway \| 1.0s: 1 req \(1\/s\), 3 items \(3\/s\) \[logs 1\/3\] \| a: sent 0 queue 0 B \| draining\n$/,
  );
  await t.o.close();
  await t.o.close();
});

test('periodic summary: printed by the timer, stopped by close()', async () => {
  let out = '';
  const o = createObserver({
    verbosity: 'basic',
    intervalMillis: 100,
    out: {
      write(chunk: string) {
        out += chunk;
      },
    },
  });
  o.onRequest(request('metrics', 1));
  const deadline = Date.now() + 3000;
  while (out === '' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.match(out, / 1 req /);
  await o.close();
  o.onRequest(request('metrics', 1));
  out = '';
  await new Promise((r) => setTimeout(r, 250));
  assert.is(out, '', 'no summary after close()');
});

test('a failing summary on the timer is reported once, not thrown', async () => {
  const warnings: string[] = [];
  const previous = getDiagnosticSink();
  resetWarnings();
  setDiagnosticSink((m) => warnings.push(m));
  try {
    const o = createObserver({ verbosity: 'basic', intervalMillis: 100, out: { write: () => true } });
    const broken = upstream('broken');
    o.attach!(gatewayView([broken], { queued: 0, draining: false }));
    broken.stats = () => {
      throw new Error('stats exploded');
    };
    const deadline = Date.now() + 3000;
    while (warnings.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await o.close();
    assert.is(warnings.length, 1);
    assert.match(warnings[0]!, /gateway summary failed: stats exploded/);
  } finally {
    setDiagnosticSink(previous);
  }
});

test('a broken output does not break the observer', async () => {
  const o = createObserver({
    verbosity: 'detailed',
    intervalMillis: 0,
    out: {
      write() {
        throw new Error('EPIPE');
      },
    },
  });
  o.onRequest(request('metrics', 1, {}, true));
  o.onRefused({ reason: 'internal', signal: undefined, protocol: undefined, status: 500, message: 'bug', tenant: undefined });
  o.printSummary();
  await o.close();
});

test('options: defaults and validation', () => {
  const v = validateObserverOptions();
  assert.is(v.verbosity, 'normal');
  assert.is(v.intervalMillis, 10_000);
  assert.is(v.out, process.stdout);
  assert.is(v.topRows, 10);
  assert.is(v.prometheus, true);
  assert.ok(Object.isFrozen(v));
  const bad: Array<[CreateObserverOptions, string]> = [
    [{ verbosity: 'loud' as 'basic' }, 'verbosity'],
    [{ intervalMillis: 5 }, 'intervalMillis'],
    [{ intervalMillis: Number.NaN }, 'intervalMillis'],
    [{ out: {} as { write(c: string): unknown } }, 'out'],
    [{ topRows: 0 }, 'topRows'],
    [{ maxNamesPerInterval: 2.5 }, 'maxNamesPerInterval'],
  ];
  for (const [options, path] of bad) {
    assert.throws(
      () => validateObserverOptions(options),
      (e: unknown) => e instanceof GatewayConfigError && e.path === path,
      path,
    );
  }
});

test.run();
