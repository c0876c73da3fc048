/**
 * Wire writers for the OTLP common messages (AnyValue, KeyValue, Resource,
 * InstrumentationScope), written straight to a protobuf-es `BinaryWriter`.
 * Field numbers are those of proto/opentelemetry/proto/common/v1/common.proto and
 * resource/v1/resource.proto; tests compare the bytes with `toBinary`.
 */
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import type { AnyValueInput, Attributes, AttributeValue, ScopeInfo } from '../types.js';

const LEN = WireType.LengthDelimited;
const VARINT = WireType.Varint;
const BIT64 = WireType.Bit64;

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
      else w.tag(4, BIT64).double(v);
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
export function writeKeyValues(
  w: BinaryWriter,
  fieldNo: number,
  attrs: Attributes | { readonly [key: string]: AnyValueInput },
): void {
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
