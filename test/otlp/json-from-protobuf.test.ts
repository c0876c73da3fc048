import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DescField, DescMessage } from '@bufbuild/protobuf';
import { ScalarType } from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { ExportLogsServiceRequestSchema, ExportLogsServiceResponseSchema } from '../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import {
  ExportMetricsServiceRequestSchema,
  ExportMetricsServiceResponseSchema,
} from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import {
  ExportTraceServiceRequestSchema,
  ExportTraceServiceResponseSchema,
} from '../../gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js';
import { AnyValueSchema, KeyValueSchema } from '../../gen/opentelemetry/proto/common/v1/common_pb.js';
import { NumberDataPointSchema } from '../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import { SpanSchema } from '../../gen/opentelemetry/proto/trace/v1/trace_pb.js';
import { encodeJson, encodeJsonString } from '../../src/otlp/json.js';
import { protobufToJson } from '../../src/otlp/json-from-protobuf.js';
import { WireFormatError } from '../../src/otlp/scan.js';
import { protobufToJsonBody } from '../../src/transport/json-body.js';
import { prng } from '../support/prng.js';

// ---- seeded random messages covering every field ------------------------------------

type Rng = () => number;
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;

const DOUBLES = [
  0,
  -0,
  1,
  -1,
  0.5,
  1e-300,
  5e-324,
  1.7976931348623157e308,
  123456.789,
  -2.5e21,
  1e21,
  0.1,
  NaN,
  Infinity,
  -Infinity,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 53 + 2,
];
const STRINGS = [
  '',
  'a',
  'http.route',
  '/api/v1/items/7',
  'quote " backslash \\ slash /',
  'ctl \u0000\u0001\b\t\n\f\r\u001f\u007f',
  'héllo wörld',
  '日本語テキスト',
  'emoji 😀 🎉',
  '\ufeffBOM first',
  'line\u2028sep\u2029',
  'x'.repeat(300),
];
const U64 = [
  0n,
  1n,
  127n,
  128n,
  2n ** 32n - 1n,
  2n ** 32n,
  2n ** 53n - 1n,
  2n ** 53n,
  2n ** 53n + 1n,
  1_700_000_000_123_456_789n,
  10n ** 19n,
  2n ** 64n - 1n,
];
const I64 = [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), -(2n ** 53n) - 1n, 9_007_199_254_740_993n, -1_234_567_890_123n];
const I32 = [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 300, -300];
const U32 = [0, 1, 255, 2 ** 32 - 1, 2 ** 31, 70_000];

function randomBytes(rng: Rng, ids: boolean): Uint8Array {
  const len = ids ? pick(rng, [0, 8, 16, 16, 8, 3]) : Math.floor(rng() * 12);
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = Math.floor(rng() * 256);
  return b;
}

function randomScalar(rng: Rng, field: DescField, scalar: ScalarType): unknown {
  switch (scalar) {
    case ScalarType.DOUBLE:
      return rng() < 0.5 ? pick(rng, DOUBLES) : (rng() - 0.5) * 10 ** Math.floor(rng() * 40 - 20);
    case ScalarType.FLOAT:
      return Math.fround(pick(rng, DOUBLES));
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return pick(rng, I32);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return pick(rng, U32);
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return pick(rng, I64);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return pick(rng, U64);
    case ScalarType.BOOL:
      return rng() < 0.5;
    case ScalarType.STRING:
      return pick(rng, STRINGS);
    case ScalarType.BYTES:
      return randomBytes(rng, field.name.endsWith('_id'));
  }
}

function randomValue(rng: Rng, field: DescField, depth: number): unknown {
  if (field.fieldKind === 'message' || (field.fieldKind === 'list' && field.listKind === 'message')) {
    return randomInit(rng, field.message, depth + 1);
  }
  if (field.fieldKind === 'enum' || (field.fieldKind === 'list' && field.listKind === 'enum')) {
    // Known values, and unknown ones (kept as numbers by protobuf).
    return rng() < 0.8 ? pick(rng, field.enum.values).number : pick(rng, [-1, 99, 2 ** 31 - 1]);
  }
  if (field.fieldKind === 'scalar' || (field.fieldKind === 'list' && field.listKind === 'scalar')) {
    return randomScalar(rng, field, field.scalar);
  }
  throw new Error(`unexpected field ${field.toString()}`);
}

/** An init object for `desc` with every field randomly set (zero, a value, several items) or left out. */
function randomInit(rng: Rng, desc: DescMessage, depth: number): Record<string, unknown> {
  const init: Record<string, unknown> = {};
  // Deep levels stay small so recursive AnyValues terminate.
  const fill = depth > 6 ? 0.15 : 0.8;
  for (const oneof of desc.oneofs) {
    if (rng() < fill) {
      const member = pick(rng, oneof.fields);
      init[oneof.localName] = { case: member.localName, value: randomValue(rng, member, depth) };
    }
  }
  for (const field of desc.fields) {
    if (field.oneof !== undefined || rng() >= fill) continue;
    if (field.fieldKind === 'list') {
      const n = depth > 6 ? Math.floor(rng() * 2) : Math.floor(rng() * 4);
      init[field.localName] = Array.from({ length: n }, () => randomValue(rng, field, depth));
    } else {
      init[field.localName] = randomValue(rng, field, depth);
    }
  }
  return init;
}

/** The reference: decode with protobuf-es, encode with encodeJson. */
function reference(schema: DescMessage, bytes: Uint8Array): unknown {
  return JSON.parse(encodeJsonString(schema, fromBinary(schema, bytes)));
}

function transcoded(schema: DescMessage, bytes: Uint8Array): unknown {
  return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(protobufToJson(schema, bytes)));
}

const SCHEMAS: readonly DescMessage[] = [
  ExportMetricsServiceRequestSchema,
  ExportLogsServiceRequestSchema,
  ExportTraceServiceRequestSchema,
  ExportMetricsServiceResponseSchema,
  ExportLogsServiceResponseSchema,
  ExportTraceServiceResponseSchema,
];

// ---- wire rewriting: the same messages written in non-canonical ways -------------------

/** One field as read off the wire: tag and raw value bytes (LEN payloads without their length). */
interface WireField {
  readonly no: number;
  readonly wt: number;
  readonly raw: Uint8Array;
}

function readFields(bytes: Uint8Array): WireField[] {
  const fields: WireField[] = [];
  let p = 0;
  const varint = (): number => {
    let r = 0;
    for (let s = 0; ; s += 7) {
      const b = bytes[p++]!;
      r += (b & 0x7f) * 2 ** s;
      if (b < 0x80) return r;
    }
  };
  while (p < bytes.length) {
    const tag = varint();
    const no = Math.floor(tag / 8);
    const wt = tag & 7;
    const start = p;
    if (wt === 0) varint();
    else if (wt === 1) p += 8;
    else if (wt === 5) p += 4;
    else {
      const n = varint();
      fields.push({ no, wt, raw: bytes.subarray(p, p + n) });
      p += n;
      continue;
    }
    fields.push({ no, wt, raw: bytes.subarray(start, p) });
  }
  return fields;
}

/**
 * Rewrites a message's encoding: fields in a random order (each field number keeps its
 * occurrences in order), unknown fields of every wire type inserted, packed runs split
 * in two, nested messages rewritten alike. Without `mix` protobuf decodes the result to
 * the same message and each field stays one run; with `mix` repeated runs are split by
 * other fields and some fields are written twice (merged or last-wins on decoding).
 */
function rewrite(rng: Rng, desc: DescMessage, bytes: Uint8Array, mix: boolean): Uint8Array {
  const fields = readFields(bytes);
  const w = new BinaryWriter();
  const numbers = [...new Set(fields.map((f) => f.no))];
  for (let i = numbers.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [numbers[i], numbers[j]] = [numbers[j]!, numbers[i]!];
  }
  let order: WireField[] = numbers.flatMap((no) => fields.filter((x) => x.no === no));
  if (mix) {
    // A random interleaving of the per-number queues, and some occurrences doubled.
    const queues = numbers.map((no) => fields.filter((x) => x.no === no));
    order = [];
    while (queues.some((q) => q.length > 0)) {
      const q = pick(
        rng,
        queues.filter((x) => x.length > 0),
      );
      const f = q.shift()!;
      order.push(f);
      if (rng() < 0.1) order.push(f);
    }
  }
  for (const f of order) {
    const no = f.no;
    const field = desc.fields.find((x) => x.number === no);
    if (rng() < 0.2) writeUnknown(rng, w);
    if (f.wt !== WireType.LengthDelimited) {
      w.tag(no, f.wt).raw(f.raw);
      continue;
    }
    const isMessage = field !== undefined && (field.fieldKind === 'message' || (field.fieldKind === 'list' && field.listKind === 'message'));
    const payload = isMessage ? rewrite(rng, field.message!, f.raw, mix) : f.raw;
    const packed =
      field !== undefined &&
      field.fieldKind === 'list' &&
      field.listKind === 'scalar' &&
      field.scalar !== ScalarType.STRING &&
      field.scalar !== ScalarType.BYTES;
    const width = packed
      ? field.scalar === ScalarType.DOUBLE || field.scalar === ScalarType.FIXED64
        ? 8
        : field.scalar === ScalarType.UINT64
          ? 0
          : 4
      : 0;
    if (packed && width > 0 && payload.length >= 2 * width && rng() < 0.5) {
      // Split a packed run in two; protobuf concatenates them.
      const cut = width * Math.floor(payload.length / width / 2);
      w.tag(no, WireType.LengthDelimited).bytes(payload.subarray(0, cut));
      w.tag(no, WireType.LengthDelimited).bytes(payload.subarray(cut));
    } else {
      w.tag(no, WireType.LengthDelimited).bytes(payload);
    }
  }
  if (rng() < 0.3) writeUnknown(rng, w);
  return w.finish();
}

function writeUnknown(rng: Rng, w: BinaryWriter): void {
  const no = pick(rng, [100, 999, 5000, 536_870_911]);
  switch (Math.floor(rng() * 5)) {
    case 0:
      w.tag(no, WireType.Varint).uint64(2n ** 63n + 5n);
      break;
    case 1:
      w.tag(no, WireType.Bit64).fixed64(7n);
      break;
    case 2:
      w.tag(no, WireType.Bit32).fixed32(7);
      break;
    case 3:
      w.tag(no, WireType.LengthDelimited).bytes(Uint8Array.from([1, 2, 3]));
      break;
    default:
      w.tag(no, WireType.StartGroup).tag(1, WireType.Varint).int32(5).tag(no, WireType.EndGroup);
  }
}

// ---- suites -----------------------------------------------------------------------------

const property = suite('otlp/json-from-protobuf property');

property('random messages of every signal transcode to the same JSON value as encodeJson (seeded)', () => {
  const rng = prng(20261123);
  let checked = 0;
  for (const schema of SCHEMAS) {
    for (let i = 0; i < 120; i++) {
      const message = create(schema, randomInit(rng, schema, 0));
      const bytes = toBinary(schema, message);
      const expected = JSON.parse(encodeJsonString(schema, message)) as unknown;
      assert.equal(transcoded(schema, bytes), expected, `${schema.typeName} #${i}`);
      checked++;
    }
  }
  assert.is(checked, 720);
});

property('the generator reaches every field of every message type', () => {
  const rng = prng(7);
  const seen = new Set<string>();
  const visit = (desc: DescMessage, value: unknown): void => {
    if (typeof value !== 'object' || value === null) return;
    const obj = value as Record<string, unknown>;
    for (const field of desc.fields) {
      const key = field.jsonName;
      if (obj[key] === undefined) continue;
      seen.add(`${desc.typeName}.${field.name}`);
      if (field.fieldKind === 'message') visit(field.message, obj[key]);
      if (field.fieldKind === 'list' && field.listKind === 'message') for (const item of obj[key] as unknown[]) visit(field.message, item);
    }
  };
  const all = new Set<string>();
  const collect = (desc: DescMessage): void => {
    for (const field of desc.fields) {
      const name = `${desc.typeName}.${field.name}`;
      if (all.has(name)) continue;
      all.add(name);
      if (field.message !== undefined) collect(field.message);
    }
  };
  for (const schema of SCHEMAS) {
    collect(schema);
    for (let i = 0; i < 120; i++) visit(schema, transcoded(schema, toBinary(schema, create(schema, randomInit(rng, schema, 0)))));
  }
  const missing = [...all].filter((n) => !seen.has(n));
  assert.equal(missing, []);
});

property('non-canonical encodings (shuffled, split, duplicated, unknown fields) match protobuf-es decoding (seeded)', () => {
  const rng = prng(42);
  for (const schema of SCHEMAS) {
    for (let i = 0; i < 60; i++) {
      const bytes = toBinary(schema, create(schema, randomInit(rng, schema, 0)));
      const rewritten = rewrite(rng, schema, bytes, false);
      assert.equal(transcoded(schema, rewritten), reference(schema, rewritten), `${schema.typeName} rewritten #${i}`);
      assert.equal(transcoded(schema, rewritten), transcoded(schema, bytes), `${schema.typeName} rewritten #${i} is the same message`);
      const mixed = rewrite(rng, schema, bytes, true);
      assert.equal(transcoded(schema, mixed), reference(schema, mixed), `${schema.typeName} mixed #${i}`);
      // Two encodings back to back merge (repeated fields append, singular ones: last wins).
      const other = toBinary(schema, create(schema, randomInit(rng, schema, 0)));
      const merged = new Uint8Array(bytes.length + other.length);
      merged.set(bytes);
      merged.set(other, bytes.length);
      assert.equal(transcoded(schema, merged), reference(schema, merged), `${schema.typeName} merged #${i}`);
    }
  }
});

const cases = suite('otlp/json-from-protobuf cases');

cases('canonical input (fields in number order, as toBinary writes) gives exactly the bytes of encodeJson', () => {
  const rng = prng(3);
  for (const schema of SCHEMAS) {
    for (let i = 0; i < 20; i++) {
      const message = create(schema, randomInit(rng, schema, 0));
      const ours = new TextDecoder().decode(protobufToJson(schema, toBinary(schema, message)));
      assert.is(ours, new TextDecoder().decode(encodeJson(schema, message)), `${schema.typeName} #${i}`);
    }
  }
});

cases('ids are hex, other bytes base64, 64-bit values decimal strings, -0 and specials as encodeJson', () => {
  const span = create(SpanSchema, {
    traceId: Uint8Array.from({ length: 16 }, (_, i) => i * 17),
    spanId: Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]),
    startTimeUnixNano: 2n ** 64n - 1n,
    attributes: [{ key: 'b', value: { value: { case: 'bytesValue', value: Uint8Array.from([0xff, 0xfe]) } } }],
  });
  assert.equal(transcoded(SpanSchema, toBinary(SpanSchema, span)), {
    traceId: '00112233445566778899aabbccddeeff',
    spanId: 'deadbeef00010203',
    startTimeUnixNano: '18446744073709551615',
    attributes: [{ key: 'b', value: { bytesValue: '//4=' } }],
  });
  const point = create(NumberDataPointSchema, { value: { case: 'asInt', value: -(2n ** 63n) }, flags: 1 });
  assert.equal(transcoded(NumberDataPointSchema, toBinary(NumberDataPointSchema, point)), { asInt: '-9223372036854775808', flags: 1 });
  for (const [v, json] of [
    [-0, 0],
    [NaN, 'NaN'],
    [-Infinity, '-Infinity'],
    [0.1, 0.1],
    [0, 0],
  ] as const) {
    const any = create(AnyValueSchema, { value: { case: 'doubleValue', value: v } });
    assert.equal(transcoded(AnyValueSchema, toBinary(AnyValueSchema, any)), { doubleValue: json });
  }
});

cases('strings: escapes as JSON.stringify, a leading U+FEFF kept, invalid UTF-8 refused as protobuf-es does', () => {
  for (const s of STRINGS) {
    const kv = create(KeyValueSchema, { key: s });
    const text = new TextDecoder().decode(protobufToJson(KeyValueSchema, toBinary(KeyValueSchema, kv)));
    assert.is(text, s === '' ? '{}' : `{"key":${JSON.stringify(s)}}`);
  }
  const invalid = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0x61, 0xf0, 0x9f, 0x98]];
  for (const bad of invalid) {
    const bytes = Uint8Array.from([0x0a, bad.length, ...bad]);
    assert.throws(() => fromBinary(KeyValueSchema, bytes), JSON.stringify(bad));
    assert.throws(
      () => protobufToJson(KeyValueSchema, bytes),
      (e: unknown) => e instanceof WireFormatError && /not valid UTF-8/.test(String(e)),
      JSON.stringify(bad),
    );
  }
  // Valid multi-byte sequences at every length, including the edges of each range.
  const edges = ['\u0080', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\uffff', '\u{10000}', '\u{10ffff}'];
  for (const s of edges) {
    const kv = create(KeyValueSchema, { key: `a${s}b` });
    assert.equal(transcoded(KeyValueSchema, toBinary(KeyValueSchema, kv)), { key: `a${s}b` });
  }
});

cases('malformed input is refused with WireFormatError naming the message type', () => {
  const bad: [string, number[]][] = [
    ['truncated length', [0x0a, 0x05, 0x61]],
    ['truncated varint', [0x08, 0x80]],
    ['truncated fixed64', [0x11, 1, 2, 3]],
    ['wrong wire type for a string', [0x0d, 1, 2, 3, 4]],
    ['field number 0', [0x00, 0x01]],
    ['wire type 7', [0x0f]],
    ['nested message past its parent', [0x12, 0x02, 0x12, 0x05]],
  ];
  for (const [what, bytes] of bad) {
    try {
      protobufToJson(KeyValueSchema, Uint8Array.from(bytes));
      assert.unreachable(what);
    } catch (e) {
      assert.instance(e, WireFormatError, what);
      assert.match((e as Error).message, /opentelemetry\.proto\.common\.v1\.|varint/, what);
    }
  }
  // The state is reset after a failure: the next call works.
  const ok = create(KeyValueSchema, { key: 'k' });
  assert.equal(transcoded(KeyValueSchema, toBinary(KeyValueSchema, ok)), { key: 'k' });
});

cases('nesting is bounded at 100 messages, as in protobuf-es', () => {
  // AnyValue{array_value: ArrayValue{values: [AnyValue{...}]}}: two messages per level.
  const nested = (levels: number): Uint8Array => {
    let inner: Uint8Array = Uint8Array.from([0x10, 0x01]); // bool_value: true
    for (let i = 0; i < levels; i++) {
      const w = new BinaryWriter();
      w.tag(1, WireType.LengthDelimited).bytes(inner); // ArrayValue.values
      const array = w.finish();
      inner = new BinaryWriter().tag(5, WireType.LengthDelimited).bytes(array).finish(); // AnyValue.array_value
    }
    return inner;
  };
  const ok = nested(49); // 99 messages
  assert.equal(transcoded(AnyValueSchema, ok), reference(AnyValueSchema, ok));
  const deep = nested(50); // 101 messages
  assert.throws(() => fromBinary(AnyValueSchema, deep));
  assert.throws(
    () => protobufToJson(AnyValueSchema, deep),
    (e: unknown) => e instanceof WireFormatError && /nested deeper than 100/.test(String(e)),
  );
  // Far deeper input fails the same way instead of exhausting the stack.
  assert.throws(
    () => protobufToJson(AnyValueSchema, nested(2000)),
    (e: unknown) => e instanceof WireFormatError,
  );
  assert.equal(transcoded(AnyValueSchema, ok), reference(AnyValueSchema, ok));
});

cases('input at an offset in a larger buffer, and outputs larger than the scratch buffer', () => {
  const message = create(ExportLogsServiceRequestSchema, {
    resourceLogs: [
      {
        scopeLogs: [
          {
            logRecords: Array.from({ length: 3000 }, (_, i) => ({
              body: { value: { case: 'stringValue' as const, value: `record ${i} ${'é'.repeat(20)}` } },
              timeUnixNano: BigInt(i) * 1_000_000_007n,
            })),
          },
        ],
      },
    ],
  });
  const bytes = toBinary(ExportLogsServiceRequestSchema, message);
  const padded = new Uint8Array(bytes.length + 10);
  padded.set(bytes, 7);
  const view = padded.subarray(7, 7 + bytes.length);
  assert.equal(transcoded(ExportLogsServiceRequestSchema, view), JSON.parse(encodeJsonString(ExportLogsServiceRequestSchema, message)));
  // The result is a view with at most 1/4 of its buffer spare, or an exact copy.
  for (let i = 0; i < 3; i++) {
    const json = protobufToJson(ExportLogsServiceRequestSchema, bytes);
    assert.ok(json.length * 4 >= json.buffer.byteLength * 3, `${json.length} bytes in a buffer of ${json.buffer.byteLength}`);
  }
});

cases('protobufToJsonBody uses the transcoder for each signal', () => {
  const rng = prng(11);
  for (const [signal, schema] of [
    ['metrics', ExportMetricsServiceRequestSchema],
    ['logs', ExportLogsServiceRequestSchema],
    ['traces', ExportTraceServiceRequestSchema],
  ] as const) {
    const message = create(schema, randomInit(rng, schema, 0));
    const body = protobufToJsonBody(signal, toBinary(schema, message));
    assert.equal(JSON.parse(new TextDecoder().decode(body)), JSON.parse(encodeJsonString(schema, message)));
  }
});

property.run();
cases.run();
