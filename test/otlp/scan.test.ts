import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ExportMetricsServiceRequestSchema } from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { ExportLogsServiceRequestSchema } from '../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import { ExportTraceServiceRequestSchema } from '../../gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js';
import { scanRequest, spliceEntries, WireFormatError } from '../../src/otlp/scan.js';

const test = suite('otlp/scan');

const str = (key: string, v: string) => ({ key, value: { value: { case: 'stringValue' as const, value: v } } });
const int = (key: string, v: bigint) => ({ key, value: { value: { case: 'intValue' as const, value: v } } });

function metricsRequest() {
  return create(ExportMetricsServiceRequestSchema, {
    resourceMetrics: [
      {
        resource: { attributes: [str('service.name', 'checkout'), str('tenant.id', 't1'), int('n', -5n)] },
        scopeMetrics: [
          {
            scope: { name: 's' },
            metrics: [
              {
                name: 'c',
                data: {
                  case: 'sum',
                  value: { dataPoints: [{ value: { case: 'asInt', value: 1n } }, { value: { case: 'asDouble', value: 2 } }] },
                },
              },
              { name: 'h', data: { case: 'histogram', value: { dataPoints: [{ count: 3n, bucketCounts: [1n, 2n] }] } } },
              { name: 'e', data: { case: 'exponentialHistogram', value: { dataPoints: [{ count: 1n }] } } },
              { name: 'g', data: { case: 'gauge', value: { dataPoints: [{}, {}, {}] } } },
            ],
          },
        ],
      },
      {
        resource: { attributes: [str('service.name', 'billing')] },
        scopeMetrics: [{ metrics: [{ name: 'x', data: { case: 'summary', value: { dataPoints: [{}] } } }] }],
      },
    ],
  });
}

test('counts data points per resource and reads resource attributes', () => {
  const bytes = toBinary(ExportMetricsServiceRequestSchema, metricsRequest());
  const r = scanRequest('metrics', bytes);
  assert.is(r.items, 8);
  assert.equal(
    r.entries.map((e) => e.items),
    [7, 1],
  );
  assert.is(r.entries[0]!.attributes.get('service.name'), 'checkout');
  assert.is(r.entries[0]!.attributes.get('tenant.id'), 't1');
  assert.is(r.entries[0]!.attributes.get('n'), '-5');
  assert.is(r.entries[1]!.attributes.get('service.name'), 'billing');
});

test('wanted-attribute filter keeps only the named keys', () => {
  const bytes = toBinary(ExportMetricsServiceRequestSchema, metricsRequest());
  const r = scanRequest('metrics', bytes, new Set(['tenant.id']));
  assert.equal([...r.entries[0]!.attributes.keys()], ['tenant.id']);
});

test('splice of a subset of entries decodes to exactly those resources', () => {
  const req = metricsRequest();
  const bytes = toBinary(ExportMetricsServiceRequestSchema, req);
  const r = scanRequest('metrics', bytes);
  const second = fromBinary(ExportMetricsServiceRequestSchema, spliceEntries(bytes, [r.entries[1]!]));
  assert.equal(second.resourceMetrics, [req.resourceMetrics[1]]);
  assert.equal(spliceEntries(bytes, r.entries), bytes);
});

test('logs and spans are counted', () => {
  const logs = create(ExportLogsServiceRequestSchema, {
    resourceLogs: [{ scopeLogs: [{ logRecords: [{}, { severityText: 'x' }] }, { logRecords: [{}] }] }],
  });
  assert.is(scanRequest('logs', toBinary(ExportLogsServiceRequestSchema, logs)).items, 3);
  const spans = create(ExportTraceServiceRequestSchema, {
    resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'a' }, { name: 'b' }] }] }, { scopeSpans: [{ spans: [{}] }] }],
  });
  const r = scanRequest('traces', toBinary(ExportTraceServiceRequestSchema, spans));
  assert.is(r.items, 3);
  assert.is(r.entries.length, 2);
});

test('empty body is an empty request', () => {
  assert.equal(scanRequest('metrics', new Uint8Array()), { entries: [], items: 0 });
});

test('truncated input is refused with the position and path', () => {
  const bytes = toBinary(ExportMetricsServiceRequestSchema, metricsRequest());
  for (const cut of [1, 5, 17, bytes.length - 1]) {
    const err = (() => {
      try {
        scanRequest('metrics', bytes.subarray(0, cut));
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    assert.instance(err, WireFormatError, `cut at ${cut}`);
    assert.match((err as Error).message, /request/);
  }
});

test('a wrong wire type where a message is expected is refused, naming the field', () => {
  // field 1 (resource_metrics) as a varint
  assert.throws(() => scanRequest('metrics', Uint8Array.of(0x08, 0x01)), /resource_metrics.*wire type 0/);
  // wire type 7 does not exist
  assert.throws(() => scanRequest('logs', Uint8Array.of(0x0f)), /wire type 7/);
});

test('unknown top-level fields are skipped, not counted', () => {
  const bytes = Uint8Array.of(0x10, 0x05, 0x1a, 0x01, 0x00);
  assert.equal(scanRequest('traces', bytes), { entries: [], items: 0 });
});

test.run();
