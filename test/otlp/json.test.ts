import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { create, equals, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { context, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { SeverityNumber as ApiSeverity } from '@opentelemetry/api-logs';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { JsonLogsSerializer, JsonTraceSerializer, ProtobufLogsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import {
  ExportMetricsServiceRequestSchema,
  ExportMetricsServiceResponseSchema,
} from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { ExportLogsServiceRequestSchema } from '../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import { ExportTraceServiceRequestSchema } from '../../gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js';
import { AggregationTemporality } from '../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import { SeverityNumber } from '../../gen/opentelemetry/proto/logs/v1/logs_pb.js';
import { Span_SpanKind, Status_StatusCode } from '../../gen/opentelemetry/proto/trace/v1/trace_pb.js';
import { decodeJson, decodeJsonValue, encodeJson, encodeJsonString, OtlpJsonError } from '../../src/otlp/json.js';

const TRACE_ID = Uint8Array.from([0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c]);
const TRACE_HEX = '5b8efff798038103d269b633813fc60c';
const SPAN_ID = Uint8Array.from([0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74]);
const SPAN_HEX = 'eee19b7ec3c1b174';
const PARENT_ID = Uint8Array.from([0x00, 0x01, 0x02, 0x03, 0xa4, 0xb5, 0xc6, 0xd7]);
const PARENT_HEX = '00010203a4b5c6d7';

const str = (value: string) => ({ value: { case: 'stringValue' as const, value } });

function metricsRequest() {
  return create(ExportMetricsServiceRequestSchema, {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: str('svc') }] },
        scopeMetrics: [
          {
            scope: { name: 'scope', version: '1.0.0' },
            metrics: [
              {
                name: 'requests',
                unit: '{request}',
                data: {
                  case: 'sum',
                  value: {
                    aggregationTemporality: AggregationTemporality.CUMULATIVE,
                    isMonotonic: true,
                    dataPoints: [
                      {
                        attributes: [
                          { key: 'bytes', value: { value: { case: 'bytesValue', value: Uint8Array.from([1, 2, 255]) } } },
                          { key: 'big', value: { value: { case: 'intValue', value: -9007199254740993n } } },
                        ],
                        startTimeUnixNano: 1_700_000_000_000_000_000n,
                        timeUnixNano: 1_700_000_001_000_000_123n,
                        value: { case: 'asInt', value: 9007199254740993n },
                        exemplars: [
                          {
                            timeUnixNano: 1_700_000_000_500_000_000n,
                            value: { case: 'asDouble', value: 2.5 },
                            traceId: TRACE_ID,
                            spanId: SPAN_ID,
                          },
                        ],
                      },
                    ],
                  },
                },
              },
              {
                name: 'latency',
                data: {
                  case: 'histogram',
                  value: {
                    aggregationTemporality: AggregationTemporality.DELTA,
                    dataPoints: [
                      {
                        count: 3n,
                        sum: 7.5,
                        bucketCounts: [1n, 2n, 0n],
                        explicitBounds: [1, 5],
                        min: 0.5,
                        max: Number.POSITIVE_INFINITY,
                        exemplars: [{ value: { case: 'asInt', value: 4n }, traceId: TRACE_ID, spanId: SPAN_ID }],
                      },
                    ],
                  },
                },
              },
              {
                name: 'exp',
                data: {
                  case: 'exponentialHistogram',
                  value: {
                    aggregationTemporality: AggregationTemporality.DELTA,
                    dataPoints: [
                      {
                        count: 2n,
                        scale: -3,
                        zeroCount: 0n,
                        positive: { offset: -2, bucketCounts: [1n, 1n] },
                        exemplars: [{ traceId: TRACE_ID, spanId: SPAN_ID }],
                      },
                    ],
                  },
                },
              },
              { name: 'g', data: { case: 'gauge', value: { dataPoints: [{ value: { case: 'asDouble', value: Number.NaN } }] } } },
            ],
          },
        ],
      },
    ],
  });
}

function logsRequest() {
  return create(ExportLogsServiceRequestSchema, {
    resourceLogs: [
      {
        scopeLogs: [
          {
            logRecords: [
              {
                timeUnixNano: 1n,
                severityNumber: SeverityNumber.WARN,
                severityText: 'WARN',
                body: {
                  value: {
                    case: 'kvlistValue',
                    value: {
                      values: [{ key: 'nested', value: { value: { case: 'arrayValue', value: { values: [str('a'), {}] } } } }],
                    },
                  },
                },
                traceId: TRACE_ID,
                spanId: SPAN_ID,
                flags: 1,
              },
              { body: str('no ids') },
            ],
          },
        ],
      },
    ],
  });
}

function traceRequest() {
  return create(ExportTraceServiceRequestSchema, {
    resourceSpans: [
      {
        scopeSpans: [
          {
            spans: [
              {
                traceId: TRACE_ID,
                spanId: SPAN_ID,
                parentSpanId: PARENT_ID,
                name: 'op',
                kind: Span_SpanKind.SERVER,
                startTimeUnixNano: 10n,
                endTimeUnixNano: 20n,
                links: [{ traceId: TRACE_ID, spanId: PARENT_ID, flags: 0x301 }],
                events: [{ name: 'e', timeUnixNano: 15n }],
                status: { code: Status_StatusCode.ERROR, message: 'boom' },
              },
            ],
          },
        ],
      },
    ],
  });
}

function assertRoundTrip<D extends DescMessage>(schema: D, message: MessageShape<D>): void {
  const back = decodeJson(schema, encodeJson(schema, message));
  // Bytes, not equals(): NaN values must survive too, and NaN !== NaN.
  assert.equal(toBinary(schema, back), toBinary(schema, message), `round trip of ${schema.typeName}`);
}

function expectError(fn: () => unknown, path: string, ...fragments: string[]): OtlpJsonError {
  try {
    fn();
  } catch (e) {
    assert.instance(e, OtlpJsonError);
    const err = e as OtlpJsonError;
    assert.is(err.path, path);
    for (const f of fragments) assert.ok(err.message.includes(f), `"${err.message}" should include "${f}"`);
    return err;
  }
  assert.unreachable(`expected an OtlpJsonError at ${path}`);
  throw new Error('unreachable');
}

const encoding = suite('otlp/json encode');

encoding('ids are lowercase hex in every id field, other bytes stay base64', () => {
  const metrics = JSON.parse(encodeJsonString(ExportMetricsServiceRequestSchema, metricsRequest()));
  const metricList = metrics.resourceMetrics[0].scopeMetrics[0].metrics;
  const sumPoint = metricList[0].sum.dataPoints[0];
  assert.is(sumPoint.exemplars[0].traceId, TRACE_HEX);
  assert.is(sumPoint.exemplars[0].spanId, SPAN_HEX);
  assert.is(metricList[1].histogram.dataPoints[0].exemplars[0].traceId, TRACE_HEX);
  assert.is(metricList[2].exponentialHistogram.dataPoints[0].exemplars[0].spanId, SPAN_HEX);
  assert.is(sumPoint.attributes[0].value.bytesValue, 'AQL/');

  const logs = JSON.parse(encodeJsonString(ExportLogsServiceRequestSchema, logsRequest()));
  const record = logs.resourceLogs[0].scopeLogs[0].logRecords[0];
  assert.is(record.traceId, TRACE_HEX);
  assert.is(record.spanId, SPAN_HEX);

  const spans = JSON.parse(encodeJsonString(ExportTraceServiceRequestSchema, traceRequest()));
  const span = spans.resourceSpans[0].scopeSpans[0].spans[0];
  assert.is(span.traceId, TRACE_HEX);
  assert.is(span.spanId, SPAN_HEX);
  assert.is(span.parentSpanId, PARENT_HEX);
  assert.is(span.links[0].traceId, TRACE_HEX);
  assert.is(span.links[0].spanId, PARENT_HEX);
});

encoding('enums are integers, 64-bit integers decimal strings, keys lowerCamelCase', () => {
  const metrics = JSON.parse(encodeJsonString(ExportMetricsServiceRequestSchema, metricsRequest()));
  const sum = metrics.resourceMetrics[0].scopeMetrics[0].metrics[0].sum;
  assert.is(sum.aggregationTemporality, 2);
  assert.is(sum.isMonotonic, true);
  assert.is(sum.dataPoints[0].asInt, '9007199254740993');
  assert.is(sum.dataPoints[0].startTimeUnixNano, '1700000000000000000');
  assert.is(sum.dataPoints[0].timeUnixNano, '1700000001000000123');
  assert.is(sum.dataPoints[0].attributes[1].value.intValue, '-9007199254740993');
  const hist = metrics.resourceMetrics[0].scopeMetrics[0].metrics[1].histogram.dataPoints[0];
  assert.equal(hist.bucketCounts, ['1', '2', '0']);
  assert.is(hist.max, 'Infinity');
  assert.is(metrics.resourceMetrics[0].scopeMetrics[0].metrics[3].gauge.dataPoints[0].asDouble, 'NaN');

  const spans = JSON.parse(encodeJsonString(ExportTraceServiceRequestSchema, traceRequest()));
  const span = spans.resourceSpans[0].scopeSpans[0].spans[0];
  assert.is(span.kind, 2);
  assert.is(span.status.code, 2);
  const logs = JSON.parse(encodeJsonString(ExportLogsServiceRequestSchema, logsRequest()));
  assert.is(logs.resourceLogs[0].scopeLogs[0].logRecords[0].severityNumber, 13);
  assert.is(logs.resourceLogs[0].scopeLogs[0].logRecords[0].body.kvlistValue.values[0].key, 'nested');
});

encoding('empty ids are omitted, not written as ""', () => {
  const logs = JSON.parse(encodeJsonString(ExportLogsServiceRequestSchema, logsRequest()));
  const record = logs.resourceLogs[0].scopeLogs[0].logRecords[1];
  assert.equal(Object.keys(record), ['body']);
});

encoding('output is UTF-8 bytes', () => {
  const req = create(ExportLogsServiceRequestSchema, {
    resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: str('héllo ✓ 😀') }] }] }],
  });
  const bytes = encodeJson(ExportLogsServiceRequestSchema, req);
  assert.instance(bytes, Uint8Array);
  assert.ok(new TextDecoder().decode(bytes).includes('héllo ✓ 😀'));
});

encoding.run();

const roundTrip = suite('otlp/json round trip');

roundTrip('metrics, logs and traces survive encode → decode', () => {
  assertRoundTrip(ExportMetricsServiceRequestSchema, metricsRequest());
  assertRoundTrip(ExportLogsServiceRequestSchema, logsRequest());
  assertRoundTrip(ExportTraceServiceRequestSchema, traceRequest());
  assertRoundTrip(ExportMetricsServiceRequestSchema, create(ExportMetricsServiceRequestSchema));
});

roundTrip('property: random ids and 64-bit values round trip (seeded)', () => {
  let seed = 0x2545f491;
  const next = () => {
    // xorshift32: deterministic, good enough to vary ids and integers.
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => next() & 0xff);
  for (let i = 0; i < 200; i++) {
    const hi = BigInt(next());
    const lo = BigInt(next());
    const u64 = (hi << 32n) | lo;
    const i64 = BigInt.asIntN(64, u64);
    const req = create(ExportTraceServiceRequestSchema, {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: bytes(16),
                  spanId: bytes(8),
                  parentSpanId: i % 3 === 0 ? new Uint8Array(0) : bytes(8),
                  startTimeUnixNano: u64,
                  attributes: [{ key: 'i', value: { value: { case: 'intValue', value: i64 } } }],
                  links: [{ traceId: bytes(16), spanId: bytes(8) }],
                },
              ],
            },
          ],
        },
      ],
    });
    assertRoundTrip(ExportTraceServiceRequestSchema, req);
  }
});

roundTrip.run();

const decoding = suite('otlp/json decode');

decoding('accepts upper-case hex, proto field names, enum names and int64 as numbers', () => {
  const body = JSON.stringify({
    resource_spans: [
      {
        scope_spans: [
          {
            spans: [
              {
                trace_id: TRACE_HEX.toUpperCase(),
                spanId: SPAN_HEX.toUpperCase(),
                parent_span_id: PARENT_HEX,
                kind: 'SPAN_KIND_CLIENT',
                start_time_unix_nano: 1234,
                endTimeUnixNano: '5678',
                status: { code: 'STATUS_CODE_OK' },
                links: [{ trace_id: TRACE_HEX, span_id: SPAN_HEX.toUpperCase() }],
              },
            ],
          },
        ],
      },
    ],
  });
  const req = decodeJson(ExportTraceServiceRequestSchema, body);
  const span = req.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
  assert.equal(span.traceId, TRACE_ID);
  assert.equal(span.spanId, SPAN_ID);
  assert.equal(span.parentSpanId, PARENT_ID);
  assert.is(span.kind, Span_SpanKind.CLIENT);
  assert.is(span.startTimeUnixNano, 1234n);
  assert.is(span.endTimeUnixNano, 5678n);
  assert.is(span.status!.code, Status_StatusCode.OK);
  assert.equal(span.links[0]!.traceId, TRACE_ID);
  assert.equal(span.links[0]!.spanId, SPAN_ID);
});

decoding('accepts ids in every id field of logs and exemplars, by either key spelling', () => {
  const logs = decodeJson(
    ExportLogsServiceRequestSchema,
    JSON.stringify({
      resourceLogs: [
        {
          scopeLogs: [
            {
              logRecords: [
                { traceId: TRACE_HEX, span_id: SPAN_HEX, severityNumber: 'SEVERITY_NUMBER_ERROR', observedTimeUnixNano: 7 },
                { trace_id: '', spanId: '' },
              ],
            },
          ],
        },
      ],
    }),
  );
  const [first, second] = logs.resourceLogs[0]!.scopeLogs[0]!.logRecords;
  assert.equal(first!.traceId, TRACE_ID);
  assert.equal(first!.spanId, SPAN_ID);
  assert.is(first!.severityNumber, SeverityNumber.ERROR);
  assert.is(first!.observedTimeUnixNano, 7n);
  assert.is(second!.traceId.length, 0);
  assert.is(second!.spanId.length, 0);

  const metrics = decodeJson(
    ExportMetricsServiceRequestSchema,
    JSON.stringify({
      resource_metrics: [
        {
          scope_metrics: [
            {
              metrics: [
                {
                  name: 'x',
                  exponential_histogram: {
                    aggregation_temporality: 'AGGREGATION_TEMPORALITY_DELTA',
                    data_points: [{ exemplars: [{ trace_id: TRACE_HEX, spanId: SPAN_HEX, as_int: '-5' }] }],
                  },
                },
                { name: 'y', summary: { dataPoints: [{ count: 3, quantile_values: [{ quantile: 0.5, value: 1 }] }] } },
              ],
            },
          ],
        },
      ],
    }),
  );
  const metric = metrics.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!;
  assert.is(metric.data.case, 'exponentialHistogram');
  if (metric.data.case !== 'exponentialHistogram') return;
  assert.is(metric.data.value.aggregationTemporality, AggregationTemporality.DELTA);
  const ex = metric.data.value.dataPoints[0]!.exemplars[0]!;
  assert.equal(ex.traceId, TRACE_ID);
  assert.equal(ex.spanId, SPAN_ID);
  assert.equal(ex.value, { case: 'asInt', value: -5n });
  const summary = metrics.resourceMetrics[0]!.scopeMetrics[0]!.metrics[1]!;
  assert.is(summary.data.case, 'summary');
});

decoding('a hex-looking AnyValue bytesValue is base64, not an id', () => {
  const req = decodeJson(
    ExportLogsServiceRequestSchema,
    JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { bytesValue: 'AQL/' } }] }] }] }),
  );
  const body = req.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.body!;
  assert.equal(body.value, { case: 'bytesValue', value: Uint8Array.from([1, 2, 255]) });
});

decoding('unknown fields are ignored at every level', () => {
  const req = decodeJson(
    ExportTraceServiceRequestSchema,
    JSON.stringify({
      futureTopLevel: { a: 1 },
      resourceSpans: [
        {
          newThing: [1, 2],
          scopeSpans: [{ spans: [{ traceId: TRACE_HEX, futureField: 'x', name: 'n' }] }],
        },
      ],
    }),
  );
  assert.is(req.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.name, 'n');
});

decoding('accepts a response with partial success (int64 as a number)', () => {
  const res = decodeJson(ExportMetricsServiceResponseSchema, '{"partialSuccess":{"rejectedDataPoints":3,"errorMessage":"dropped"}}');
  assert.is(res.partialSuccess!.rejectedDataPoints, 3n);
  assert.is(res.partialSuccess!.errorMessage, 'dropped');
  assert.is(decodeJson(ExportMetricsServiceResponseSchema, '{}').partialSuccess, undefined);
});

decoding('unquoted 64-bit integers keep full precision; strings and doubles are untouched', () => {
  const text =
    '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":1700000000123456789,"observedTimeUnixNano" : 18446744073709551615,' +
    '"body":{"intValue":-9223372036854775808},"attributes":[{"key":"s","value":{"stringValue":"x:1234567890123456789,[12345678901234567"}},' +
    '{"key":"d","value":{"doubleValue":12345678901234567.5}},{"key":"e","value":{"doubleValue":1e300}},{"key":"q","value":{"stringValue":"a\\"b:1234567890123456789"}}]}]}]}]}';
  const record = decodeJson(ExportLogsServiceRequestSchema, text).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
  assert.is(record.timeUnixNano, 1700000000123456789n);
  assert.is(record.observedTimeUnixNano, 18446744073709551615n);
  assert.equal(record.body!.value, { case: 'intValue', value: -9223372036854775808n });
  assert.equal(record.attributes[0]!.value!.value, { case: 'stringValue', value: 'x:1234567890123456789,[12345678901234567' });
  assert.equal(record.attributes[1]!.value!.value, { case: 'doubleValue', value: 12345678901234567.5 });
  assert.equal(record.attributes[2]!.value!.value, { case: 'doubleValue', value: 1e300 });
  assert.equal(record.attributes[3]!.value!.value, { case: 'stringValue', value: 'a"b:1234567890123456789' });
});

decoding('decodeJsonValue takes a parsed value', () => {
  const req = decodeJsonValue(ExportLogsServiceRequestSchema, {
    resourceLogs: [{ scopeLogs: [{ logRecords: [{ traceId: TRACE_HEX }] }] }],
  });
  assert.equal(req.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.traceId, TRACE_ID);
});

decoding.run();

const errors = suite('otlp/json errors');

const spanPath = '$.resourceSpans[0].scopeSpans[0].spans[0]';
const oneSpan = (span: Record<string, unknown>) => JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] });

errors('bad hex ids name the field, the value and what is allowed', () => {
  expectError(
    () => decodeJson(ExportTraceServiceRequestSchema, oneSpan({ traceId: 'zz' + TRACE_HEX.slice(2) })),
    `${spanPath}.traceId`,
    '"zz',
    '32 hex digits',
  );
  expectError(() => decodeJson(ExportTraceServiceRequestSchema, oneSpan({ spanId: 'abc' })), `${spanPath}.spanId`, '"abc"', '16 hex digits');
  // base64 of the same 16 bytes is not accepted where OTLP requires hex.
  expectError(() => decodeJson(ExportTraceServiceRequestSchema, oneSpan({ traceId: 'W47/95gDgQPSabYzgT/GDA==' })), `${spanPath}.traceId`);
  expectError(() => decodeJson(ExportTraceServiceRequestSchema, oneSpan({ parent_span_id: 12 })), `${spanPath}.parent_span_id`, '12', 'hex');
  expectError(
    () => decodeJson(ExportTraceServiceRequestSchema, oneSpan({ links: [{}, { spanId: SPAN_HEX + '00' }] })),
    `${spanPath}.links[1].spanId`,
  );
  expectError(
    () =>
      decodeJson(
        ExportMetricsServiceRequestSchema,
        JSON.stringify({
          resourceMetrics: [{ scopeMetrics: [{ metrics: [{ gauge: { dataPoints: [{ exemplars: [{ traceId: 'x' }] }] } }] }] }],
        }),
      ),
    '$.resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0].exemplars[0].traceId',
  );
});

errors('bad scalar and enum values name the path and what is allowed', () => {
  expectError(
    () => decodeJson(ExportTraceServiceRequestSchema, oneSpan({ startTimeUnixNano: 'soon' })),
    `${spanPath}.startTimeUnixNano`,
    '"soon"',
    'unsigned 64-bit integer',
  );
  expectError(() => decodeJson(ExportTraceServiceRequestSchema, oneSpan({ kind: true })), `${spanPath}.kind`, 'SPAN_KIND_SERVER');
  expectError(() => decodeJson(ExportTraceServiceRequestSchema, oneSpan({ kind: 1.5 })), `${spanPath}.kind`, 'integer');
  expectError(() => decodeJson(ExportTraceServiceRequestSchema, oneSpan({ name: 5 })), `${spanPath}.name`, 'string');
  expectError(
    () =>
      decodeJson(
        ExportMetricsServiceRequestSchema,
        JSON.stringify({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ histogram: { dataPoints: [{ bucketCounts: ['1', 'x'] }] } }] }] }] }),
      ),
    '$.resourceMetrics[0].scopeMetrics[0].metrics[0].histogram.dataPoints[0].bucketCounts[1]',
    '"x"',
  );
  expectError(
    () =>
      decodeJson(
        ExportLogsServiceRequestSchema,
        JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { intValue: 'NaN' } }] }] }] }),
      ),
    '$.resourceLogs[0].scopeLogs[0].logRecords[0].body.intValue',
    'signed 64-bit integer',
  );
});

errors('wrong shapes and conflicts are located', () => {
  expectError(() => decodeJson(ExportTraceServiceRequestSchema, '{"resourceSpans":{}}'), '$.resourceSpans', 'array');
  expectError(() => decodeJson(ExportTraceServiceRequestSchema, '{"resourceSpans":[null]}'), '$.resourceSpans[0]', 'null');
  expectError(() => decodeJson(ExportTraceServiceRequestSchema, '{"resourceSpans":[{"resource":"x"}]}'), '$.resourceSpans[0].resource', 'object');
  expectError(
    () =>
      decodeJson(
        ExportLogsServiceRequestSchema,
        JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'a', intValue: 1 } }] }] }] }),
      ),
    '$.resourceLogs[0].scopeLogs[0].logRecords[0].body',
    'oneof',
  );
});

errors('bad documents: not JSON, not UTF-8, not an object', () => {
  expectError(() => decodeJson(ExportTraceServiceRequestSchema, '{"resourceSpans": ['), '$', 'not JSON');
  expectError(() => decodeJson(ExportTraceServiceRequestSchema, Uint8Array.from([0x7b, 0xff, 0x7d])), '$', 'UTF-8');
  expectError(() => decodeJson(ExportTraceServiceRequestSchema, '[]'), '$', 'object');
  expectError(() => decodeJson(ExportTraceServiceRequestSchema, 'null'), '$', 'object');
});

errors.run();

const interop = suite('otlp/json vs @opentelemetry/otlp-transformer');

interop('spans serialized by the official JSON serializer decode to the same message as its protobuf', async () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('interop', '1.2.3');
  const parent = tracer.startSpan('parent', { kind: SpanKind.SERVER, attributes: { 'http.status': 200, ok: true } });
  const child = tracer.startSpan('child', { links: [{ context: parent.spanContext() }] }, trace.setSpan(context.active(), parent));
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'nope' });
  child.addEvent('evt', { n: 1.5 });
  child.end();
  parent.end();
  await provider.forceFlush();
  const spans = exporter.getFinishedSpans();
  assert.is(spans.length, 2);

  const theirJson = JsonTraceSerializer.serializeRequest(spans)!;
  const theirProto = ProtobufTraceSerializer.serializeRequest(spans)!;
  const fromTheirJson = decodeJson(ExportTraceServiceRequestSchema, theirJson);
  const fromTheirProto = fromBinary(ExportTraceServiceRequestSchema, theirProto);
  assert.ok(equals(ExportTraceServiceRequestSchema, fromTheirJson, fromTheirProto));
  const childSpan = fromTheirProto.resourceSpans[0]!.scopeSpans[0]!.spans.find((s) => s.name === 'child')!;
  assert.is(childSpan.parentSpanId.length, 8);
  assert.is(childSpan.links[0]!.spanId.length, 8);

  // Our JSON carries the same ids as theirs, as text.
  const ours = JSON.parse(encodeJsonString(ExportTraceServiceRequestSchema, fromTheirProto));
  const theirs = JSON.parse(new TextDecoder().decode(theirJson));
  const idsOf = (doc: { resourceSpans: { scopeSpans: { spans: { traceId: string; spanId: string }[] }[] }[] }) =>
    doc.resourceSpans[0]!.scopeSpans[0]!.spans.map((s) => `${s.traceId}/${s.spanId}`).sort();
  assert.equal(idsOf(ours), idsOf(theirs));
  await provider.shutdown();
});

interop('log records serialized by the official JSON serializer decode to the same message as its protobuf', async () => {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] });
  const logger = provider.getLogger('interop');
  const tracerProvider = new BasicTracerProvider();
  const span = tracerProvider.getTracer('t').startSpan('s');
  logger.emit({
    severityNumber: ApiSeverity.WARN,
    severityText: 'WARN',
    body: { msg: 'hello', list: [1, 'two', true], bytes: Uint8Array.from([9, 8]) },
    attributes: { k: 'v', n: 3 },
    context: trace.setSpan(context.active(), span),
  });
  await provider.forceFlush();
  const records = exporter.getFinishedLogRecords();
  assert.is(records.length, 1);
  const fromTheirJson = decodeJson(ExportLogsServiceRequestSchema, JsonLogsSerializer.serializeRequest(records)!);
  const fromTheirProto = fromBinary(ExportLogsServiceRequestSchema, ProtobufLogsSerializer.serializeRequest(records)!);
  assert.ok(equals(ExportLogsServiceRequestSchema, fromTheirJson, fromTheirProto));
  assert.is(fromTheirProto.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.traceId.length, 16);
  // And ours → bytes → theirs agree: protobuf bytes of our decode equal their protobuf decode.
  assert.equal(toBinary(ExportLogsServiceRequestSchema, fromTheirJson), toBinary(ExportLogsServiceRequestSchema, fromTheirProto));
  span.end();
  await provider.shutdown();
});

interop.run();
