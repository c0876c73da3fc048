import { create } from '@bufbuild/protobuf';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ExportLogsServiceRequestSchema } from '../../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import { ExportMetricsServiceRequestSchema } from '../../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { ExportTraceServiceRequestSchema } from '../../../gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js';
import type { AnyValue } from '../../../gen/opentelemetry/proto/common/v1/common_pb.js';
import { AnyValueSchema } from '../../../gen/opentelemetry/proto/common/v1/common_pb.js';
import { SeverityNumber } from '../../../gen/opentelemetry/proto/logs/v1/logs_pb.js';
import { AggregationTemporality } from '../../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import { Span_SpanKind, Status_StatusCode } from '../../../gen/opentelemetry/proto/trace/v1/trace_pb.js';
import { formatAnyValue, formatDouble, formatNanos, formatRequest } from '../../../src/gateway/observe/print-detailed.js';

const T = 1_700_000_000_123_456_789n;
const str = (value: string) => ({ value: { case: 'stringValue' as const, value } });
const int = (value: bigint) => ({ value: { case: 'intValue' as const, value } });

const test = suite('gateway/print-detailed');

test('metrics: resource, scope, sum, histogram with exemplar, exponential buckets', () => {
  const message = create(ExportMetricsServiceRequestSchema, {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: str('checkout') }] },
        schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
        scopeMetrics: [
          {
            scope: { name: 'lib', version: '1.2' },
            metrics: [
              {
                name: 'reqs',
                unit: '{request}',
                description: 'd',
                data: {
                  case: 'sum',
                  value: {
                    aggregationTemporality: AggregationTemporality.CUMULATIVE,
                    isMonotonic: true,
                    dataPoints: [
                      {
                        startTimeUnixNano: T,
                        timeUnixNano: T + 1000n,
                        value: { case: 'asInt', value: 5n },
                        attributes: [{ key: 'm', value: str('GET') }],
                      },
                    ],
                  },
                },
              },
              {
                name: 'lat',
                unit: 'ms',
                data: {
                  case: 'histogram',
                  value: {
                    aggregationTemporality: AggregationTemporality.DELTA,
                    dataPoints: [
                      {
                        timeUnixNano: T,
                        count: 3n,
                        sum: 12,
                        min: 1,
                        max: 8,
                        explicitBounds: [5, 10],
                        bucketCounts: [2n, 1n, 0n],
                        exemplars: [
                          {
                            value: { case: 'asDouble', value: 8 },
                            timeUnixNano: T,
                            traceId: new Uint8Array(16).fill(0xab),
                            spanId: new Uint8Array(8).fill(1),
                          },
                        ],
                      },
                    ],
                  },
                },
              },
              {
                name: 'e',
                data: {
                  case: 'exponentialHistogram',
                  value: {
                    aggregationTemporality: AggregationTemporality.CUMULATIVE,
                    dataPoints: [{ count: 4n, sum: 10, scale: 1, zeroCount: 1n, positive: { offset: 2, bucketCounts: [2n, 0n, 1n] } }],
                  },
                },
              },
              {
                name: 'g',
                data: { case: 'gauge', value: { dataPoints: [{ timeUnixNano: T, value: { case: 'asDouble', value: 0.5 }, flags: 1 }] } },
              },
            ],
          },
        ],
      },
    ],
  });
  const text = formatRequest({ signal: 'metrics', message }, { protocol: 'http/protobuf', tenant: 'acme', items: 4, bytes: 100 });
  assert.fixture(
    text,
    [
      'metrics request (http/protobuf, tenant "acme"): 4 data points, 100 bytes',
      'ResourceMetrics #0 schema_url=https://opentelemetry.io/schemas/1.26.0',
      '  resource:',
      '    service.name = "checkout"',
      '  ScopeMetrics #0 scope lib 1.2',
      '    Metric #0 reqs [{request}] Sum (cumulative, monotonic)',
      '      description: "d"',
      '      point #0 {m="GET"}',
      '        start 2023-11-14T22:13:20.123456789Z  time 2023-11-14T22:13:20.123457789Z',
      '        value 5',
      '    Metric #1 lat [ms] Histogram (delta)',
      '      point #0 {}',
      '        start 0 (unset)  time 2023-11-14T22:13:20.123456789Z',
      '        count 3 sum 12.0 min 1.0 max 8.0',
      '        buckets (-Inf, 5.0] 2, (5.0, 10.0] 1, (10.0, +Inf) 0',
      '        exemplar #0 value 8.0 time 2023-11-14T22:13:20.123456789Z trace_id abababababababababababababababab span_id 0101010101010101 {}',
      '    Metric #2 e ExponentialHistogram (cumulative)',
      '      point #0 {}',
      '        start 0 (unset)  time 0 (unset)',
      '        count 4 sum 10.0 scale 1 zero_count 1',
      '        positive offset 2: (2, 2.82843] 2, (4, 5.65685] 1',
      '    Metric #3 g Gauge',
      '      point #0 {}',
      '        start 0 (unset)  time 2023-11-14T22:13:20.123456789Z  flags 0x1',
      '        value 0.5',
      '',
    ].join('\n'),
  );
});

test('logs: times, severity, body, typed attributes, ids as hex', () => {
  const message = create(ExportLogsServiceRequestSchema, {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: str('api') }] },
        scopeLogs: [
          {
            scope: { name: 'log' },
            logRecords: [
              {
                timeUnixNano: T,
                observedTimeUnixNano: T + 5n,
                severityNumber: SeverityNumber.WARN,
                severityText: 'WARN',
                body: str('card declined'),
                eventName: 'payment.failed',
                attributes: [
                  { key: 'n', value: int(3n) },
                  { key: 'b', value: { value: { case: 'bytesValue', value: new Uint8Array([1, 255]) } } },
                  {
                    key: 'arr',
                    value: { value: { case: 'arrayValue', value: { values: [str('x'), { value: { case: 'doubleValue', value: 2 } }] } } },
                  },
                  {
                    key: 'kv',
                    value: {
                      value: { case: 'kvlistValue', value: { values: [{ key: 'k', value: { value: { case: 'boolValue', value: true } } }] } },
                    },
                  },
                ],
                traceId: new Uint8Array(16).fill(0x0f),
                spanId: new Uint8Array(8).fill(0xa0),
                flags: 1,
              },
            ],
          },
        ],
      },
    ],
  });
  assert.fixture(
    formatRequest({ signal: 'logs', message }, { protocol: 'grpc', tenant: undefined, items: 1, bytes: 80 }),
    [
      'logs request (grpc): 1 log record, 80 bytes',
      'ResourceLogs #0',
      '  resource:',
      '    service.name = "api"',
      '  ScopeLogs #0 scope log',
      '    LogRecord #0 event "payment.failed"',
      '      time 2023-11-14T22:13:20.123456789Z  observed 2023-11-14T22:13:20.123456794Z',
      '      severity WARN (13) text "WARN"',
      '      body "card declined"',
      '      attributes:',
      '        n = 3',
      '        b = 0x01ff',
      '        arr = ["x", 2.0]',
      '        kv = {k: true}',
      '      trace_id 0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f span_id a0a0a0a0a0a0a0a0',
      '      flags 0x1',
      '',
    ].join('\n'),
  );
});

test('traces: kind, ids, duration, status, events, links, dropped counts', () => {
  const message = create(ExportTraceServiceRequestSchema, {
    resourceSpans: [
      {
        scopeSpans: [
          {
            spans: [
              {
                name: 'GET /x',
                kind: Span_SpanKind.SERVER,
                traceId: new Uint8Array(16).fill(1),
                spanId: new Uint8Array(8).fill(2),
                parentSpanId: new Uint8Array(8).fill(3),
                startTimeUnixNano: T,
                endTimeUnixNano: T + 2_500_000n,
                status: { code: Status_StatusCode.ERROR, message: 'boom' },
                attributes: [{ key: 'http.status', value: int(500n) }],
                events: [{ name: 'exception', timeUnixNano: T + 1n, attributes: [{ key: 'type', value: str('E') }] }],
                links: [{ traceId: new Uint8Array(16).fill(9), spanId: new Uint8Array(8).fill(8) }],
                droppedEventsCount: 2,
              },
            ],
          },
        ],
      },
    ],
  });
  assert.fixture(
    formatRequest({ signal: 'traces', message }, { protocol: 'http/json', tenant: 't', items: 1, bytes: 80 }),
    [
      'traces request (http/json, tenant "t"): 1 span, 80 bytes',
      'ResourceSpans #0',
      '  ScopeSpans #0 scope (unnamed)',
      '    Span #0 "GET /x" kind SERVER',
      '      trace_id 01010101010101010101010101010101 span_id 0202020202020202 parent 0303030303030303',
      '      start 2023-11-14T22:13:20.123456789Z  end 2023-11-14T22:13:20.125956789Z  (2.5 ms)',
      '      status ERROR "boom"',
      '      attributes:',
      '        http.status = 500',
      '      event #0 "exception" at 2023-11-14T22:13:20.123456790Z {type="E"}',
      '      link #0 trace_id 09090909090909090909090909090909 span_id 0808080808080808 {}',
      '      dropped 2 events',
      '',
    ].join('\n'),
  );
});

test('summary points and a metric without data', () => {
  const message = create(ExportMetricsServiceRequestSchema, {
    resourceMetrics: [
      {
        scopeMetrics: [
          {
            metrics: [
              {
                name: 's',
                data: {
                  case: 'summary',
                  value: {
                    dataPoints: [
                      {
                        count: 2n,
                        sum: 3,
                        quantileValues: [
                          { quantile: 0.5, value: 1 },
                          { quantile: 1, value: 2 },
                        ],
                      },
                    ],
                  },
                },
              },
              { name: 'none' },
            ],
          },
        ],
      },
    ],
  });
  const text = formatRequest({ signal: 'metrics', message }, { protocol: 'grpc', tenant: undefined, items: 1, bytes: 10 });
  assert.ok(text.includes('        count 2 sum 3.0\n        quantiles 0.5: 1.0, 1.0: 2.0\n'), text);
  assert.ok(text.includes('    Metric #1 none Empty\n'), text);
});

test('formatNanos: nine fraction digits, unset, the largest fixed64', () => {
  assert.is(formatNanos(1n), '1970-01-01T00:00:00.000000001Z');
  assert.is(formatNanos(0n), '0 (unset)');
  assert.is(formatNanos(1_700_000_000_000_000_000n), '2023-11-14T22:13:20.000000000Z');
  assert.is(formatNanos(18_446_744_073_709_551_615n), '2554-07-21T23:34:33.709551615Z');
});

test('formatAnyValue and formatDouble', () => {
  const v = (init: Parameters<typeof create<typeof AnyValueSchema>>[1]): AnyValue => create(AnyValueSchema, init);
  assert.is(formatAnyValue(undefined), '(empty)');
  assert.is(formatAnyValue(v({})), '(empty)');
  assert.is(formatAnyValue(v({ value: { case: 'stringValue', value: 'a"b' } })), '"a\\"b"');
  assert.is(formatAnyValue(v({ value: { case: 'intValue', value: -9007199254740993n } })), '-9007199254740993');
  assert.is(formatDouble(3), '3.0');
  assert.is(formatDouble(1e21), '1e+21');
  assert.is(formatDouble(-Infinity), '-Inf');
  assert.is(formatDouble(NaN), 'NaN');
});

test.run();
