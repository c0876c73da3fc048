/**
 * Bad input through our decoders: protobuf-es `fromBinary` on our gen/ schema (what the receiver
 * and the gateway use for protobuf bodies) and our OTLP/JSON `decodeJson`. Malformed input must
 * fail with an Error (never hang, never a non-Error throw); tolerated input (unknown fields,
 * int64 spelled as number or string, upper-case hex) must decode to the right values.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { ExportLogsServiceRequestSchema } from '../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import { ExportMetricsServiceRequestSchema } from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { ExportTraceServiceRequestSchema } from '../../gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js';
import { NumberDataPointSchema } from '../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import { ResourceSchema } from '../../gen/opentelemetry/proto/resource/v1/resource_pb.js';
import { decodeJson, OtlpJsonError } from '../../src/otlp/json.js';
import { ofSignal, startReceiver } from '../support/receiver.js';
import { prng } from '../support/prng.js';

const str = (value: string) => ({ value: { case: 'stringValue' as const, value } });

const metrics = create(ExportMetricsServiceRequestSchema, {
  resourceMetrics: [
    {
      resource: { attributes: [{ key: 'service.name', value: str('svc') }], droppedAttributesCount: 1 },
      schemaUrl: 'https://r',
      scopeMetrics: [
        {
          scope: { name: 'lib', version: '1' },
          metrics: [
            {
              name: 'requests',
              unit: '1',
              data: {
                case: 'sum',
                value: {
                  aggregationTemporality: 2,
                  isMonotonic: true,
                  dataPoints: [
                    { startTimeUnixNano: 1n, timeUnixNano: 2n, value: { case: 'asInt', value: -3n }, attributes: [{ key: 'k', value: str('v') }] },
                  ],
                },
              },
            },
            {
              name: 'latency',
              data: {
                case: 'histogram',
                value: {
                  aggregationTemporality: 1,
                  dataPoints: [{ count: 3n, sum: 2.5, bucketCounts: [1n, 2n], explicitBounds: [1], min: 0.5, max: 1.5 }],
                },
              },
            },
          ],
        },
      ],
    },
  ],
});
const logs = create(ExportLogsServiceRequestSchema, {
  resourceLogs: [
    {
      scopeLogs: [
        {
          logRecords: [
            {
              timeUnixNano: 5n,
              severityNumber: 9,
              body: {
                value: {
                  case: 'kvlistValue',
                  value: { values: [{ key: 'a', value: { value: { case: 'bytesValue', value: new Uint8Array([1, 2]) } } }] },
                },
              },
              traceId: new Uint8Array(16).fill(0xab),
              spanId: new Uint8Array(8).fill(0xcd),
              flags: 1,
            },
          ],
        },
      ],
    },
  ],
});
const traces = create(ExportTraceServiceRequestSchema, {
  resourceSpans: [
    {
      scopeSpans: [
        {
          spans: [
            {
              traceId: new Uint8Array(16).fill(1),
              spanId: new Uint8Array(8).fill(2),
              parentSpanId: new Uint8Array(8).fill(3),
              name: 'op',
              kind: 2,
              events: [{ name: 'e', timeUnixNano: 9n }],
              links: [{ traceId: new Uint8Array(16).fill(4), spanId: new Uint8Array(8).fill(5), traceState: 'a=b' }],
              status: { code: 2, message: 'bad' },
            },
          ],
        },
      ],
    },
  ],
});

const cases: Array<[string, DescMessage, Uint8Array]> = [
  ['metrics', ExportMetricsServiceRequestSchema, toBinary(ExportMetricsServiceRequestSchema, metrics)],
  ['logs', ExportLogsServiceRequestSchema, toBinary(ExportLogsServiceRequestSchema, logs)],
  ['traces', ExportTraceServiceRequestSchema, toBinary(ExportTraceServiceRequestSchema, traces)],
];

/** The error `fn` throws; fails the test when it returns. */
function thrown(fn: () => unknown, what: string): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  assert.unreachable(`${what}: expected an error`);
  return undefined;
}

function jsonError<D extends DescMessage>(schema: D, json: string): OtlpJsonError {
  const e = thrown(() => decodeJson(schema, json), json.slice(0, 80));
  assert.instance(e, OtlpJsonError, String(e));
  return e as OtlpJsonError;
}

// ---- protobuf ------------------------------------------------------------------------------

const pb = suite('interop/bad input: protobuf');

pb('every truncation of a request fails with an Error', () => {
  for (const [name, schema, bytes] of cases) {
    // One top-level field spans the body, so every strict prefix but the empty one is incomplete.
    assert.ok(bytes.length > 40, name);
    for (let cut = 1; cut < bytes.length; cut++) {
      const e = thrown(() => fromBinary(schema, bytes.subarray(0, cut)), `${name} cut at ${cut}`);
      assert.instance(e, Error, `${name} cut at ${cut}`);
    }
    assert.equal(fromBinary(schema, new Uint8Array(0)), create(schema));
  }
});

pb('wrong wire types that break the framing fail with an Error', () => {
  const rows: Array<[string, DescMessage, number[]]> = [
    ['message field as varint', ExportMetricsServiceRequestSchema, [0x08, 0x01]],
    ['varint field as length-delimited', ResourceSchema, [0x12, 0x01, 0x05]],
    ['fixed64 field as varint, body too short', NumberDataPointSchema, [0x18, 0x05]],
    ['double field as fixed32', NumberDataPointSchema, [0x25, 0, 0, 0, 0]],
    ['wire type 6 does not exist', NumberDataPointSchema, [0x1e, 0x05]],
    ['wire type 7 does not exist', NumberDataPointSchema, [0x1f, 0x05]],
    ['field number 0', NumberDataPointSchema, [0x00, 0x05]],
    ['end-group without a start', NumberDataPointSchema, [0x1c]],
    ['varint longer than 10 bytes', ResourceSchema, [0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
    ['length beyond the body', ResourceSchema, [0x0a, 0x7f, 0x00]],
    ['invalid UTF-8 in a string', ResourceSchema, [0x0a, 0x06, 0x0a, 0x02, 0xff, 0xfe, 0x12, 0x00]],
  ];
  for (const [what, schema, bytes] of rows) {
    const e = thrown(() => fromBinary(schema, new Uint8Array(bytes)), what);
    assert.instance(e, Error, what);
  }
});

pb('known gap: protobuf-es reads a known field by its declared type, whatever the wire type says', () => {
  // time_unix_nano (field 3, fixed64) tagged as varint (0x18) but followed by 8 bytes: read as fixed64.
  // A receiver that must refuse such input has to check wire types itself; see the report.
  const p = fromBinary(NumberDataPointSchema, new Uint8Array([0x18, 1, 0, 0, 0, 0, 0, 0, 0]));
  assert.is(p.timeUnixNano, 1n);
});

pb('seeded random corruption: an Error or a message that round-trips, never anything else', () => {
  const rand = prng(0x5eed);
  let failures = 0;
  for (let i = 0; i < 3000; i++) {
    const [, schema, original] = cases[i % cases.length]!;
    const bytes = original.slice();
    const flips = 1 + Math.floor(rand() * 3);
    for (let f = 0; f < flips; f++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
    let m: MessageShape<DescMessage>;
    try {
      m = fromBinary(schema, bytes);
    } catch (e) {
      assert.instance(e, Error, `iteration ${i}`);
      failures++;
      continue;
    }
    // Whatever was accepted (unknown fields included) must encode and decode back to itself.
    assert.equal(fromBinary(schema, toBinary(schema, m)), m, `iteration ${i}`);
  }
  assert.ok(failures > 300 && failures < 3000, `both outcomes occur (${failures} failures)`);
});

pb('unknown fields at every level are kept in $unknown and re-encoded byte for byte', () => {
  const w = new BinaryWriter();
  w.tag(1, WireType.LengthDelimited).fork(); // resource_metrics
  w.tag(1, WireType.LengthDelimited).fork(); // resource
  w.tag(1, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string('k');
  w.tag(2, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string('v').join().join();
  w.tag(77, WireType.LengthDelimited).string('future resource field');
  w.join();
  w.tag(2, WireType.LengthDelimited).fork(); // scope_metrics
  w.tag(2, WireType.LengthDelimited).fork(); // metric
  w.tag(1, WireType.LengthDelimited).string('g');
  w.tag(5, WireType.LengthDelimited).fork(); // gauge
  w.tag(1, WireType.LengthDelimited).fork(); // data point
  w.tag(3, WireType.Bit64).fixed64(42n);
  w.tag(6, WireType.Bit64).sfixed64(-1n);
  w.tag(40, WireType.Bit32).fixed32(7);
  w.tag(41, WireType.Bit64).fixed64(8n);
  w.join().join();
  w.tag(13, WireType.Varint).uint32(1); // a Metric field added after v1.11
  w.join().join();
  w.tag(50, WireType.Varint).uint32(7);
  w.join();
  w.tag(99, WireType.LengthDelimited).bytes(new Uint8Array([1, 2, 3]));
  const bytes = w.finish();

  const m = fromBinary(ExportMetricsServiceRequestSchema, bytes);
  assert.equal(
    m.$unknown?.map((u) => [u.no, u.wireType]),
    [[99, WireType.LengthDelimited]],
  );
  const rm = m.resourceMetrics[0]!;
  assert.equal(
    rm.$unknown?.map((u) => u.no),
    [50],
  );
  assert.equal(
    rm.resource?.$unknown?.map((u) => u.no),
    [77],
  );
  assert.is(rm.resource?.attributes[0]?.key, 'k');
  const metric = rm.scopeMetrics[0]!.metrics[0]!;
  assert.equal(
    metric.$unknown?.map((u) => u.no),
    [13],
  );
  assert.is(metric.data.case, 'gauge');
  if (metric.data.case === 'gauge') {
    const p = metric.data.value.dataPoints[0]!;
    assert.is(p.timeUnixNano, 42n);
    assert.equal(p.value, { case: 'asInt', value: -1n });
    assert.equal(
      p.$unknown?.map((u) => [u.no, u.wireType]),
      [
        [40, WireType.Bit32],
        [41, WireType.Bit64],
      ],
    );
  }
  assert.equal(toBinary(ExportMetricsServiceRequestSchema, m), bytes);
});

pb('unknown fields survive our receiver and do not fail the request', async () => {
  const rx = await startReceiver({ grpc: false });
  try {
    const known = toBinary(ExportTraceServiceRequestSchema, traces);
    const w = new BinaryWriter();
    w.raw(known);
    w.tag(1000, WireType.Varint).uint32(5);
    const body = w.finish();
    const res = await fetch(rx.httpEndpoint('traces'), {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-protobuf' },
      signal: AbortSignal.timeout(2000),
    });
    assert.is(res.status, 200);
    const r = await rx.waitFor(ofSignal('traces'));
    assert.equal(
      r.message.$unknown?.map((u) => u.no),
      [1000],
    );
    assert.equal(toBinary(ExportTraceServiceRequestSchema, r.message), body);
  } finally {
    await rx.close();
  }
});

// ---- JSON ----------------------------------------------------------------------------------

const js = suite('interop/bad input: OTLP/JSON');

js('invalid JSON and non-object documents fail with OtlpJsonError at $', () => {
  for (const text of ['', '{', '{"resourceMetrics": [', 'nul', '{"a":1,}', "{'a':1}", 'null', '[]', '"text"', '42']) {
    const e = jsonError(ExportMetricsServiceRequestSchema, text);
    assert.is(e.path, '$', text);
  }
  const badUtf8 = new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]);
  const e = thrown(() => decodeJson(ExportMetricsServiceRequestSchema, badUtf8), 'bad UTF-8');
  assert.instance(e, OtlpJsonError);
});

js('wrong shapes name the offending field', () => {
  assert.is(jsonError(ExportMetricsServiceRequestSchema, '{"resourceMetrics":{}}').path, '$.resourceMetrics');
  assert.match(jsonError(ExportMetricsServiceRequestSchema, '{"resourceMetrics":[null]}').path, /^\$\.resourceMetrics/);
  const e = jsonError(ExportMetricsServiceRequestSchema, '{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":5}]}]}]}');
  assert.is(e.path, '$.resourceMetrics[0].scopeMetrics[0].metrics[0].name');
});

js('unknown fields are ignored at every level, ids still rewritten around them', () => {
  const withUnknown = `{
    "resourceSpans": [{
      "resource": {"attributes": [], "entityRefsFromTheFuture": [{"x": 1}]},
      "scopeSpans": [{
        "spans": [{
          "traceId": "01010101010101010101010101010101", "spanId": "0202020202020202",
          "name": "op", "futureField": {"nested": [1, 2, {"traceId": "not hex, not an id here"}]},
          "links": [{"traceId": "04040404040404040404040404040404", "spanId": "0505050505050505", "newLinkField": true}]
        }],
        "newScopeSpansField": "x"
      }]
    }],
    "newTopLevel": 1
  }`;
  const m = decodeJson(ExportTraceServiceRequestSchema, withUnknown);
  const span = m.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
  assert.equal(span.traceId, new Uint8Array(16).fill(1));
  assert.equal(span.spanId, new Uint8Array(8).fill(2));
  assert.equal(span.links[0]?.traceId, new Uint8Array(16).fill(4));
  assert.is(span.name, 'op');
  assert.is(m.$unknown, undefined, 'JSON keeps nothing of unknown fields');
  // An enum name from a newer schema is an unknown value: ignored, the field stays at its default.
  const e = decodeJson(
    ExportMetricsServiceRequestSchema,
    '{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m",' +
      '"sum":{"aggregationTemporality":"AGGREGATION_TEMPORALITY_FUTURE","isMonotonic":true}}]}]}]}',
  );
  const sum = e.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.data;
  assert.ok(sum.case === 'sum' && sum.value.aggregationTemporality === 0 && sum.value.isMonotonic);
});

js('ids: bad hex, wrong length and non-strings fail naming the field; upper case and "" accepted', () => {
  const span = (fields: string) => `{"resourceSpans":[{"scopeSpans":[{"spans":[{${fields}}]}]}]}`;
  const at = '$.resourceSpans[0].scopeSpans[0].spans[0]';
  const rows: Array<[string, string]> = [
    ['"traceId":"zz010101010101010101010101010101"', `${at}.traceId`],
    ['"traceId":"0101010101010101010101010101010"', `${at}.traceId`],
    ['"traceId":"AQEBAQEBAQEBAQEBAQEBAQ=="', `${at}.traceId`],
    ['"spanId":"02020202020202"', `${at}.spanId`],
    ['"spanId":123', `${at}.spanId`],
    ['"parentSpanId":"0g02020202020202"', `${at}.parentSpanId`],
    ['"parent_span_id":"0x02020202020202"', `${at}.parent_span_id`],
    ['"links":[{"spanId":"05050505050505-5"}]', `${at}.links[0].spanId`],
  ];
  for (const [fields, path] of rows) {
    const e = jsonError(ExportTraceServiceRequestSchema, span(fields));
    assert.is(e.path, path, fields);
  }
  const log = jsonError(ExportLogsServiceRequestSchema, '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"xyz"}]}]}]}');
  assert.is(log.path, '$.resourceLogs[0].scopeLogs[0].logRecords[0].traceId');
  const exemplar = jsonError(
    ExportMetricsServiceRequestSchema,
    '{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[{"exemplars":[{"spanId":"nothex!!nothex!!"}]}]}}]}]}]}',
  );
  assert.is(exemplar.path, '$.resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0].exemplars[0].spanId');

  const ok = decodeJson(ExportTraceServiceRequestSchema, span('"traceId":"ABCDEF0123456789ABCDEF0123456789","spanId":"","trace_state":"k=v"'));
  const s = ok.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
  assert.is(Buffer.from(s.traceId).toString('hex'), 'abcdef0123456789abcdef0123456789');
  assert.is(s.spanId.length, 0);
  assert.is(s.traceState, 'k=v');
});

js('int64 as number and as string, signed and unsigned, with limits', () => {
  const point = (fields: string) => `{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[{${fields}}]}}]}]}]}`;
  const first = (text: string) => {
    const d = decodeJson(ExportMetricsServiceRequestSchema, text).resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.data;
    if (d.case !== 'gauge') throw new Error('not a gauge');
    return d.value.dataPoints[0]!;
  };
  assert.equal(first(point('"asInt":42')).value, { case: 'asInt', value: 42n });
  assert.equal(first(point('"asInt":"42"')).value, { case: 'asInt', value: 42n });
  assert.equal(first(point('"asInt":-7')).value, { case: 'asInt', value: -7n });
  assert.equal(first(point('"asInt":"-9223372036854775808"')).value, { case: 'asInt', value: -9223372036854775808n });
  assert.equal(first(point('"asInt":"9223372036854775807"')).value, { case: 'asInt', value: 9223372036854775807n });
  assert.is(first(point('"timeUnixNano":"18446744073709551615"')).timeUnixNano, 18446744073709551615n);
  assert.is(first(point('"timeUnixNano":1700000000000000000')).timeUnixNano, 1_700_000_000_000_000_000n);
  assert.is(first(point('"time_unix_nano":"1700000000000000001"')).timeUnixNano, 1_700_000_000_000_000_001n);
  // Beyond 2^53 both forms are exact: the decoder does not let JSON.parse round integer literals.
  assert.is(first(point('"asInt":"9007199254740993"')).value.value, 9007199254740993n);
  assert.is(first(point('"asInt":9007199254740993')).value.value, 9007199254740993n);
  assert.is(first(point('"asInt":-9223372036854775808')).value.value, -9223372036854775808n);
  assert.is(first(point('"timeUnixNano":18446744073709551615')).timeUnixNano, 18446744073709551615n);
  // ...while a big integer literal in a double field is still that double.
  assert.equal(first(point('"asDouble":12345678901234567890')).value, { case: 'asDouble', value: 12345678901234567890 });

  const at = '$.resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0]';
  for (const [fields, field] of [
    ['"asInt":1.5', 'asInt'],
    ['"asInt":"1.5"', 'asInt'],
    ['"asInt":"12abc"', 'asInt'],
    ['"asInt":"9223372036854775808"', 'asInt'],
    ['"asInt":true', 'asInt'],
    ['"timeUnixNano":"-1"', 'timeUnixNano'],
    ['"timeUnixNano":"18446744073709551616"', 'timeUnixNano'],
  ] as const) {
    assert.is(jsonError(ExportMetricsServiceRequestSchema, point(fields)).path, `${at}.${field}`, fields);
  }

  const any = decodeJson(
    ExportLogsServiceRequestSchema,
    '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"arrayValue":{"values":' +
      '[{"intValue":"5"},{"intValue":6},{"intValue":"-9223372036854775808"}]}}}]}]}]}',
  );
  const body = any.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.body?.value;
  assert.ok(body?.case === 'arrayValue');
  if (body?.case === 'arrayValue')
    assert.equal(
      body.value.values.map((v) => v.value.value),
      [5n, 6n, -9223372036854775808n],
    );
  const bad = jsonError(ExportLogsServiceRequestSchema, '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"intValue":"x"}}]}]}]}');
  assert.is(bad.path, '$.resourceLogs[0].scopeLogs[0].logRecords[0].body.intValue');
});

pb.run();
js.run();
