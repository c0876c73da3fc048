import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { BinaryWriter } from '../../src/otlp/encode/binary-writer.js';
import { ResourceSchema } from '../../gen/opentelemetry/proto/resource/v1/resource_pb.js';
import { InstrumentationScopeSchema } from '../../gen/opentelemetry/proto/common/v1/common_pb.js';
import {
  writeResourceFields,
  writeScopeFields,
  isAttributeValue,
  writeResourceMessageFields,
  writeScopeMessageFields,
  writeKeyValueMessages,
} from '../../src/otlp/encode/common.js';
import { KeyValueListSchema } from '../../gen/opentelemetry/proto/common/v1/common_pb.js';

const test = suite('otlp/encode/common');

test('resource attributes of every value kind match toBinary', () => {
  const w = new BinaryWriter();
  writeResourceFields(w, { s: 'x', b: true, i: 42, neg: -7, d: 1.5, arr: ['a', 'b'], nums: [1, 2.5], skip: undefined }, 3);
  const ours = w.finish();
  const want = create(ResourceSchema, {
    droppedAttributesCount: 3,
    attributes: [
      { key: 's', value: { value: { case: 'stringValue', value: 'x' } } },
      { key: 'b', value: { value: { case: 'boolValue', value: true } } },
      { key: 'i', value: { value: { case: 'intValue', value: 42n } } },
      { key: 'neg', value: { value: { case: 'intValue', value: -7n } } },
      { key: 'd', value: { value: { case: 'doubleValue', value: 1.5 } } },
      {
        key: 'arr',
        value: {
          value: {
            case: 'arrayValue',
            value: {
              values: [{ value: { case: 'stringValue', value: 'a' } }, { value: { case: 'stringValue', value: 'b' } }],
            },
          },
        },
      },
      {
        key: 'nums',
        value: {
          value: {
            case: 'arrayValue',
            value: {
              values: [{ value: { case: 'intValue', value: 1n } }, { value: { case: 'doubleValue', value: 2.5 } }],
            },
          },
        },
      },
    ],
  });
  assert.equal(ours, toBinary(ResourceSchema, want));
  assert.equal(fromBinary(ResourceSchema, ours), want);
});

test('scope omits empty version and keeps attributes', () => {
  const w = new BinaryWriter();
  writeScopeFields(w, { name: 'lib', version: '', attributes: { k: 'v' } });
  const got = fromBinary(InstrumentationScopeSchema, w.finish());
  assert.is(got.name, 'lib');
  assert.is(got.version, '');
  assert.is(got.attributes.length, 1);
  assert.is(got.attributes[0]?.key, 'k');
});

test('isAttributeValue accepts homogeneous arrays only', () => {
  assert.ok(isAttributeValue(['a', null, 'b']));
  assert.not.ok(isAttributeValue(['a', 1]));
  assert.not.ok(isAttributeValue({ a: 1 }));
  assert.not.ok(isAttributeValue(undefined));
});

test('generated Resource and InstrumentationScope shapes match toBinary', () => {
  const resource = create(ResourceSchema, {
    attributes: [
      { key: 'service.name', value: { value: { case: 'stringValue', value: 'svc' } } },
      { key: 'bytes', value: { value: { case: 'bytesValue', value: new Uint8Array([1, 2]) } } },
      { key: '', value: {} },
      { key: 'unset' },
    ],
    droppedAttributesCount: 4,
    entityRefs: [{ schemaUrl: 'u', type: 'service', idKeys: ['service.name'], descriptionKeys: ['a', 'b'] }, {}],
  });
  const w = new BinaryWriter();
  writeResourceMessageFields(w, resource);
  assert.equal(w.finish(), toBinary(ResourceSchema, resource));
  const scope = create(InstrumentationScopeSchema, {
    name: 'n',
    version: 'v',
    attributes: [{ key: 'k', value: { value: { case: 'doubleValue', value: -0 } } }],
    droppedAttributesCount: 1,
  });
  writeScopeMessageFields(w, scope);
  assert.equal(w.finish(), toBinary(InstrumentationScopeSchema, scope));
  // Init shapes with fields left out encode as their defaults.
  writeScopeMessageFields(w, {});
  assert.is(w.finish().length, 0);
});

test('nested AnyValue arrays and kvlists match toBinary', () => {
  const list = create(KeyValueListSchema, {
    values: [
      {
        key: 'outer',
        value: {
          value: {
            case: 'arrayValue',
            value: {
              values: [
                { value: { case: 'intValue', value: -(2n ** 63n) } },
                { value: { case: 'kvlistValue', value: { values: [{ key: 'in', value: { value: { case: 'boolValue', value: false } } }] } } },
                {},
              ],
            },
          },
        },
      },
    ],
  });
  const w = new BinaryWriter();
  writeKeyValueMessages(w, 1, list.values);
  assert.equal(w.finish(), toBinary(KeyValueListSchema, list));
});

test.run();
