/**
 * The item-level processors: attribute edits on data points (every kind), log records and spans;
 * redaction of resource and item attributes; filters by metric name, log severity, body and
 * attribute, span name — with drops counted by reason, emptied metrics, scopes and entries left
 * out, untouched entries returned as the same bytes. Checked by decoding the output.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DescMessage } from '@bufbuild/protobuf';
import { ExportLogsServiceRequestSchema } from '../../../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import { ExportMetricsServiceRequestSchema } from '../../../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { ExportTraceServiceRequestSchema } from '../../../../gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js';
import type { KeyValue } from '../../../../gen/opentelemetry/proto/common/v1/common_pb.js';
import { loadGatewayConfig } from '../../../../src/gateway/config/load.js';
import { createChainCompiler, ProcessContext } from '../../../../src/gateway/forward/processors/chain.js';
import { scanRequest } from '../../../../src/otlp/scan.js';
import type { Signal } from '../../../../src/otlp/types.js';

const test = suite('gateway/processors/items');

const str = (key: string, value: string) => ({ key, value: { value: { case: 'stringValue' as const, value } } });
const kvText = (kvs: readonly KeyValue[]): string =>
  kvs.map((kv) => `${kv.key}=${kv.value?.value.case === 'stringValue' ? kv.value.value.value : String(kv.value?.value.value)}`).join(',');
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Runs `processors` (as configured on an upstream) over `body`. */
function run(signal: Signal, processors: unknown[], body: Uint8Array): { out: Uint8Array; dropped: Record<string, number>; same: boolean[] } {
  const config = loadGatewayConfig({ env: {}, document: { upstreams: { u: { endpoint: 'http://u', processors } } } });
  const chain = createChainCompiler().chain(config.upstreams[0]!.processors)!;
  const ctx = new ProcessContext(signal);
  const same: boolean[] = [];
  const parts = scanRequest(signal, body).entries.map((e) => {
    const entry = body.subarray(e.start, e.end);
    const out = chain.processEntry(entry, ctx);
    same.push(out === entry);
    return out;
  });
  return { out: new Uint8Array(Buffer.concat(parts)), dropped: Object.fromEntries(ctx.dropped ?? []), same };
}

function encode<D extends DescMessage>(schema: D, init: unknown): Uint8Array {
  return toBinary(schema, create(schema, init as never));
}

const point = (attributes: unknown[]) => ({ attributes, timeUnixNano: 5n, value: { case: 'asDouble', value: 1 } });
function metricsBody(): Uint8Array {
  const attrs = [str('host.name', 'h1'), str('user.email', 'a@example.com')];
  return encode(ExportMetricsServiceRequestSchema, {
    resourceMetrics: [
      {
        resource: { attributes: [str('service.name', 'svc'), str('user.email', 'ops@example.com')] },
        scopeMetrics: [
          {
            scope: { name: 's' },
            metrics: [
              {
                name: 'http.requests',
                data: {
                  case: 'sum',
                  value: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [point(attrs), point([str('host.name', 'h2')])] },
                },
              },
              { name: 'debug.queue', data: { case: 'gauge', value: { dataPoints: [point(attrs), point(attrs), point(attrs)] } } },
              {
                name: 'latency',
                data: { case: 'histogram', value: { aggregationTemporality: 2, dataPoints: [{ attributes: attrs, count: 1n, bucketCounts: [1n] }] } },
              },
              {
                name: 'latency.exp',
                data: { case: 'exponentialHistogram', value: { aggregationTemporality: 2, dataPoints: [{ attributes: attrs, count: 1n }] } },
              },
              { name: 'legacy', data: { case: 'summary', value: { dataPoints: [{ attributes: attrs, count: 1n }] } } },
            ],
          },
        ],
      },
    ],
  });
}

/** Each data point's attributes, as `metric: k=v,...`. */
function pointAttributes(bytes: Uint8Array): string[] {
  const m = fromBinary(ExportMetricsServiceRequestSchema, bytes);
  return m.resourceMetrics.flatMap((r) =>
    r.scopeMetrics.flatMap((s) =>
      s.metrics.flatMap((x) => (x.data.value?.dataPoints ?? []).map((p: { attributes: KeyValue[] }) => `${x.name}: ${kvText(p.attributes)}`)),
    ),
  );
}

test('attribute edits reach the points of every metric kind; the other fields stay', () => {
  const body = metricsBody();
  const { out } = run(
    'metrics',
    [
      {
        attributes: [
          { action: 'upsert', key: 'env', value: 'prod' },
          { action: 'delete', key: 'user.email' },
        ],
      },
    ],
    body,
  );
  assert.equal(pointAttributes(out), [
    'http.requests: host.name=h1,env=prod',
    'http.requests: host.name=h2,env=prod',
    'debug.queue: host.name=h1,env=prod',
    'debug.queue: host.name=h1,env=prod',
    'debug.queue: host.name=h1,env=prod',
    'latency: host.name=h1,env=prod',
    'latency.exp: host.name=h1,env=prod',
    'legacy: host.name=h1,env=prod',
  ]);
  const before = fromBinary(ExportMetricsServiceRequestSchema, body);
  const after = fromBinary(ExportMetricsServiceRequestSchema, out);
  // Everything but the attributes is as it was.
  for (const m of [before, after])
    for (const x of m.resourceMetrics[0]!.scopeMetrics[0]!.metrics)
      for (const p of x.data.value!.dataPoints as { attributes: unknown[] }[]) p.attributes = [];
  assert.equal(after, before);
});

test('an edit that changes nothing returns the same bytes (and looks at no value)', () => {
  const body = metricsBody();
  const { out, same } = run(
    'metrics',
    [
      {
        attributes: [
          { action: 'delete', key: 'absent' },
          { action: 'update', key: 'also.absent', value: 1 },
        ],
      },
    ],
    body,
  );
  assert.equal(same, [true]);
  assert.is(out.length, body.length);
});

test('redact hashes the keys in the resource and in every item', () => {
  const { out } = run('metrics', [{ redact: ['user.email'] }], metricsBody());
  const m = fromBinary(ExportMetricsServiceRequestSchema, out);
  assert.equal(kvText(m.resourceMetrics[0]!.resource!.attributes), `service.name=svc,user.email=${sha256('ops@example.com')}`);
  assert.equal(pointAttributes(out)[0], `http.requests: host.name=h1,user.email=${sha256('a@example.com')}`);
});

test('filter: metrics by name glob, all their points counted; an emptied entry goes', () => {
  const { out, dropped } = run('metrics', [{ filter: { metrics: { names: ['debug.*', 'legacy'] } } }], metricsBody());
  assert.equal(
    fromBinary(ExportMetricsServiceRequestSchema, out).resourceMetrics[0]!.scopeMetrics[0]!.metrics.map((x) => x.name),
    ['http.requests', 'latency', 'latency.exp'],
  );
  assert.equal(dropped, { metric_name: 4 });
  const all = run('metrics', [{ filter: { metrics: { names: ['*'] } } }], metricsBody());
  assert.is(all.out.length, 0);
  assert.equal(all.dropped, { metric_name: 8 });
});

const record = (severityNumber: number, body: string, attributes: unknown[] = []) => ({
  severityNumber,
  body: { value: { case: 'stringValue', value: body } },
  attributes,
});
function logsBody(): Uint8Array {
  return encode(ExportLogsServiceRequestSchema, {
    resourceLogs: [
      {
        resource: { attributes: [str('service.name', 'svc')] },
        scopeLogs: [
          {
            logRecords: [
              record(5, 'debug detail'),
              record(9, 'order placed', [str('http.route', '/orders')]),
              record(0, 'no severity'),
              record(13, 'health check ok', [str('http.route', '/healthz')]),
              record(17, 'failed', [str('http.route', '/healthz/deep'), str('user.email', 'b@example.com')]),
            ],
          },
          { logRecords: [record(1, 'trace only')] },
        ],
      },
    ],
  });
}

const logBodies = (bytes: Uint8Array): string[] =>
  fromBinary(ExportLogsServiceRequestSchema, bytes).resourceLogs.flatMap((r) =>
    r.scopeLogs.flatMap((s) => s.logRecords.map((l) => String(l.body?.value.value))),
  );

test('filter: log records below a severity (unset kept), by body and by attribute glob; an emptied scope goes', () => {
  const { out, dropped } = run(
    'logs',
    [{ filter: { logs: { minSeverity: 'INFO', bodies: ['*health*'], attributes: { 'http.route': '/healthz/*' } } } }],
    logsBody(),
  );
  assert.equal(logBodies(out), ['order placed', 'no severity']);
  assert.equal(dropped, { log_severity: 2, log_match: 2 });
  assert.is(fromBinary(ExportLogsServiceRequestSchema, out).resourceLogs[0]!.scopeLogs.length, 1);
});

test('processors run in order: an edit before a filter is seen by it', () => {
  const processors = [
    { attributes: [{ action: 'upsert', key: 'http.route', value: '/healthz/x' }] },
    { filter: { logs: { attributes: { 'http.route': '/healthz/*' } } } },
  ];
  const { out, dropped } = run('logs', processors, logsBody());
  assert.is(out.length, 0);
  assert.equal(dropped, { log_match: 6 });
});

test('log record and span attributes are edited; spans filtered by name', () => {
  const logs = run('logs', [{ attributes: [{ action: 'hash', key: 'user.email' }] }], logsBody());
  const records = fromBinary(ExportLogsServiceRequestSchema, logs.out).resourceLogs[0]!.scopeLogs[0]!.logRecords;
  assert.is(kvText(records[4]!.attributes), `http.route=/healthz/deep,user.email=${sha256('b@example.com')}`);
  assert.is(records[4]!.severityNumber, 17);
  const spans = encode(ExportTraceServiceRequestSchema, {
    resourceSpans: [
      {
        scopeSpans: [
          {
            spans: [
              { name: 'GET /healthz', attributes: [str('a', '1')] },
              { name: 'POST /orders', attributes: [str('a', '2')], traceId: new Uint8Array(16).fill(1), spanId: new Uint8Array(8).fill(2) },
            ],
          },
        ],
      },
    ],
  });
  const t = run('traces', [{ filter: { spans: { names: ['GET /health*'] } } }, { attributes: [{ action: 'insert', key: 'b', value: true }] }], spans);
  const kept = fromBinary(ExportTraceServiceRequestSchema, t.out).resourceSpans[0]!.scopeSpans[0]!.spans;
  assert.equal(
    kept.map((s) => [s.name, kvText(s.attributes), s.spanId.length]),
    [['POST /orders', 'a=2,b=true', 8]],
  );
  assert.equal(t.dropped, { span_name: 1 });
});

test('a filter for one signal leaves the others unwalked (the same bytes)', () => {
  const { same } = run('metrics', [{ filter: { logs: { minSeverity: 9 }, spans: { names: ['x'] } } }], metricsBody());
  assert.equal(same, [true]);
});

test.run();
