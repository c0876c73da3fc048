/**
 * Taking a resource entry apart at the resource and writing it back: what is a view of the
 * request, what is merged (a resource split over several fields), what is kept as bytes.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { ResourceSpansSchema } from '../../gen/opentelemetry/proto/trace/v1/trace_pb.js';
import { ResourceSchema } from '../../gen/opentelemetry/proto/resource/v1/resource_pb.js';
import { anyValueStringForm, buildEntry, encodeAttribute, readEntry, sameBytes } from '../../src/otlp/resource-entry.js';

const test = suite('otlp/resource-entry');

const str = (value: string) => ({ value: { case: 'stringValue' as const, value } });
const text = new TextDecoder();

/** The entry as field 1 of a request: tag 0x0a, length, message. */
function asEntry(message: Uint8Array): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, 2).bytes(message);
  return w.finish();
}

const spans = create(ResourceSpansSchema, {
  resource: {
    attributes: [
      { key: 'a', value: str('1') },
      { key: 'b', value: str('2') },
    ],
    droppedAttributesCount: 3,
  },
  scopeSpans: [{ spans: [{ name: 'op' }] }],
  schemaUrl: 'https://x',
});

test('the parts are views; written back with the same attributes, the entry decodes the same', () => {
  const entry = asEntry(toBinary(ResourceSpansSchema, spans));
  const parts = readEntry(entry);
  assert.is(parts.hasResource, true);
  assert.equal(
    parts.attributes.map((a) => text.decode(a.key)),
    ['a', 'b'],
  );
  assert.is(parts.attributes[0]!.field.buffer, entry.buffer, 'a view, not a copy');
  assert.is(parts.resourceRest.length, 1, 'dropped_attributes_count');
  assert.is(parts.entryRest.length, 1, 'scopes and schema_url: one run');
  assert.equal(
    [
      ...buildEntry(
        parts,
        parts.attributes.map((a) => a.field),
      ),
    ],
    [...entry],
    'resource first on the wire already: the same bytes',
  );
});

test('a resource split over two fields is merged, as a decoder merges it', () => {
  const first = toBinary(ResourceSchema, create(ResourceSchema, { attributes: [{ key: 'a', value: str('1') }] }));
  const second = toBinary(ResourceSchema, create(ResourceSchema, { attributes: [{ key: 'b', value: str('2') }] }));
  const w = new BinaryWriter();
  w.tag(1, 2).bytes(first);
  w.tag(3, 2).string('https://x');
  w.tag(1, 2).bytes(second);
  const message = w.finish();
  const parts = readEntry(asEntry(message));
  assert.equal(
    parts.attributes.map((a) => text.decode(a.key)),
    ['a', 'b'],
  );
  const written = buildEntry(
    parts,
    parts.attributes.map((a) => a.field),
  );
  const decode = (entry: Uint8Array) => fromBinary(ResourceSpansSchema, entry.subarray(2));
  assert.equal(decode(written), fromBinary(ResourceSpansSchema, message));
});

test('an entry without a resource has no resource part', () => {
  const parts = readEntry(asEntry(toBinary(ResourceSpansSchema, create(ResourceSpansSchema, { schemaUrl: 'https://x' }))));
  assert.is(parts.hasResource, false);
  assert.equal(parts.attributes, []);
});

test('encodeAttribute encodes as the library does; the string form reads it back', () => {
  const rows: Array<[string | number | boolean, string]> = [
    ['prod', 'prod'],
    [42, '42'],
    [-1, '-1'],
    [0.5, '0.5'],
    [2 ** 70, '1.1805916207174113e+21'],
    [true, 'true'],
  ];
  for (const [value, form] of rows) {
    const a = encodeAttribute('k', value);
    assert.ok(sameBytes(a.key, new TextEncoder().encode('k')));
    assert.is(text.decode(anyValueStringForm(a.value)), form, String(value));
  }
  assert.is(text.decode(anyValueStringForm(undefined)), '{}');
});

test.run();
