/**
 * Wire writers for the OTLP common messages (AnyValue, KeyValue, Resource,
 * InstrumentationScope), written straight to a `BinaryWriter` (binary-writer.ts).
 * Field numbers are those of proto/opentelemetry/proto/common/v1/common.proto and
 * resource/v1/resource.proto; tests compare the bytes with `toBinary`.
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { BinaryWriter } from './binary-writer.js';
import type {
  AnyValueSchema,
  EntityRefSchema,
  InstrumentationScopeSchema,
  KeyValueSchema,
} from '../../../gen/opentelemetry/proto/common/v1/common_pb.js';
import type { ResourceSchema } from '../../../gen/opentelemetry/proto/resource/v1/resource_pb.js';
import type { AnyValueInput, Attributes, AttributeValue, ScopeInfo } from '../types.js';
import { I64, LEN, VARINT } from '../wire.js';

/**
 * Writes the fields of an AnyValue message (not its tag or length).
 * Numbers follow the official JS SDK: integers become `int_value`, others `double_value`,
 * so attributes compare equal across implementations. `null`/`undefined` is the empty AnyValue.
 */
export function writeAnyValueFields(w: BinaryWriter, v: AnyValueInput): void {
  switch (typeof v) {
    case 'string':
      w.tag(1, LEN).string(v);
      return;
    case 'boolean':
      w.tag(2, VARINT).bool(v);
      return;
    case 'number':
      // Integral values beyond 2^63 cannot be an int64; keep them as doubles.
      if (Number.isInteger(v) && Math.abs(v) < 9.2e18) w.tag(3, VARINT).int64(v);
      else w.tag(4, I64).double(v);
      return;
    case 'bigint':
      w.tag(3, VARINT).int64(v);
      return;
    case 'object':
      if (v === null) return;
      if (v instanceof Uint8Array) {
        w.tag(7, LEN).bytes(v);
        return;
      }
      if (Array.isArray(v)) {
        w.tag(5, LEN).fork();
        for (const item of v as ReadonlyArray<AnyValueInput>) {
          w.tag(1, LEN).fork();
          writeAnyValueFields(w, item);
          w.join();
        }
        w.join();
        return;
      }
      w.tag(6, LEN).fork();
      writeKeyValues(w, 1, v as { readonly [key: string]: AnyValueInput });
      w.join();
      return;
    default:
      // Functions and symbols have no OTLP form; they encode as the empty value.
      return;
  }
}

/** Writes one `KeyValue` as field `fieldNo` of the enclosing message. */
export function writeKeyValue(w: BinaryWriter, fieldNo: number, key: string, value: AnyValueInput): void {
  w.tag(fieldNo, LEN).fork();
  w.tag(1, LEN).string(key);
  w.tag(2, LEN).fork();
  writeAnyValueFields(w, value);
  w.join();
  w.join();
}

/**
 * Writes every defined entry of `attrs` as a repeated `KeyValue` field `fieldNo`
 * (7 in NumberDataPoint, 9 in HistogramDataPoint, 1 in Resource, 3 in a scope, ...).
 */
export function writeKeyValues(w: BinaryWriter, fieldNo: number, attrs: Attributes | { readonly [key: string]: AnyValueInput }): void {
  for (const key in attrs) {
    const value = (attrs as { readonly [key: string]: AnyValueInput })[key];
    if (value === undefined) continue;
    writeKeyValue(w, fieldNo, key, value);
  }
}

/**
 * Encodes `attrs` once as repeated `KeyValue` fields numbered `fieldNo`, tags included,
 * so that a series can splice the same bytes into every point with `w.raw()`.
 */
export function encodeKeyValues(fieldNo: number, attrs: Attributes): Uint8Array {
  const w = new BinaryWriter();
  writeKeyValues(w, fieldNo, attrs);
  return w.finish();
}

/** Writes a `Resource` message body (attributes = 1, dropped_attributes_count = 2). */
export function writeResourceFields(w: BinaryWriter, attrs: Attributes, droppedAttributesCount = 0): void {
  writeKeyValues(w, 1, attrs);
  if (droppedAttributesCount > 0) w.tag(2, VARINT).uint32(droppedAttributesCount);
}

/** Writes an `InstrumentationScope` message body (name 1, version 2, attributes 3). */
export function writeScopeFields(w: BinaryWriter, scope: ScopeInfo): void {
  if (scope.name !== '') w.tag(1, LEN).string(scope.name);
  if (scope.version !== undefined && scope.version !== '') w.tag(2, LEN).string(scope.version);
  if (scope.attributes !== undefined) writeKeyValues(w, 3, scope.attributes);
}

/** Whether `v` is a valid attribute value (primitive or homogeneous primitive array). */
export function isAttributeValue(v: unknown): v is AttributeValue {
  switch (typeof v) {
    case 'string':
    case 'boolean':
    case 'number':
      return true;
    case 'object': {
      if (!Array.isArray(v)) return false;
      let kind: string | undefined;
      for (const item of v as unknown[]) {
        if (item === null || item === undefined) continue;
        const t = typeof item;
        if (t !== 'string' && t !== 'number' && t !== 'boolean') return false;
        if (kind === undefined) kind = t;
        else if (kind !== t) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

// --- Generated message shapes -------------------------------------------------------
// Writers for the gen types (or their init shapes, as `create()` accepts them), for
// encoders that walk a whole request (gateway, tests, the request encoder). Fields go
// in field-number order and proto3 zero values are omitted, as `toBinary` does, so the
// bytes are identical to it.

/** A generated `AnyValue`, or a plain object of the same shape with optional fields. */
export type AnyValueShape = MessageInitShape<typeof AnyValueSchema>;
/** A generated `KeyValue`, or its init shape. */
export type KeyValueShape = MessageInitShape<typeof KeyValueSchema>;
/** A generated `Resource`, or its init shape. */
export type ResourceShape = MessageInitShape<typeof ResourceSchema>;
/** A generated `InstrumentationScope`, or its init shape. */
export type InstrumentationScopeShape = MessageInitShape<typeof InstrumentationScopeSchema>;
/** A generated `EntityRef`, or its init shape. */
export type EntityRefShape = MessageInitShape<typeof EntityRefSchema>;

/** Writes the fields of a generated `AnyValue` (its oneof, when a case is set). */
export function writeAnyValueMessageFields(w: BinaryWriter, v: AnyValueShape): void {
  const value = v.value;
  if (value === undefined) return;
  switch (value.case) {
    case 'stringValue':
      w.tag(1, LEN).string(value.value);
      return;
    case 'boolValue':
      w.tag(2, VARINT).bool(value.value);
      return;
    case 'intValue':
      w.tag(3, VARINT).int64(value.value);
      return;
    case 'doubleValue':
      w.tag(4, I64).double(value.value);
      return;
    case 'arrayValue': {
      w.tag(5, LEN).fork();
      const values = value.value.values;
      if (values !== undefined) {
        for (let i = 0; i < values.length; i++) {
          w.tag(1, LEN).fork();
          writeAnyValueMessageFields(w, values[i]!);
          w.join();
        }
      }
      w.join();
      return;
    }
    case 'kvlistValue':
      w.tag(6, LEN).fork();
      writeKeyValueMessages(w, 1, value.value.values);
      w.join();
      return;
    case 'bytesValue':
      w.tag(7, LEN).bytes(value.value);
      return;
    default:
      return;
  }
}

/** Writes generated `KeyValue`s as the repeated field `fieldNo`; `undefined` writes nothing. */
export function writeKeyValueMessages(w: BinaryWriter, fieldNo: number, list: ReadonlyArray<KeyValueShape> | undefined): void {
  if (list === undefined) return;
  const tag = ((fieldNo << 3) | LEN) >>> 0;
  for (let i = 0; i < list.length; i++) {
    const kv = list[i]!;
    w.uint32(tag).fork();
    if (kv.key !== undefined && kv.key !== '') w.uint32(0x0a).string(kv.key);
    if (kv.value !== undefined) {
      w.uint32(0x12).fork();
      writeAnyValueMessageFields(w, kv.value);
      w.join();
    }
    w.join();
  }
}

/** Writes the fields of a generated `EntityRef`. */
function writeEntityRefFields(w: BinaryWriter, e: EntityRefShape): void {
  if (e.schemaUrl !== undefined && e.schemaUrl !== '') w.tag(1, LEN).string(e.schemaUrl);
  if (e.type !== undefined && e.type !== '') w.tag(2, LEN).string(e.type);
  if (e.idKeys !== undefined) for (const k of e.idKeys) w.tag(3, LEN).string(k);
  if (e.descriptionKeys !== undefined) for (const k of e.descriptionKeys) w.tag(4, LEN).string(k);
}

/** Writes the fields of a generated `Resource` (attributes 1, dropped 2, entity_refs 3). */
export function writeResourceMessageFields(w: BinaryWriter, r: ResourceShape): void {
  writeKeyValueMessages(w, 1, r.attributes);
  if (r.droppedAttributesCount !== undefined && r.droppedAttributesCount !== 0) {
    w.tag(2, VARINT).uint32(r.droppedAttributesCount);
  }
  const refs = r.entityRefs;
  if (refs === undefined) return;
  for (let i = 0; i < refs.length; i++) {
    w.tag(3, LEN).fork();
    writeEntityRefFields(w, refs[i]!);
    w.join();
  }
}

/** Writes the fields of a generated `InstrumentationScope` (name 1, version 2, attributes 3, dropped 4). */
export function writeScopeMessageFields(w: BinaryWriter, s: InstrumentationScopeShape): void {
  if (s.name !== undefined && s.name !== '') w.tag(1, LEN).string(s.name);
  if (s.version !== undefined && s.version !== '') w.tag(2, LEN).string(s.version);
  writeKeyValueMessages(w, 3, s.attributes);
  if (s.droppedAttributesCount !== undefined && s.droppedAttributesCount !== 0) {
    w.tag(4, VARINT).uint32(s.droppedAttributesCount);
  }
}
