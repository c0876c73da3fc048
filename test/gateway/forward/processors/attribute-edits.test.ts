/**
 * The `resource` processor on the bytes, checked against a reference edit of decoded
 * messages: random requests of the three signals (entries without a resource, empty and
 * duplicate attributes, every value kind, unknown fields) and random edit lists, seeded.
 * The processed body must decode (fromBinary) to the reference, and an entry no edit
 * touches must come back as the same bytes.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { WireType } from '@bufbuild/protobuf/wire';
import { ExportLogsServiceRequestSchema } from '../../../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import { ExportMetricsServiceRequestSchema } from '../../../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { ExportTraceServiceRequestSchema } from '../../../../gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js';
import { AnyValueSchema, ArrayValueSchema, KeyValueSchema } from '../../../../gen/opentelemetry/proto/common/v1/common_pb.js';
import type { AnyValue, KeyValue } from '../../../../gen/opentelemetry/proto/common/v1/common_pb.js';
import { ResourceSchema } from '../../../../gen/opentelemetry/proto/resource/v1/resource_pb.js';
import type { Resource } from '../../../../gen/opentelemetry/proto/resource/v1/resource_pb.js';
import type { AttributeEdit as ResourceEdit, EditValue } from '../../../../src/gateway/config/processors.js';
import { createChainCompiler, ProcessContext } from '../../../../src/gateway/forward/processors/chain.js';
import type { ProcessorChain } from '../../../../src/gateway/forward/processors/chain.js';
import { encodeJsonString } from '../../../../src/otlp/json.js';
import { scanRequest } from '../../../../src/otlp/scan.js';
import type { Signal } from '../../../../src/otlp/types.js';
import { below, pick, prng } from '../../../support/prng.js';
import type { Rng } from '../../../support/prng.js';

const test = suite('gateway/processors/resource');

const SCHEMAS = {
  metrics: ExportMetricsServiceRequestSchema,
  logs: ExportLogsServiceRequestSchema,
  traces: ExportTraceServiceRequestSchema,
} as const;
const KEYS = ['service.name', 'user.email', 'host.ip', 'a', 'région'];

// ---- the reference: the same edits on decoded messages --------------------------------

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The documented string form (docs/gateway.md, Processors). */
function stringForm(v: AnyValue | undefined): string {
  const value = v?.value;
  switch (value?.case) {
    case 'stringValue':
      return value.value;
    case 'boolValue':
      return String(value.value);
    case 'intValue':
      return value.value.toString();
    case 'doubleValue':
      return String(value.value);
    default:
      return encodeJsonString(AnyValueSchema, v ?? create(AnyValueSchema));
  }
}

function anyValue(v: EditValue): AnyValue {
  if (typeof v === 'string') return create(AnyValueSchema, { value: { case: 'stringValue', value: v } });
  if (typeof v === 'boolean') return create(AnyValueSchema, { value: { case: 'boolValue', value: v } });
  if (Number.isInteger(v) && Math.abs(v) < 9.2e18) return create(AnyValueSchema, { value: { case: 'intValue', value: BigInt(v) } });
  return create(AnyValueSchema, { value: { case: 'doubleValue', value: v } });
}

function referenceEdit(resource: Resource | undefined, edits: readonly ResourceEdit[]): Resource | undefined {
  let attrs: KeyValue[] = resource?.attributes ?? [];
  let changed = false;
  for (const e of edits) {
    const has = attrs.some((a) => a.key === e.key);
    const set = (): KeyValue => create(KeyValueSchema, { key: e.key, value: anyValue((e as { value: EditValue }).value) });
    if (e.action === 'insert' && !has) attrs = [...attrs, set()];
    else if ((e.action === 'update' || e.action === 'upsert') && has) attrs = attrs.map((a) => (a.key === e.key ? set() : a));
    else if (e.action === 'upsert') attrs = [...attrs, set()];
    else if (e.action === 'delete' && has) attrs = attrs.filter((a) => a.key !== e.key);
    else if (e.action === 'hash' && has) {
      attrs = attrs.map((a) => (a.key === e.key ? create(KeyValueSchema, { key: a.key, value: anyValue(sha256(stringForm(a.value))) }) : a));
    } else continue;
    changed = true;
  }
  if (!changed) return resource;
  const out = resource === undefined ? create(ResourceSchema) : { ...resource };
  out.attributes = attrs;
  return out;
}

// ---- random requests and edits -------------------------------------------------------

function randomValue(rng: Rng, depth = 0): AnyValue | undefined {
  const kinds = depth > 1 ? 6 : 9;
  switch (below(rng, kinds)) {
    case 0:
      return create(AnyValueSchema, { value: { case: 'stringValue', value: pick(rng, ['', 'alice@example.com', 'prod', 'héllo 😀']) } });
    case 1:
      return create(AnyValueSchema, { value: { case: 'boolValue', value: rng() < 0.5 } });
    case 2:
      return create(AnyValueSchema, { value: { case: 'intValue', value: pick(rng, [0n, 42n, -1n, 2n ** 63n - 1n, -(2n ** 63n)]) } });
    case 3:
      return create(AnyValueSchema, { value: { case: 'doubleValue', value: pick(rng, [0.5, -0, 1e21, NaN, -Infinity, 3]) } });
    case 4:
      return create(AnyValueSchema, { value: { case: 'bytesValue', value: new Uint8Array([1, 2, below(rng, 256)]) } });
    case 5:
      return rng() < 0.5 ? undefined : create(AnyValueSchema);
    case 6:
      return create(AnyValueSchema, { value: { case: 'arrayValue', value: { values: [randomValue(rng, depth + 1) ?? create(AnyValueSchema)] } } });
    default:
      return create(AnyValueSchema, {
        value: { case: 'kvlistValue', value: { values: [{ key: pick(rng, KEYS), value: randomValue(rng, depth + 1) }] } },
      });
  }
}

const unknownField = (rng: Rng) => ({ no: 1000 + below(rng, 50), wireType: WireType.Varint, data: new Uint8Array([below(rng, 128)]) });

function randomResource(rng: Rng): Resource | undefined {
  if (rng() < 0.2) return undefined;
  const r = create(ResourceSchema, {
    attributes: Array.from({ length: below(rng, 6) }, () => {
      const v = randomValue(rng);
      return create(KeyValueSchema, v === undefined ? { key: pick(rng, KEYS) } : { key: pick(rng, KEYS), value: v });
    }),
    droppedAttributesCount: rng() < 0.3 ? below(rng, 9) : 0,
    entityRefs: rng() < 0.2 ? [{ type: 'host', idKeys: ['host.id'] }] : [],
  });
  if (rng() < 0.3) r.$unknown = [unknownField(rng)];
  return r;
}

function randomRequest(signal: Signal, rng: Rng): MessageShape<DescMessage> {
  const n = below(rng, 5);
  const entry = (): Record<string, unknown> => {
    const e: Record<string, unknown> = { schemaUrl: rng() < 0.3 ? 'https://opentelemetry.io/schemas/1.26.0' : '' };
    const resource = randomResource(rng);
    if (resource !== undefined) e['resource'] = resource;
    if (signal === 'metrics') {
      e['scopeMetrics'] = [
        {
          scope: { name: 's' },
          metrics: [{ name: 'm', data: { case: 'gauge', value: { dataPoints: [{ timeUnixNano: 5n, value: { case: 'asInt', value: 1n } }] } } }],
        },
      ];
    } else if (signal === 'logs') {
      e['scopeLogs'] = [{ logRecords: [{ timeUnixNano: 5n, body: { value: { case: 'stringValue', value: 'x' } } }] }];
    } else {
      e['scopeSpans'] = [{ spans: [{ name: 'op', traceId: new Uint8Array(16).fill(1), spanId: new Uint8Array(8).fill(2) }] }];
    }
    return e;
  };
  const field = signal === 'metrics' ? 'resourceMetrics' : signal === 'logs' ? 'resourceLogs' : 'resourceSpans';
  const message = create(SCHEMAS[signal] as DescMessage, { [field]: Array.from({ length: n }, entry) });
  for (const e of (message as unknown as Record<string, Array<{ $unknown?: unknown }>>)[field]!) if (rng() < 0.3) e.$unknown = [unknownField(rng)];
  return message;
}

function randomEdits(rng: Rng): ResourceEdit[] {
  return Array.from({ length: 1 + below(rng, 4) }, () => {
    const action = pick(rng, ['insert', 'update', 'upsert', 'delete', 'hash'] as const);
    const key = pick(rng, KEYS);
    if (action === 'delete' || action === 'hash') return { action, key };
    return { action, key, value: pick<EditValue>(rng, ['prod', '', 7, -3, 0.25, 2 ** 70, true, false]) };
  });
}

// ---- the property -----------------------------------------------------------------------

function processBody(chain: ProcessorChain, signal: Signal, body: Uint8Array): { out: Uint8Array; same: boolean[] } {
  const scan = scanRequest(signal, body);
  const parts = scan.entries.map((e) => {
    const entry = body.subarray(e.start, e.end);
    const out = chain.processEntry(entry, new ProcessContext(signal));
    return { out, same: out === entry };
  });
  const out = new Uint8Array(parts.reduce((n, p) => n + p.out.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p.out, at);
    at += p.out.length;
  }
  return { out, same: parts.map((p) => p.same) };
}

for (const signal of ['metrics', 'logs', 'traces'] as const) {
  test(`${signal}: processed bytes decode to the reference edit (seeded, 400 cases)`, () => {
    const rng = prng(signal.length * 7919);
    const schema = SCHEMAS[signal] as DescMessage;
    const field = signal === 'metrics' ? 'resourceMetrics' : signal === 'logs' ? 'resourceLogs' : 'resourceSpans';
    for (let i = 0; i < 400; i++) {
      const request = randomRequest(signal, rng);
      const edits = randomEdits(rng);
      const chain = createChainCompiler().chain([{ kind: 'resource', edits }])!;
      const body = toBinary(schema, request);
      const { out, same } = processBody(chain, signal, body);
      const expected = fromBinary(schema, body) as unknown as Record<string, Array<{ resource?: Resource }>>;
      const untouched: boolean[] = [];
      for (const e of expected[field]!) {
        const edited = referenceEdit(e.resource, edits);
        untouched.push(edited === e.resource);
        if (edited === undefined) delete e.resource;
        else e.resource = edited;
      }
      const got = fromBinary(schema, out);
      const context = `case ${i}: ${JSON.stringify(edits)}`;
      assert.ok(Buffer.from(toBinary(schema, got)).equals(Buffer.from(toBinary(schema, expected as never))), context);
      assert.equal(same, untouched, `untouched entries are the same bytes (${context})`);
    }
  });
}

// ---- the string form, by example ---------------------------------------------------------

test('hash: the string form of each value kind', () => {
  const edits: ResourceEdit[] = [{ action: 'hash', key: 'k' }];
  const chain = createChainCompiler().chain([{ kind: 'resource', edits }])!;
  const rows: Array<[AnyValue['value'] | undefined, string]> = [
    [{ case: 'stringValue', value: 'alice@example.com' }, 'alice@example.com'],
    [{ case: 'boolValue', value: true }, 'true'],
    [{ case: 'intValue', value: -42n }, '-42'],
    [{ case: 'doubleValue', value: 0.5 }, '0.5'],
    [{ case: 'doubleValue', value: 1e21 }, '1e+21'],
    [{ case: 'bytesValue', value: new Uint8Array([1, 2]) }, '{"bytesValue":"AQI="}'],
    [
      { case: 'arrayValue', value: create(ArrayValueSchema, { values: [{ value: { case: 'stringValue', value: 'a' } }] }) },
      '{"arrayValue":{"values":[{"stringValue":"a"}]}}',
    ],
    [undefined, '{}'],
  ];
  for (const [value, form] of rows) {
    const request = create(ExportLogsServiceRequestSchema, {
      resourceLogs: [{ resource: { attributes: [value === undefined ? { key: 'k' } : { key: 'k', value: { value } }] } }],
    });
    const { out } = processBody(chain, 'logs', toBinary(ExportLogsServiceRequestSchema, request));
    const got = fromBinary(ExportLogsServiceRequestSchema, out).resourceLogs[0]!.resource!.attributes[0]!;
    assert.equal(got.value?.value, { case: 'stringValue', value: sha256(form) }, form);
  }
  assert.is(sha256('alice@example.com'), 'ff8d9819fc0e12bf0d24892e45987e249a28dce836a85cad60e28eaaa8c6d976');
});

test('equal configurations compile to one chain; route then upstream concatenates', () => {
  const c = createChainCompiler();
  const a = c.chain([{ kind: 'resource', edits: [{ action: 'delete', key: 'x' }] }]);
  const b = c.chain([{ kind: 'resource', edits: [{ action: 'delete', key: 'x' }] }]);
  const other = c.chain([{ kind: 'resource', edits: [{ action: 'delete', key: 'y' }] }]);
  assert.is(a, b);
  assert.is.not(a, other);
  assert.is(c.chain([]), null);
  assert.is(c.concat(null, a), a);
  assert.is(c.concat(a, null), a);
  assert.is(c.concat(null, null), null);
  const both = c.concat(a, other)!;
  assert.equal(
    both.processors.map((p) => (p.kind === 'resource' ? p.edits[0]!.key : p.kind)),
    ['x', 'y'],
  );
  assert.is(c.concat(a, other), both, 'interned too');
});

test.run();
