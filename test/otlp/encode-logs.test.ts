import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { create, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { BinaryWriter } from '../../src/otlp/encode/binary-writer.js';
import { ExportLogsServiceRequestSchema, type ExportLogsServiceRequest } from '../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import { LogRecordSchema } from '../../gen/opentelemetry/proto/logs/v1/logs_pb.js';
import { AnyValueSchema, type AnyValue } from '../../gen/opentelemetry/proto/common/v1/common_pb.js';
import { decodeExportRequest } from '../../src/otlp/decode.js';
import {
  encodeExportLogsRequest,
  encodeLogResource,
  encodeLogScope,
  writeLogRecordFields,
  type AnyValueMap,
  type EncodedLogScope,
  type LogRecordFields,
  type ScopedLogRecord,
} from '../../src/otlp/encode/logs.js';
import type { AnyValueInput } from '../../src/otlp/types.js';
import { prng } from '../support/prng.js';

type AnyValueInit = MessageInitShape<typeof AnyValueSchema>;

/** The generated-message form of our AnyValue input, following the same number rule. */
function anyValue(v: AnyValueInput): AnyValueInit {
  if (v === null || v === undefined) return {};
  if (typeof v === 'string') return { value: { case: 'stringValue', value: v } };
  if (typeof v === 'boolean') return { value: { case: 'boolValue', value: v } };
  if (typeof v === 'bigint') return { value: { case: 'intValue', value: v } };
  if (typeof v === 'number') {
    return Number.isInteger(v) && Math.abs(v) < 9.2e18
      ? { value: { case: 'intValue', value: BigInt(v) } }
      : { value: { case: 'doubleValue', value: v } };
  }
  if (v instanceof Uint8Array) return { value: { case: 'bytesValue', value: v } };
  if (Array.isArray(v)) return { value: { case: 'arrayValue', value: { values: (v as readonly AnyValueInput[]).map(anyValue) } } };
  return { value: { case: 'kvlistValue', value: { values: keyValues(v as AnyValueMap) } } };
}

function keyValues(m: AnyValueMap): { key: string; value: AnyValueInit }[] {
  return Object.entries(m)
    .filter(([, v]) => v !== undefined)
    .map(([key, v]) => ({ key, value: anyValue(v) }));
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
}

function genRecord(r: LogRecordFields): MessageInitShape<typeof LogRecordSchema> {
  return {
    timeUnixNano: r.timeUnixNano,
    observedTimeUnixNano: r.observedTimeUnixNano,
    severityNumber: r.severityNumber,
    severityText: r.severityText,
    ...(r.body !== undefined && r.body !== null && { body: anyValue(r.body) }),
    attributes: r.attributes === undefined ? [] : keyValues(r.attributes),
    droppedAttributesCount: r.droppedAttributesCount,
    flags: r.flags,
    traceId: hexBytes(r.traceId),
    spanId: hexBytes(r.spanId),
    eventName: r.eventName,
  };
}

function record(scope: EncodedLogScope, over: Partial<LogRecordFields> = {}): ScopedLogRecord {
  return {
    scope,
    timeUnixNano: 0n,
    observedTimeUnixNano: 0n,
    severityNumber: 0,
    severityText: '',
    body: undefined,
    attributes: undefined,
    droppedAttributesCount: 0,
    flags: 0,
    traceId: '',
    spanId: '',
    eventName: '',
    ...over,
  };
}

const full: Partial<LogRecordFields> = {
  timeUnixNano: 1_700_000_000_123_456_789n,
  observedTimeUnixNano: 1_700_000_000_999_000_001n,
  severityNumber: 17,
  severityText: 'ERROR',
  body: { msg: 'boom', n: 3 },
  attributes: { 'http.method': 'GET', code: 500, ratio: 0.25, ok: false },
  droppedAttributesCount: 2,
  flags: 1,
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  eventName: 'request.failed',
};

const test = suite('otlp/encode/logs');

test('one record with every field is byte-identical to toBinary', () => {
  const w = new BinaryWriter();
  const scope = encodeLogScope({ name: 's' });
  const r = record(scope, full);
  writeLogRecordFields(w, r);
  const ours = w.finish();
  assert.equal(ours, toBinary(LogRecordSchema, create(LogRecordSchema, genRecord(r))));
});

test('an empty record encodes to no bytes', () => {
  const w = new BinaryWriter();
  writeLogRecordFields(w, record(encodeLogScope({ name: '' })));
  assert.is(w.finish().length, 0);
});

test('request with resource, several scopes and schema urls is byte-identical to toBinary', () => {
  const resource = encodeLogResource({ 'service.name': 'checkout', pid: 42 }, 'https://opentelemetry.io/schemas/1.30.0');
  const a = encodeLogScope(
    { name: 'lib-a', version: '1.2.3', schemaUrl: 'https://a/schema', attributes: { team: 'x', nested: { k: [1, 'two'] } } },
    1,
  );
  const b = encodeLogScope({ name: 'lib-b' });
  const records = [
    record(a, { ...full, body: 'first' }),
    record(b, { severityNumber: 9, body: 'second', observedTimeUnixNano: 5n }),
    record(a, { body: 'third', attributes: { i: 7 } }),
  ];
  const ours = encodeExportLogsRequest(resource, records);
  const want = create(ExportLogsServiceRequestSchema, {
    resourceLogs: [
      {
        resource: { attributes: keyValues({ 'service.name': 'checkout', pid: 42 }) },
        schemaUrl: 'https://opentelemetry.io/schemas/1.30.0',
        scopeLogs: [
          {
            scope: { name: 'lib-a', version: '1.2.3', attributes: keyValues({ team: 'x', nested: { k: [1, 'two'] } }), droppedAttributesCount: 1 },
            schemaUrl: 'https://a/schema',
            logRecords: [genRecord(records[0]!), genRecord(records[2]!)],
          },
          { scope: { name: 'lib-b' }, logRecords: [genRecord(records[1]!)] },
        ],
      },
    ],
  });
  assert.equal(ours, toBinary(ExportLogsServiceRequestSchema, want));
  assert.equal(decodeExportRequest('logs', ours), want);
});

test('fields decode one by one', () => {
  const scope = encodeLogScope({ name: 'x' });
  const req: ExportLogsServiceRequest = decodeExportRequest('logs', encodeExportLogsRequest(encodeLogResource({}), [record(scope, full)]));
  const got = req.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
  assert.is(got.timeUnixNano, 1_700_000_000_123_456_789n);
  assert.is(got.observedTimeUnixNano, 1_700_000_000_999_000_001n);
  assert.is(got.severityNumber, 17);
  assert.is(got.severityText, 'ERROR');
  assert.is(got.eventName, 'request.failed');
  assert.is(got.flags, 1);
  assert.is(got.droppedAttributesCount, 2);
  assert.equal(got.traceId, hexBytes('0af7651916cd43dd8448eb211c80319c'));
  assert.equal(got.spanId, hexBytes('b7ad6b7169203331'));
  assert.equal(
    got.attributes.map((kv) => [kv.key, kv.value?.value.case]),
    [
      ['http.method', 'stringValue'],
      ['code', 'intValue'],
      ['ratio', 'doubleValue'],
      ['ok', 'boolValue'],
    ],
  );
  assert.is(got.body?.value.case, 'kvlistValue');
});

test('every AnyValue kind round-trips in body and attributes', () => {
  const kinds: Record<string, AnyValueInput> = {
    str: 'héllo ✓',
    emptyStr: '',
    int: -42,
    big: -(2n ** 63n),
    bigMax: 2n ** 63n - 1n,
    dbl: 3.5,
    nan: Number.NaN,
    inf: -Infinity,
    huge: 1e300,
    t: true,
    f: false,
    bytes: new Uint8Array([0, 1, 255]),
    emptyBytes: new Uint8Array(0),
    arr: ['a', 1, 2.5, true, null, new Uint8Array([9]), ['nested'], { in: 'array' }],
    emptyArr: [],
    map: { a: { b: { c: [1, { d: 'deep' }] } } },
    emptyMap: {},
    nil: null,
  };
  const scope = encodeLogScope({ name: 'kinds' });
  for (const [name, v] of Object.entries(kinds)) {
    const r = record(scope, { body: v, attributes: { [name]: v } });
    const body = encodeExportLogsRequest(encodeLogResource({}), [r]);
    const want = create(ExportLogsServiceRequestSchema, {
      resourceLogs: [{ resource: {}, scopeLogs: [{ scope: { name: 'kinds' }, logRecords: [genRecord(r)] }] }],
    });
    assert.equal(body, toBinary(ExportLogsServiceRequestSchema, want), name);
    const got = decodeExportRequest('logs', body).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    const wantValue: AnyValue = create(AnyValueSchema, anyValue(v));
    if (v === null) assert.is(got.body, undefined, name);
    else assert.equal(got.body, wantValue, name);
    assert.equal(got.attributes[0]?.value, wantValue, name);
  }
});

function randomValue(rnd: () => number, depth: number): AnyValueInput {
  const k = Math.floor(rnd() * (depth > 2 ? 6 : 8));
  switch (k) {
    case 0:
      return 'v' + Math.floor(rnd() * 1e6).toString(36);
    case 1:
      return Math.floor((rnd() - 0.5) * 2 ** 40);
    case 2:
      return rnd() * 1000 - 500;
    case 3:
      return rnd() < 0.5;
    case 4:
      return BigInt(Math.floor(rnd() * 2 ** 50)) * 4096n;
    case 5:
      return Uint8Array.from({ length: Math.floor(rnd() * 5) }, () => Math.floor(rnd() * 256));
    case 6:
      return Array.from({ length: Math.floor(rnd() * 4) }, () => randomValue(rnd, depth + 1));
    default: {
      const m: Record<string, AnyValueInput> = {};
      const n = Math.floor(rnd() * 4);
      for (let i = 0; i < n; i++) m['k' + i] = randomValue(rnd, depth + 1);
      return m;
    }
  }
}

function randomHex(rnd: () => number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += Math.floor(rnd() * 16).toString(16);
  return s.replace(/^0/, '1');
}

test('property: random batches over random scopes match toBinary (seeded)', () => {
  const rnd = prng(0x5eed);
  const resource = encodeLogResource({ 'service.name': 'prop' });
  const scopes = [encodeLogScope({ name: 'a' }), encodeLogScope({ name: 'b', version: '2' }), encodeLogScope({ name: 'c', schemaUrl: 'u' })];
  for (let round = 0; round < 50; round++) {
    const records: ScopedLogRecord[] = [];
    const n = 1 + Math.floor(rnd() * 12);
    for (let i = 0; i < n; i++) {
      const attrs: Record<string, AnyValueInput> = {};
      const na = Math.floor(rnd() * 5);
      for (let j = 0; j < na; j++) attrs['attr' + j] = randomValue(rnd, 0);
      const withTrace = rnd() < 0.5;
      records.push(
        record(scopes[Math.floor(rnd() * scopes.length)]!, {
          timeUnixNano: rnd() < 0.3 ? 0n : BigInt(Math.floor(rnd() * 2 ** 52)) * 1000n,
          observedTimeUnixNano: BigInt(Math.floor(rnd() * 2 ** 52)) * 1000n,
          severityNumber: Math.floor(rnd() * 25),
          severityText: rnd() < 0.5 ? '' : 'S' + i,
          body: rnd() < 0.2 ? undefined : randomValue(rnd, 0),
          attributes: na === 0 ? undefined : attrs,
          droppedAttributesCount: rnd() < 0.8 ? 0 : Math.floor(rnd() * 1000),
          flags: withTrace ? Math.floor(rnd() * 256) : 0,
          traceId: withTrace ? randomHex(rnd, 32) : '',
          spanId: withTrace ? randomHex(rnd, 16) : '',
          eventName: rnd() < 0.5 ? '' : 'e' + i,
        }),
      );
    }
    // Expected grouping: scopes in order of first appearance, records in order within each.
    const order: EncodedLogScope[] = [];
    for (const r of records) if (!order.includes(r.scope)) order.push(r.scope);
    const scopeInit = (s: EncodedLogScope): { name: string; version?: string } =>
      s === scopes[0] ? { name: 'a' } : s === scopes[1] ? { name: 'b', version: '2' } : { name: 'c' };
    const want = create(ExportLogsServiceRequestSchema, {
      resourceLogs: [
        {
          resource: { attributes: keyValues({ 'service.name': 'prop' }) },
          scopeLogs: order.map((s) => ({
            scope: scopeInit(s),
            schemaUrl: s.schemaUrl,
            logRecords: records.filter((r) => r.scope === s).map(genRecord),
          })),
        },
      ],
    });
    assert.equal(encodeExportLogsRequest(resource, records), toBinary(ExportLogsServiceRequestSchema, want), `round ${round}`);
  }
});

test.run();
